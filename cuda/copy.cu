// Strided copy, fill and gradient-sum kernels (launchers in cuda/copy.hpp).
// One thread per output element, grid-stride; the strided copy decomposes the linear
// index over the shape, which is cheap next to the memory traffic.
#include <cstdint>

#include "check.cuh"
#include "patchnet/cuda/copy.hpp"

namespace patchnet::cuda {
namespace {

template <class T>
__global__ void strided_copy_kernel(const T* __restrict__ src, T* __restrict__ dst, StridedCopyParams p, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t rem = i, so = 0, dof = 0;
    for (int d = p.rank - 1; d >= 0; --d) {
      const int64_t k = rem % p.shape[d];
      rem /= p.shape[d];
      so += k * p.src_strides[d];
      dof += k * p.dst_strides[d];
    }
    dst[dof] = src[so];
  }
}

template <class T>
__global__ void fill_kernel(T* __restrict__ dst, int64_t n, T value) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    dst[i] = value;
}

template <class T>
__global__ void add_kernel(const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ out, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = a[i] + b[i];
}

}  // namespace

namespace impl {

template <class T>
void strided_copy(const T* src, T* dst, const StridedCopyParams& p, Stream s) {
  int64_t n = 1;
  for (int d = 0; d < p.rank; ++d) n *= p.shape[d];
  if (n == 0) return;
  strided_copy_kernel<<<detail::grid_for(n), 256, 0, detail::stream_of(s.handle)>>>(src, dst, p, n);
  PN_CUDA_CHECK_LAUNCH("strided_copy_kernel");
}

template <class T>
void fill(T* dst, int64_t n, T value, Stream s) {
  if (n == 0) return;
  fill_kernel<<<detail::grid_for(n), 256, 0, detail::stream_of(s.handle)>>>(dst, n, value);
  PN_CUDA_CHECK_LAUNCH("fill_kernel");
}

template <class T>
void add(const T* a, const T* b, T* out, int64_t n, Stream s) {
  if (n == 0) return;
  add_kernel<<<detail::grid_for(n), 256, 0, detail::stream_of(s.handle)>>>(a, b, out, n);
  PN_CUDA_CHECK_LAUNCH("add_kernel");
}

#define PATCHNET_INSTANTIATE(T)                                                  \
  template void strided_copy<T>(const T*, T*, const StridedCopyParams&, Stream); \
  template void fill<T>(T*, int64_t, T, Stream);                                 \
  template void add<T>(const T*, const T*, T*, int64_t, Stream);
PATCHNET_INSTANTIATE(float)
PATCHNET_INSTANTIATE(double)
PATCHNET_INSTANTIATE(int32_t)
PATCHNET_INSTANTIATE(int64_t)
PATCHNET_INSTANTIATE(uint8_t)
#undef PATCHNET_INSTANTIATE

}  // namespace impl

PN_CUDA_REGISTER(strided_copy, float, double, int32_t, int64_t, uint8_t);
PN_CUDA_REGISTER(fill, float, double, int32_t, int64_t, uint8_t);
PN_CUDA_REGISTER(add, float, double, int32_t, int64_t, uint8_t);

}  // namespace patchnet::cuda
