// CUDA launchers of the elementwise ops (cuda/elementwise.cu), float and double. The
// scalar functions are math/elementwise.hpp's, shared with the CPU loops.
#pragma once

#include <cstdint>

#include "patchnet/core/config.hpp"
#include "patchnet/cuda/launcher.hpp"
#include "patchnet/math/elementwise.hpp"

namespace patchnet::cuda {

// out (packed, `shape`) = op(a, b); a and b carry broadcast strides (0 on broadcast dims).
struct BinaryParams {
  int rank = 0;
  int64_t shape[kMaxDims] = {};
  int64_t a_strides[kMaxDims] = {};
  int64_t b_strides[kMaxDims] = {};
};

namespace impl {
template <class T>
void binary(math::BinaryOp op, const T* a, const T* b, T* out, const BinaryParams& p, Stream s = {});
// y[i] = op(x[i], scalar) over n packed elements.
template <class T>
void unary(math::UnaryOp op, const T* x, T* y, int64_t n, T scalar, Stream s = {});
// gx[i] = gy[i] * unary_grad(x[i], y[i]) for the functions of PATCHNET_UNARY_FUNCTIONS.
template <class T>
void unary_backward(math::UnaryOp op, const T* x, const T* y, const T* gy, T* gx, int64_t n, Stream s = {});
}  // namespace impl
PN_CUDA_LAUNCHER(binary)
PN_CUDA_LAUNCHER(unary)
PN_CUDA_LAUNCHER(unary_backward)

}  // namespace patchnet::cuda
