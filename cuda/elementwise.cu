// Elementwise kernels (launchers in cuda/elementwise.hpp). The scalar functions are
// math/elementwise.hpp's, the same code the CPU loops run.
#include <cstdint>

#include "check.cuh"
#include "patchnet/cuda/elementwise.hpp"

namespace patchnet::cuda {
namespace {

template <math::BinaryOp Op, class T>
__global__ void binary_kernel(const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ out, BinaryParams p,
                              int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t rem = i, ao = 0, bo = 0;
    for (int d = p.rank - 1; d >= 0; --d) {
      const int64_t k = rem % p.shape[d];
      rem /= p.shape[d];
      ao += k * p.a_strides[d];
      bo += k * p.b_strides[d];
    }
    out[i] = math::binary<Op>(a[ao], b[bo]);
  }
}

template <math::UnaryOp Op, class T>
__global__ void unary_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t n, T s) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = math::unary<Op>(x[i], s);
}

template <math::UnaryOp Op, class T>
__global__ void unary_backward_kernel(const T* __restrict__ x, const T* __restrict__ y, const T* __restrict__ gy,
                                      T* __restrict__ gx, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    gx[i] = gy[i] * math::unary_grad<Op>(x[i], y[i]);
}

}  // namespace

namespace impl {

template <class T>
void binary(math::BinaryOp op, const T* a, const T* b, T* out, const BinaryParams& p, Stream s) {
  int64_t n = 1;
  for (int d = 0; d < p.rank; ++d) n *= p.shape[d];
  if (n == 0) return;
  math::visit_binary(op, [&]<math::BinaryOp Op>() {
    binary_kernel<Op, T><<<detail::grid_for(n), 256, 0, detail::stream_of(s.handle)>>>(a, b, out, p, n);
  });
  PN_CUDA_CHECK_LAUNCH("binary_kernel");
}

template <class T>
void unary(math::UnaryOp op, const T* x, T* y, int64_t n, T scalar, Stream s) {
  if (n == 0) return;
  math::visit_unary(op, [&]<math::UnaryOp Op>() {
    unary_kernel<Op, T><<<detail::grid_for(n), 256, 0, detail::stream_of(s.handle)>>>(x, y, n, scalar);
  });
  PN_CUDA_CHECK_LAUNCH("unary_kernel");
}

template <class T>
void unary_backward(math::UnaryOp op, const T* x, const T* y, const T* gy, T* gx, int64_t n, Stream s) {
  if (n == 0) return;
  math::visit_unary(op, [&]<math::UnaryOp Op>() {
    if constexpr (math::is_unary_function(Op))
      unary_backward_kernel<Op, T><<<detail::grid_for(n), 256, 0, detail::stream_of(s.handle)>>>(x, y, gy, gx, n);
  });
  PN_CUDA_CHECK_LAUNCH("unary_backward_kernel");
}

template void binary<float>(math::BinaryOp, const float*, const float*, float*, const BinaryParams&, Stream);
template void binary<double>(math::BinaryOp, const double*, const double*, double*, const BinaryParams&, Stream);
template void unary<float>(math::UnaryOp, const float*, float*, int64_t, float, Stream);
template void unary<double>(math::UnaryOp, const double*, double*, int64_t, double, Stream);
template void unary_backward<float>(math::UnaryOp, const float*, const float*, const float*, float*, int64_t, Stream);
template void unary_backward<double>(math::UnaryOp, const double*, const double*, const double*, double*, int64_t,
                                     Stream);

}  // namespace impl

PN_CUDA_REGISTER(binary, float, double);
PN_CUDA_REGISTER(unary, float, double);
PN_CUDA_REGISTER(unary_backward, float, double);

}  // namespace patchnet::cuda
