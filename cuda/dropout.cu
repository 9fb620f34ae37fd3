// Dropout and drop-path kernels (launchers in cuda/dropout.hpp). The mask is never stored:
// each thread evaluates one Philox block (math::philox_block) and applies its 4 words to
// the 4 consecutive elements 4b .. 4b+3, the same words math::philox_word gives the CPU for
// those elements. The keep test is math::drop_factor, shared with the CPU loops.
#include <cstdint>

#include "check.cuh"
#include "patchnet/cuda/dropout.hpp"
#include "patchnet/math/dropout.hpp"
#include "patchnet/math/philox.hpp"

namespace patchnet::cuda {
namespace {

// 4 elements moved as one (16-byte float4 for float; two 16-byte halves for double).
template <class T>
struct alignas(4 * sizeof(T)) Quad {
  T v[4];
};

// Vec: x and y are aligned to 4 elements, so a full block of 4 moves as one Quad.
template <bool Vec, class T>
__global__ void dropout_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t n, uint64_t seed, uint64_t base,
                               uint32_t threshold, T scale) {
  const int64_t blocks = (n + 3) / 4;
  for (int64_t b = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; b < blocks; b += int64_t(gridDim.x) * blockDim.x) {
    const math::PhiloxBlock w = math::philox_block(seed, base + static_cast<uint64_t>(b));
    const int64_t i0 = 4 * b;
    if (Vec && i0 + 4 <= n) {
      Quad<T> q = reinterpret_cast<const Quad<T>*>(x)[b];
#pragma unroll
      for (int k = 0; k < 4; ++k) q.v[k] = q.v[k] * math::drop_factor(w.v[k], threshold, scale);
      reinterpret_cast<Quad<T>*>(y)[b] = q;
    } else {
#pragma unroll
      for (int k = 0; k < 4; ++k)
        if (i0 + k < n) y[i0 + k] = x[i0 + k] * math::drop_factor(w.v[k], threshold, scale);
    }
  }
}

template <class T>
__global__ void drop_path_factors_kernel(T* __restrict__ factor, int64_t N, uint64_t seed, uint64_t base,
                                         uint32_t threshold, T scale) {
  for (int64_t r = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; r < N; r += int64_t(gridDim.x) * blockDim.x)
    factor[r] = math::dropout_factor(seed, base, static_cast<uint64_t>(r), threshold, scale);
}

template <class T>
__global__ void scale_rows_kernel(const T* __restrict__ x, const T* __restrict__ factor, T* __restrict__ y, int64_t n,
                                  int64_t row_len) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = x[i] * factor[i / row_len];
}

}  // namespace

namespace impl {

template <class T>
void dropout_apply(const T* x, T* y, int64_t n, const DropoutParams& p, Stream s) {
  if (n <= 0) return;
  const int64_t blocks = (n + 3) / 4;
  const T scale = static_cast<T>(p.scale);
  const auto align = static_cast<uintptr_t>(4 * sizeof(T));
  const bool vec = reinterpret_cast<uintptr_t>(x) % align == 0 && reinterpret_cast<uintptr_t>(y) % align == 0;
  if (vec)
    dropout_kernel<true, T><<<detail::grid_for(blocks), 256, 0, detail::stream_of(s.handle)>>>(x, y, n, p.seed, p.base,
                                                                                               p.threshold, scale);
  else
    dropout_kernel<false, T><<<detail::grid_for(blocks), 256, 0, detail::stream_of(s.handle)>>>(x, y, n, p.seed, p.base,
                                                                                                p.threshold, scale);
  PN_CUDA_CHECK_LAUNCH("dropout_kernel");
}

template <class T>
void drop_path_factors(T* factor, int64_t N, uint64_t seed, uint64_t base, uint32_t threshold, T scale, Stream s) {
  if (N <= 0) return;
  drop_path_factors_kernel<<<detail::grid_for(N), 256, 0, detail::stream_of(s.handle)>>>(factor, N, seed, base,
                                                                                         threshold, scale);
  PN_CUDA_CHECK_LAUNCH("drop_path_factors_kernel");
}

template <class T>
void scale_rows(const T* x, const T* factor, T* y, int64_t rows, int64_t row_len, Stream s) {
  const int64_t n = rows * row_len;
  if (n <= 0) return;
  scale_rows_kernel<<<detail::grid_for(n), 256, 0, detail::stream_of(s.handle)>>>(x, factor, y, n, row_len);
  PN_CUDA_CHECK_LAUNCH("scale_rows_kernel");
}

#define PATCHNET_INSTANTIATE(T)                                                             \
  template void dropout_apply<T>(const T*, T*, int64_t, const DropoutParams&, Stream);      \
  template void drop_path_factors<T>(T*, int64_t, uint64_t, uint64_t, uint32_t, T, Stream); \
  template void scale_rows<T>(const T*, const T*, T*, int64_t, int64_t, Stream);
PATCHNET_INSTANTIATE(float)
PATCHNET_INSTANTIATE(double)
#undef PATCHNET_INSTANTIATE

}  // namespace impl

PN_CUDA_REGISTER(dropout_apply, float, double);
PN_CUDA_REGISTER(drop_path_factors, float, double);
PN_CUDA_REGISTER(scale_rows, float, double);

}  // namespace patchnet::cuda
