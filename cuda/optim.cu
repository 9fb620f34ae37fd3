// Optimizer update kernels (launchers in cuda/optim.hpp): one thread per element,
// grid-stride; the coefficients arrive by value, so a step needs no host-to-device copy.
#include <cstdint>

#include "check.cuh"
#include "patchnet/cuda/optim.hpp"

namespace patchnet::cuda {
namespace {

template <class T>
__global__ void adam_kernel(T* __restrict__ p, T* __restrict__ m, T* __restrict__ v, const T* __restrict__ g, int64_t n,
                            math::AdamCoeffs<T> c) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    math::adam_update(p[i], m[i], v[i], g[i], c);
}

template <class T>
__global__ void sgd_kernel(T* __restrict__ p, const T* __restrict__ g, int64_t n, math::SgdCoeffs<T> c) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    math::sgd_update(p[i], g[i], c);
}

template <bool Nesterov, class T>
__global__ void sgd_momentum_kernel(T* __restrict__ p, T* __restrict__ buf, const T* __restrict__ g, int64_t n,
                                    math::SgdCoeffs<T> c) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    math::sgd_momentum_update<Nesterov>(p[i], buf[i], g[i], c);
}

}  // namespace

namespace impl {

template <class T>
void adam_update(T* p, T* m, T* v, const T* g, int64_t n, const math::AdamCoeffs<T>& c, Stream s) {
  if (n == 0) return;
  adam_kernel<<<detail::grid_for(n), 256, 0, detail::stream_of(s.handle)>>>(p, m, v, g, n, c);
  PN_CUDA_CHECK_LAUNCH("adam_kernel");
}

template <class T>
void sgd_update(T* p, T* momentum_buffer, const T* g, int64_t n, const math::SgdCoeffs<T>& c, bool nesterov, Stream s) {
  if (n == 0) return;
  const cudaStream_t st = detail::stream_of(s.handle);
  if (!momentum_buffer) {
    sgd_kernel<<<detail::grid_for(n), 256, 0, st>>>(p, g, n, c);
    PN_CUDA_CHECK_LAUNCH("sgd_kernel");
  } else if (nesterov) {
    sgd_momentum_kernel<true><<<detail::grid_for(n), 256, 0, st>>>(p, momentum_buffer, g, n, c);
    PN_CUDA_CHECK_LAUNCH("sgd_momentum_kernel<nesterov>");
  } else {
    sgd_momentum_kernel<false><<<detail::grid_for(n), 256, 0, st>>>(p, momentum_buffer, g, n, c);
    PN_CUDA_CHECK_LAUNCH("sgd_momentum_kernel");
  }
}

#define PATCHNET_INSTANTIATE(T)                                                                    \
  template void adam_update<T>(T*, T*, T*, const T*, int64_t, const math::AdamCoeffs<T>&, Stream); \
  template void sgd_update<T>(T*, T*, const T*, int64_t, const math::SgdCoeffs<T>&, bool, Stream);
PATCHNET_INSTANTIATE(float)
PATCHNET_INSTANTIATE(double)
#undef PATCHNET_INSTANTIATE

}  // namespace impl

PN_CUDA_REGISTER(adam_update, float, double);
PN_CUDA_REGISTER(sgd_update, float, double);

}  // namespace patchnet::cuda
