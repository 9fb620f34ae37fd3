// GELU and ReLU kernels (launchers in cuda/activation.hpp): one thread per element,
// grid-stride. The scalar functions are math/activation.hpp's, shared with the CPU loops;
// on the device they use the CUDA math library's erf/exp.
#include <cstdint>

#include "check.cuh"
#include "patchnet/cuda/activation.hpp"
#include "patchnet/math/activation.hpp"

namespace patchnet::cuda {
namespace {

template <bool TanhApprox, class T>
__global__ void gelu_forward_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = TanhApprox ? math::gelu_tanh(x[i]) : math::gelu(x[i]);
}

template <bool TanhApprox, class T>
__global__ void gelu_backward_kernel(const T* __restrict__ x, const T* __restrict__ gy, T* __restrict__ gx, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    gx[i] = gy[i] * (TanhApprox ? math::gelu_tanh_grad(x[i]) : math::gelu_grad(x[i]));
}

template <class T>
__global__ void relu_forward_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = math::relu(x[i]);
}

template <class T>
__global__ void relu_backward_kernel(const T* __restrict__ y, const T* __restrict__ gy, T* __restrict__ gx, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    gx[i] = math::relu_grad_from_output(y[i], gy[i]);
}

}  // namespace

namespace impl {

template <class T>
void gelu_forward(const T* x, T* y, int64_t n, bool tanh_approx, Stream s) {
  if (n == 0) return;
  if (tanh_approx) gelu_forward_kernel<true, T><<<detail::grid_for(n), 256, 0, detail::stream_of(s.handle)>>>(x, y, n);
  else gelu_forward_kernel<false, T><<<detail::grid_for(n), 256, 0, detail::stream_of(s.handle)>>>(x, y, n);
  PN_CUDA_CHECK_LAUNCH("gelu_forward_kernel");
}

template <class T>
void gelu_backward(const T* x, const T* gy, T* gx, int64_t n, bool tanh_approx, Stream s) {
  if (n == 0) return;
  if (tanh_approx)
    gelu_backward_kernel<true, T><<<detail::grid_for(n), 256, 0, detail::stream_of(s.handle)>>>(x, gy, gx, n);
  else gelu_backward_kernel<false, T><<<detail::grid_for(n), 256, 0, detail::stream_of(s.handle)>>>(x, gy, gx, n);
  PN_CUDA_CHECK_LAUNCH("gelu_backward_kernel");
}

template <class T>
void relu_forward(const T* x, T* y, int64_t n, Stream s) {
  if (n == 0) return;
  relu_forward_kernel<<<detail::grid_for(n), 256, 0, detail::stream_of(s.handle)>>>(x, y, n);
  PN_CUDA_CHECK_LAUNCH("relu_forward_kernel");
}

template <class T>
void relu_backward(const T* y, const T* gy, T* gx, int64_t n, Stream s) {
  if (n == 0) return;
  relu_backward_kernel<<<detail::grid_for(n), 256, 0, detail::stream_of(s.handle)>>>(y, gy, gx, n);
  PN_CUDA_CHECK_LAUNCH("relu_backward_kernel");
}

#define PATCHNET_INSTANTIATE(T)                                                  \
  template void gelu_forward<T>(const T*, T*, int64_t, bool, Stream);            \
  template void gelu_backward<T>(const T*, const T*, T*, int64_t, bool, Stream); \
  template void relu_forward<T>(const T*, T*, int64_t, Stream);                  \
  template void relu_backward<T>(const T*, const T*, T*, int64_t, Stream);
PATCHNET_INSTANTIATE(float)
PATCHNET_INSTANTIATE(double)
#undef PATCHNET_INSTANTIATE

}  // namespace impl

PN_CUDA_REGISTER(gelu_forward, float, double);
PN_CUDA_REGISTER(gelu_backward, float, double);
PN_CUDA_REGISTER(relu_forward, float, double);
PN_CUDA_REGISTER(relu_backward, float, double);

}  // namespace patchnet::cuda
