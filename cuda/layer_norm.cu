// Layer normalisation kernels (launchers in cuda/norm.hpp) over the last dimension of a
// packed [rows, C] matrix (NHWC pixels or tokens of C channels).
//
// Forward, ln_forward_kernel: one warp per row (8 rows per block of 256), lanes striding
// the row V elements at a time. Sum, then the sum of squared deviations from the mean
// (two-pass, in double as the CPU), each reduced by a fixed xor butterfly; the row's
// second and third reads hit L1. Writes y and the row's mean and rstd (saved for backward).
// Backward: ln_dx_kernel, one warp per row (row sums of g gamma and g gamma xhat, then dx);
// ln_param_partial_kernel sums g xhat and g per row group into work[2][G][C] with the
// channel-tile mapping of cuda/norm.cuh (coalesced along C), and ln_param_final_kernel
// adds the G partials of each channel in a fixed order. No atomics.
#include <cstdint>

#include "norm.cuh"
#include "patchnet/cuda/norm.hpp"
#include "patchnet/math/norm.hpp"

namespace patchnet::cuda {
namespace {

using namespace norm_detail;
using namespace detail;  // reduce.cuh: warp_sum, row_grid

// Rows per block of the row kernels (one per warp). Their loops step by this constant, not
// by blockDim as reduce.cuh's first_row/row_step do: that gave ln_dx_kernel more registers.
inline constexpr int kRowsPerBlock = kRowThreads / 32;

template <class T, int V>
__global__ void __launch_bounds__(kRowThreads)
    ln_forward_kernel(const T* __restrict__ x, const T* __restrict__ gamma, const T* __restrict__ beta, int64_t rows,
                      int64_t C, double eps, T* __restrict__ y, T* __restrict__ mean, T* __restrict__ rstd) {
  const int lane = threadIdx.x % 32;
  const int64_t cv = C / V;
  const double inv_c = 1.0 / static_cast<double>(C);
  for (int64_t r = int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.x / 32; r < rows;
       r += int64_t(gridDim.x) * kRowsPerBlock) {
    const T* p = x + r * C;
    double sum = 0.0;
    for (int64_t i = lane; i < cv; i += 32) {
      const Vec<T, V> v = load_vec<T, V>(p + i * V);
#pragma unroll
      for (int j = 0; j < V; ++j) sum += static_cast<double>(v.v[j]);
    }
    const double m = warp_sum(sum) * inv_c;
    double sq = 0.0;
    for (int64_t i = lane; i < cv; i += 32) {
      const Vec<T, V> v = load_vec<T, V>(p + i * V);
#pragma unroll
      for (int j = 0; j < V; ++j) {
        const double d = static_cast<double>(v.v[j]) - m;
        sq += d * d;
      }
    }
    sq = warp_sum(sq);
    const T mt = static_cast<T>(m), rs = static_cast<T>(math::norm_inv_std(sq * inv_c, eps));
    if (lane == 0) {
      mean[r] = mt;
      rstd[r] = rs;
    }
    T* q = y + r * C;
    for (int64_t i = lane; i < cv; i += 32) {
      const Vec<T, V> v = load_vec<T, V>(p + i * V);
      const Vec<T, V> gv = load_vec<T, V>(gamma + i * V), bv = load_vec<T, V>(beta + i * V);
      Vec<T, V> o;
#pragma unroll
      for (int j = 0; j < V; ++j) o.v[j] = math::layer_norm_apply(v.v[j], mt, rs, gv.v[j], bv.v[j]);
      store_vec<T, V>(q + i * V, o);
    }
  }
}

template <class T, int V>
__global__ void __launch_bounds__(kRowThreads)
    ln_dx_kernel(const T* __restrict__ g, const T* __restrict__ x, const T* __restrict__ mean,
                 const T* __restrict__ rstd, const T* __restrict__ gamma, int64_t rows, int64_t C, T* __restrict__ dx) {
  const int lane = threadIdx.x % 32;
  const int64_t cv = C / V;
  const double inv_c = 1.0 / static_cast<double>(C);
  for (int64_t r = int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.x / 32; r < rows;
       r += int64_t(gridDim.x) * kRowsPerBlock) {
    const T* gp = g + r * C;
    const T* xp = x + r * C;
    const T m = mean[r], rs = rstd[r];
    double s1 = 0.0, s2 = 0.0;  // sum of gh = g gamma, sum of gh xhat
    for (int64_t i = lane; i < cv; i += 32) {
      const Vec<T, V> gv = load_vec<T, V>(gp + i * V), xv = load_vec<T, V>(xp + i * V),
                      wv = load_vec<T, V>(gamma + i * V);
#pragma unroll
      for (int j = 0; j < V; ++j) {
        const double gh = static_cast<double>(gv.v[j] * wv.v[j]);
        s1 += gh;
        s2 += gh * static_cast<double>((xv.v[j] - m) * rs);
      }
    }
    const T c1 = static_cast<T>(warp_sum(s1) * inv_c), c2 = static_cast<T>(warp_sum(s2) * inv_c);
    T* d = dx + r * C;
    for (int64_t i = lane; i < cv; i += 32) {
      const Vec<T, V> gv = load_vec<T, V>(gp + i * V), xv = load_vec<T, V>(xp + i * V),
                      wv = load_vec<T, V>(gamma + i * V);
      Vec<T, V> o;
#pragma unroll
      for (int j = 0; j < V; ++j) o.v[j] = math::layer_norm_dx(gv.v[j], wv.v[j], xv.v[j], m, rs, c1, c2);
      store_vec<T, V>(d + i * V, o);
    }
  }
}

// work[0][grp][c] = sum g xhat, work[1][grp][c] = sum g over the rows of group grp.
template <class T, int V>
__global__ void __launch_bounds__(kThreads)
    ln_param_partial_kernel(const T* __restrict__ g, const T* __restrict__ x, const T* __restrict__ mean,
                            const T* __restrict__ rstd, int64_t rows, int64_t C, Tile tile, int G,
                            double* __restrict__ part) {
  __shared__ double red[2 * V * kThreads];
  const int cl = threadIdx.x % tile.tc, lane = threadIdx.x / tile.tc;
  const int64_t cv = int64_t(blockIdx.x) * tile.tc + cl;
  const bool active = lane < tile.lanes && cv < tile.cv;
  const int64_t grp = blockIdx.y;
  const int64_t r0 = group_begin(grp, G, rows), r1 = group_begin(grp + 1, G, rows);
  double acc[2 * V];
#pragma unroll
  for (int k = 0; k < 2 * V; ++k) acc[k] = 0.0;
  if (active) {
    const int64_t c0 = cv * V;
#pragma unroll 4
    for (int64_t r = r0 + lane; r < r1; r += tile.lanes) {
      const Vec<T, V> gv = load_vec<T, V>(g + r * C + c0), xv = load_vec<T, V>(x + r * C + c0);
      const T m = mean[r], rs = rstd[r];
#pragma unroll
      for (int j = 0; j < V; ++j) {
        const double gd = static_cast<double>(gv.v[j]);
        acc[j] += gd * static_cast<double>((xv.v[j] - m) * rs);
        acc[V + j] += gd;
      }
    }
  }
  lane_reduce<2 * V>(acc, red, tile, lane);
  if (lane == 0 && cv < tile.cv) store_partials<V>(acc, part, grp, G, C, cv);
}

template <class T>
__global__ void __launch_bounds__(kThreads)
    ln_param_final_kernel(const double* __restrict__ part, int G, int64_t C, Tile tile, T* __restrict__ dgamma,
                          T* __restrict__ dbeta) {
  __shared__ double red[2 * kThreads];
  double acc[2];
  const int64_t c = channel_sums(part, G, C, tile, red, acc);
  if (c < 0) return;
  if (dgamma) dgamma[c] = static_cast<T>(acc[0]);
  if (dbeta) dbeta[c] = static_cast<T>(acc[1]);
}

template <class T, int V>
void launch_forward(const T* x, const T* gamma, const T* beta, T* y, T* mean, T* rstd, const LayerNormParams& p,
                    cudaStream_t st) {
  ln_forward_kernel<T, V>
      <<<row_grid(p.rows), kRowThreads, 0, st>>>(x, gamma, beta, p.rows, p.channels, p.eps, y, mean, rstd);
  PN_CUDA_CHECK_LAUNCH("ln_forward_kernel");
}

template <class T, int V>
void launch_dx(const T* g, const T* x, const T* mean, const T* rstd, const T* gamma, T* dx, const LayerNormParams& p,
               cudaStream_t st) {
  ln_dx_kernel<T, V><<<row_grid(p.rows), kRowThreads, 0, st>>>(g, x, mean, rstd, gamma, p.rows, p.channels, dx);
  PN_CUDA_CHECK_LAUNCH("ln_dx_kernel");
}

template <class T, int V>
void launch_param_partial(const T* g, const T* x, const T* mean, const T* rstd, double* work, int G,
                          const LayerNormParams& p, cudaStream_t st) {
  const Tile tile = make_tile(p.channels / V);
  const dim3 grid(tile.blocks_x(), static_cast<unsigned>(G));
  ln_param_partial_kernel<T, V><<<grid, kThreads, 0, st>>>(g, x, mean, rstd, p.rows, p.channels, tile, G, work);
  PN_CUDA_CHECK_LAUNCH("ln_param_partial_kernel");
}

}  // namespace

namespace impl {

template <class T>
void layer_norm_forward(const T* x, const T* gamma, const T* beta, T* y, T* mean, T* rstd, const LayerNormParams& p,
                        Stream s) {
  if (p.rows <= 0 || p.channels <= 0) return;
  const cudaStream_t st = detail::stream_of(s.handle);
  if (vec_ok<T>(p.channels, {x, gamma, beta, y})) launch_forward<T, kVec<T>>(x, gamma, beta, y, mean, rstd, p, st);
  else launch_forward<T, 1>(x, gamma, beta, y, mean, rstd, p, st);
}

template <class T>
void layer_norm_backward(const T* g, const T* x, const T* mean, const T* rstd, const T* gamma, double* work, T* dx,
                         T* dgamma, T* dbeta, const LayerNormParams& p, Stream s) {
  if (p.channels <= 0) return;
  const cudaStream_t st = detail::stream_of(s.handle);
  if (dx && p.rows > 0) {
    if (vec_ok<T>(p.channels, {g, x, gamma, dx})) launch_dx<T, kVec<T>>(g, x, mean, rstd, gamma, dx, p, st);
    else launch_dx<T, 1>(g, x, mean, rstd, gamma, dx, p, st);
  }
  if (!dgamma && !dbeta) return;
  const int G = static_cast<int>(norm_row_groups(p.rows, p.channels));
  if (vec_ok<T>(p.channels, {g, x})) launch_param_partial<T, kVec<T>>(g, x, mean, rstd, work, G, p, st);
  else launch_param_partial<T, 1>(g, x, mean, rstd, work, G, p, st);
  const Tile ctile = make_tile(p.channels);
  ln_param_final_kernel<T><<<ctile.blocks_x(), kThreads, 0, st>>>(work, G, p.channels, ctile, dgamma, dbeta);
  PN_CUDA_CHECK_LAUNCH("ln_param_final_kernel");
}

#define PATCHNET_INSTANTIATE(T)                                                                                  \
  template void layer_norm_forward<T>(const T*, const T*, const T*, T*, T*, T*, const LayerNormParams&, Stream); \
  template void layer_norm_backward<T>(const T*, const T*, const T*, const T*, const T*, double*, T*, T*, T*,    \
                                       const LayerNormParams&, Stream);
PATCHNET_INSTANTIATE(float)
PATCHNET_INSTANTIATE(double)
#undef PATCHNET_INSTANTIATE

}  // namespace impl

PN_CUDA_REGISTER(layer_norm_forward, float, double);
PN_CUDA_REGISTER(layer_norm_backward, float, double);

}  // namespace patchnet::cuda
