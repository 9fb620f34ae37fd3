// cuBLAS matrix products (cuda/blas.cu), float and double, row-major like cpu::gemm.
// TF32 tensor-core math for float is off by default (results then match the CPU to
// float rounding); allow it with set_allow_tf32(true) for speed.
#pragma once

#include <cstdint>

#include "patchnet/cuda/launcher.hpp"

namespace patchnet::cuda {

namespace impl {
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
          int64_t ldb, T beta, T* C, int64_t ldc, int device = 0, Stream s = {});

void set_allow_tf32(bool allow);
bool allow_tf32();
}  // namespace impl
PN_CUDA_LAUNCHER(gemm)
PN_CUDA_FUNCTION(set_allow_tf32)
PN_CUDA_FUNCTION(allow_tf32)

}  // namespace patchnet::cuda
