// Group normalisation kernels (launchers and params in cpu/group_norm.hpp), the formulas of
// math/norm.hpp.
// NHWC x as [N, HW, C]; a group's values are the C / G consecutive channels of every pixel
// of one image. One block per (image, group) (grid-stride over the pairs): its threads read
// the group's values in a fixed order, sum in double, and reduce across the block by warp
// butterflies and then the warps' sums in order, so a result repeats bit for bit. Forward:
// the mean, then the sum of squared deviations (two passes, as the CPU), then y. Backward:
// the group's sums of g gamma and g gamma xhat, then dx and, for the parameter gradients,
// g xhat (the op sums it over the images and pixels with column_sum).
#include <algorithm>
#include <cstdint>

#include "check.cuh"
#include "reduce.cuh"
#include "patchnet/cpu/group_norm.hpp"
#include "patchnet/math/norm.hpp"

namespace patchnet::cuda {
namespace {

constexpr int kGroupThreads = 256;

// The sum of v over the block, returned to every thread; red holds one value per warp.
__device__ __forceinline__ double group_block_sum(double v, double* red) {
  v = detail::warp_sum(v);
  if (threadIdx.x % 32 == 0) red[threadIdx.x / 32] = v;
  __syncthreads();
  double total = 0;
  for (int w = 0; w < kGroupThreads / 32; ++w) total += red[w];
  __syncthreads();  // red is written again by the next call
  return total;
}

// Offset of value e of group (n, g): pixel e / Cg, channel g * Cg + e % Cg.
__device__ __forceinline__ int64_t group_offset(const math::GroupNormParams& p, int64_t ng, int64_t e) {
  const int64_t Cg = p.group_channels();
  return (ng / p.groups) * p.HW * p.C + (e / Cg) * p.C + (ng % p.groups) * Cg + e % Cg;
}

template <class T>
__global__ void __launch_bounds__(kGroupThreads)
    group_norm_forward_kernel(const T* __restrict__ x, const T* __restrict__ gamma, const T* __restrict__ beta,
                              T* __restrict__ y, T* __restrict__ mean, T* __restrict__ rstd, math::GroupNormParams p) {
  __shared__ double red[kGroupThreads / 32];
  const int64_t M = p.group_size(), Cg = p.group_channels();
  const double inv = 1.0 / static_cast<double>(M);
  for (int64_t ng = blockIdx.x; ng < p.N * p.groups; ng += gridDim.x) {
    double sum = 0;
    for (int64_t e = threadIdx.x; e < M; e += blockDim.x) sum += static_cast<double>(x[group_offset(p, ng, e)]);
    const double m = group_block_sum(sum, red) * inv;
    double sq = 0;
    for (int64_t e = threadIdx.x; e < M; e += blockDim.x) {
      const double d = static_cast<double>(x[group_offset(p, ng, e)]) - m;
      sq += d * d;
    }
    const T mt = static_cast<T>(m), rs = static_cast<T>(math::norm_inv_std(group_block_sum(sq, red) * inv, p.eps));
    if (threadIdx.x == 0) {
      mean[ng] = mt;
      rstd[ng] = rs;
    }
    const int64_t c0 = (ng % p.groups) * Cg;
    for (int64_t e = threadIdx.x; e < M; e += blockDim.x) {
      const int64_t o = group_offset(p, ng, e), c = c0 + e % Cg;
      y[o] = math::layer_norm_apply(x[o], mt, rs, gamma[c], beta[c]);
    }
  }
}

template <class T>
__global__ void __launch_bounds__(kGroupThreads)
    group_norm_backward_kernel(const T* __restrict__ g, const T* __restrict__ x, const T* __restrict__ mean,
                               const T* __restrict__ rstd, const T* __restrict__ gamma, T* __restrict__ dx,
                               T* __restrict__ gxhat, math::GroupNormParams p) {
  __shared__ double red[kGroupThreads / 32];
  const int64_t M = p.group_size(), Cg = p.group_channels();
  const double inv = 1.0 / static_cast<double>(M);
  for (int64_t ng = blockIdx.x; ng < p.N * p.groups; ng += gridDim.x) {
    const T m = mean[ng], rs = rstd[ng];
    const int64_t c0 = (ng % p.groups) * Cg;
    if (dx) {
      double s1 = 0, s2 = 0;  // sum of gh, sum of gh * xhat
      for (int64_t e = threadIdx.x; e < M; e += blockDim.x) {
        const int64_t o = group_offset(p, ng, e);
        const double gh = static_cast<double>(g[o] * gamma[c0 + e % Cg]);
        s1 += gh;
        s2 += gh * static_cast<double>((x[o] - m) * rs);
      }
      const T c1 = static_cast<T>(group_block_sum(s1, red) * inv), c2 = static_cast<T>(group_block_sum(s2, red) * inv);
      for (int64_t e = threadIdx.x; e < M; e += blockDim.x) {
        const int64_t o = group_offset(p, ng, e);
        dx[o] = math::layer_norm_dx(g[o], gamma[c0 + e % Cg], x[o], m, rs, c1, c2);
      }
    }
    if (gxhat)
      for (int64_t e = threadIdx.x; e < M; e += blockDim.x) {
        const int64_t o = group_offset(p, ng, e);
        gxhat[o] = g[o] * ((x[o] - m) * rs);
      }
  }
}

unsigned group_blocks(const math::GroupNormParams& p) { return detail::capped_blocks(p.N * p.groups); }

}  // namespace

namespace impl {

template <class T>
void group_norm_forward(const T* x, const T* gamma, const T* beta, T* y, T* mean, T* rstd,
                        const math::GroupNormParams& p, Stream s) {
  if (p.N * p.groups == 0 || p.group_size() == 0) return;
  group_norm_forward_kernel<T>
      <<<group_blocks(p), kGroupThreads, 0, detail::stream_of(s.handle)>>>(x, gamma, beta, y, mean, rstd, p);
  PN_CUDA_CHECK_LAUNCH("group_norm_forward_kernel");
}

template <class T>
void group_norm_backward(const T* g, const T* x, const T* mean, const T* rstd, const T* gamma, T* dx, T* gxhat,
                         const math::GroupNormParams& p, Stream s) {
  if (p.N * p.groups == 0 || p.group_size() == 0 || (!dx && !gxhat)) return;
  group_norm_backward_kernel<T>
      <<<group_blocks(p), kGroupThreads, 0, detail::stream_of(s.handle)>>>(g, x, mean, rstd, gamma, dx, gxhat, p);
  PN_CUDA_CHECK_LAUNCH("group_norm_backward_kernel");
}

#define PATCHNET_INSTANTIATE(T)                                                                                        \
  template void group_norm_forward<T>(const T*, const T*, const T*, T*, T*, T*, const math::GroupNormParams&, Stream); \
  template void group_norm_backward<T>(const T*, const T*, const T*, const T*, const T*, T*, T*,                       \
                                       const math::GroupNormParams&, Stream);
PATCHNET_INSTANTIATE(float)
PATCHNET_INSTANTIATE(double)
#undef PATCHNET_INSTANTIATE

}  // namespace impl

PN_CUDA_REGISTER(group_norm_forward, float, double);
PN_CUDA_REGISTER(group_norm_backward, float, double);

}  // namespace patchnet::cuda
