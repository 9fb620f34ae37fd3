// cuBLAS matrix products (cuda/blas.cu), float and double, row-major like cpu::gemm.
// Float products follow the matmul precision policy (core/precision.hpp): exact float32 by
// default (results match the CPU to float rounding), TF32 or bf16 tensor-core math when set.
// K = 0 is BLAS's empty sum, C = beta C (zeros for beta 0, NaN in C included), done by a
// kernel of its own: cuBLAS rejects the leading dimensions of 0 such a product can have.
#pragma once

#include <cstdint>

#include "patchnet/cuda/launcher.hpp"

namespace patchnet::cuda {

namespace impl {
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
          int64_t ldb, T beta, T* C, int64_t ldc, int device = 0, Stream s = {});
}  // namespace impl
PN_CUDA_LAUNCHER(gemm)

}  // namespace patchnet::cuda
