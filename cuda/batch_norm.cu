// Batch normalisation kernels (launchers in cuda/norm.hpp) over a packed [rows, C] NHWC
// matrix. Every kernel over the activations uses the Tile mapping of cuda/norm.cuh:
// threads of a warp read consecutive channels (V at a time), so loads coalesce for any C;
// a small C (3..16, the involution net) packs whole rows into a warp instead of leaving
// 32 - C lanes idle.
//
// Training forward, three launches:
//   1. bn_partial_kernel<Stats>: block (channel tile, row group g) sums d = x - K[c] and
//      d^2 in double over its rows, K[c] = x[0, c] (the first row), and writes them to
//      work[2][G][C]. Shifting by a sample keeps E[d^2] - E[d]^2 free of cancellation:
//      (K - mean)^2 <= rows * var, so var loses at most ~rows * 1e-16 relative.
//   2. bn_stats_final_kernel: per channel, adds the G partials in a fixed order, gives
//      mean and biased var (double, like the CPU), updates the running buffers in place,
//      and writes stats = [mean, inv_std, inv_std * gamma] (T).
//   3. bn_apply_kernel: y = (x - mean) * scale + beta (math::channel_affine).
// Eval runs 2 (reading the running buffers) and 3.
// Backward: bn_partial_kernel<Grad> (sums g and g (x - mean)), bn_grad_final_kernel
// (dgamma, dbeta and the dx coefficients), bn_dx_kernel. No atomics anywhere.
// Synchronised (BatchNormParams::sync): bn_column_kernel adds the partials into this rank's
// per-channel figures, which the host merges over the ranks; the merged figures come back
// as a single group of partials (G = 1) for the same final kernels.
#include <cstdint>
#include <vector>

#include "norm.cuh"
#include "patchnet/cuda/norm.hpp"
#include "patchnet/math/norm.hpp"

namespace patchnet::cuda {
namespace {

using namespace norm_detail;

// Stats: sums of (x - x[0, c]) and its square. Grad: sums of g and g (x - mean[c]).
enum class Partial { Stats, Grad };

template <Partial P, class T, int V>
__global__ void __launch_bounds__(kThreads)
    bn_partial_kernel(const T* __restrict__ x, const T* __restrict__ g, const T* __restrict__ mean, int64_t rows,
                      int64_t C, Tile tile, int G, double* __restrict__ part) {
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
    double center[V];
    const Vec<T, V> k = load_vec<T, V>(P == Partial::Stats ? x + c0 : mean + c0);
#pragma unroll
    for (int j = 0; j < V; ++j) center[j] = static_cast<double>(k.v[j]);
#pragma unroll 4
    for (int64_t r = r0 + lane; r < r1; r += tile.lanes) {
      const Vec<T, V> xv = load_vec<T, V>(x + r * C + c0);
      if constexpr (P == Partial::Stats) {
#pragma unroll
        for (int j = 0; j < V; ++j) {
          const double d = static_cast<double>(xv.v[j]) - center[j];
          acc[j] += d;
          acc[V + j] += d * d;
        }
      } else {
        const Vec<T, V> gv = load_vec<T, V>(g + r * C + c0);
#pragma unroll
        for (int j = 0; j < V; ++j) {
          const double gd = static_cast<double>(gv.v[j]);
          acc[j] += gd;
          acc[V + j] += gd * (static_cast<double>(xv.v[j]) - center[j]);
        }
      }
    }
  }
  lane_reduce<2 * V>(acc, red, tile, lane);
  if (lane == 0 && cv < tile.cv) store_partials<V>(acc, part, grp, G, C, cv);
}

// Sums the G partials of each channel into out[2][C]: the mean and biased variance of the
// rows (Stats, the partials centred on x's first row), or the two raw sums (Grad).
template <Partial P, class T>
__global__ void __launch_bounds__(kThreads)
    bn_column_kernel(const double* __restrict__ part, int G, const T* __restrict__ x, int64_t rows, int64_t C,
                     Tile tile, double* __restrict__ out) {
  __shared__ double red[2 * kThreads];
  double acc[2];
  const int64_t c = channel_sums(part, G, C, tile, red, acc);
  if (c < 0) return;
  if constexpr (P == Partial::Stats) {
    const double n = static_cast<double>(rows), s1 = acc[0], m2 = acc[1] - s1 * (s1 / n);
    out[c] = static_cast<double>(x[c]) + s1 / n;
    out[C + c] = (m2 > 0.0 ? m2 : 0.0) / n;
  } else {
    out[c] = acc[0];
    out[C + c] = acc[1];
  }
}

// center: the value the partials are centred on per channel (x's first row, or for
// synchronised statistics the merged mean rounded to T).
template <class T>
__global__ void __launch_bounds__(kThreads)
    bn_stats_final_kernel(const double* __restrict__ part, int G, const T* __restrict__ center,
                          const T* __restrict__ gamma, T* running_mean, int64_t rm_stride, T* running_var,
                          int64_t rv_stride, BatchNormParams p, Tile tile, T* __restrict__ stats) {
  __shared__ double red[2 * kThreads];
  const int64_t C = p.channels;
  double acc[2];
  const int64_t c = channel_sums(part, p.training ? G : 0, C, tile, red, acc);
  if (c < 0) return;
  double mean, var;
  if (p.training) {
    const double n = static_cast<double>(p.rows);
    const double s1 = acc[0], s2 = acc[1];
    mean = static_cast<double>(center[c]) + s1 / n;
    const double m2 = s2 - s1 * (s1 / n);
    var = (m2 > 0.0 ? m2 : 0.0) / n;
    if (running_mean) {
      const double unbias = p.unbiased_running_var ? n / (n - 1.0) : 1.0;
      T& rm = running_mean[c * rm_stride];
      T& rv = running_var[c * rv_stride];
      rm = static_cast<T>(math::running_blend(p.momentum, static_cast<double>(rm), mean, 1.0));
      rv = static_cast<T>(math::running_blend(p.momentum, static_cast<double>(rv), var, unbias));
    }
  } else {
    mean = static_cast<double>(running_mean[c * rm_stride]);
    var = static_cast<double>(running_var[c * rv_stride]);
  }
  const double inv_std = math::norm_inv_std(var, p.eps);
  stats[c] = static_cast<T>(mean);
  stats[C + c] = static_cast<T>(inv_std);
  stats[2 * C + c] = static_cast<T>(inv_std * (gamma ? static_cast<double>(gamma[c]) : 1.0));
}

// y = (x - stats[0]) * stats[2] + beta.
template <class T, int V>
__global__ void __launch_bounds__(kThreads)
    bn_apply_kernel(const T* __restrict__ x, const T* __restrict__ stats, const T* __restrict__ beta, int64_t rows,
                    int64_t C, Tile tile, T* __restrict__ y) {
  const int cl = threadIdx.x % tile.tc, lane = threadIdx.x / tile.tc;
  const int64_t cv = int64_t(blockIdx.x) * tile.tc + cl;
  if (lane >= tile.lanes || cv >= tile.cv) return;
  const int64_t c0 = cv * V;
  T center[V], scale[V], shift[V];
#pragma unroll
  for (int j = 0; j < V; ++j) {
    center[j] = stats[c0 + j];
    scale[j] = stats[2 * C + c0 + j];
    shift[j] = beta ? beta[c0 + j] : T(0);
  }
  const int64_t step = int64_t(gridDim.y) * tile.lanes;
#pragma unroll 4
  for (int64_t r = int64_t(blockIdx.y) * tile.lanes + lane; r < rows; r += step) {
    const Vec<T, V> xv = load_vec<T, V>(x + r * C + c0);
    Vec<T, V> yv;
#pragma unroll
    for (int j = 0; j < V; ++j) yv.v[j] = math::channel_affine(xv.v[j], center[j], scale[j], shift[j]);
    store_vec<T, V>(y + r * C + c0, yv);
  }
}

// From sum_g and sum_gx: dbeta, dgamma, and coef = [a, mg, b] of the dx kernel.
template <class T>
__global__ void __launch_bounds__(kThreads)
    bn_grad_final_kernel(const double* __restrict__ part, int G, const T* __restrict__ gamma,
                         const T* __restrict__ stats, BatchNormParams p, Tile tile, T* __restrict__ coef,
                         T* __restrict__ dgamma, T* __restrict__ dbeta) {
  __shared__ double red[2 * kThreads];
  const int64_t C = p.channels;
  double acc[2];
  const int64_t c = channel_sums(part, G, C, tile, red, acc);
  if (c < 0) return;
  const double sum_g = acc[0], sum_gx = acc[1];
  const T inv_std = stats[C + c];
  if (dbeta) dbeta[c] = static_cast<T>(sum_g);
  if (dgamma) dgamma[c] = static_cast<T>(sum_gx * static_cast<double>(inv_std));
  if (coef) {
    T a, mg, b;
    if (p.training) {
      math::batch_norm_dx_coefs(gamma ? static_cast<double>(gamma[c]) : 1.0, static_cast<double>(inv_std), sum_g,
                                sum_gx, 1.0 / static_cast<double>(p.rows), a, mg, b);
    } else {  // the statistics are constants: dx = g * gamma * inv_std (in T, as the CPU)
      a = (gamma ? gamma[c] : T(1)) * inv_std;
      mg = b = T(0);
    }
    coef[c] = a;
    coef[C + c] = mg;
    coef[2 * C + c] = b;
  }
}

template <bool Training, class T, int V>
__global__ void __launch_bounds__(kThreads)
    bn_dx_kernel(const T* __restrict__ g, const T* __restrict__ x, const T* __restrict__ stats,
                 const T* __restrict__ coef, int64_t rows, int64_t C, Tile tile, T* __restrict__ dx) {
  const int cl = threadIdx.x % tile.tc, lane = threadIdx.x / tile.tc;
  const int64_t cv = int64_t(blockIdx.x) * tile.tc + cl;
  if (lane >= tile.lanes || cv >= tile.cv) return;
  const int64_t c0 = cv * V;
  T a[V], mg[V], b[V], mean[V];
#pragma unroll
  for (int j = 0; j < V; ++j) {
    a[j] = coef[c0 + j];
    mg[j] = coef[C + c0 + j];
    b[j] = coef[2 * C + c0 + j];
    mean[j] = stats[c0 + j];
  }
  const int64_t step = int64_t(gridDim.y) * tile.lanes;
#pragma unroll 4
  for (int64_t r = int64_t(blockIdx.y) * tile.lanes + lane; r < rows; r += step) {
    const Vec<T, V> gv = load_vec<T, V>(g + r * C + c0);
    Vec<T, V> d;
    if constexpr (Training) {
      const Vec<T, V> xv = load_vec<T, V>(x + r * C + c0);
#pragma unroll
      for (int j = 0; j < V; ++j) d.v[j] = math::batch_norm_dx(gv.v[j], xv.v[j], a[j], mg[j], b[j], mean[j]);
    } else {
#pragma unroll
      for (int j = 0; j < V; ++j) d.v[j] = math::channel_affine(gv.v[j], T(0), a[j], T(0));
    }
    store_vec<T, V>(dx + r * C + c0, d);
  }
}

template <Partial P, class T, int V>
void launch_partial(const T* x, const T* g, const T* mean, const BatchNormParams& p, int G, double* work,
                    cudaStream_t st) {
  const Tile tile = make_tile(p.channels / V);
  const dim3 grid(tile.blocks_x(), static_cast<unsigned>(G));
  bn_partial_kernel<P, T, V><<<grid, kThreads, 0, st>>>(x, g, mean, p.rows, p.channels, tile, G, work);
  PN_CUDA_CHECK_LAUNCH("bn_partial_kernel");
}

template <Partial P, class T>
void partial(const T* x, const T* g, const T* mean, const BatchNormParams& p, int G, double* work, cudaStream_t st) {
  if (vec_ok<T>(p.channels, {x, g, mean})) launch_partial<P, T, kVec<T>>(x, g, mean, p, G, work, st);
  else launch_partial<P, T, 1>(x, g, mean, p, G, work, st);
}

template <class T, int V>
void launch_apply(const T* x, const T* stats, const T* beta, T* y, const BatchNormParams& p, cudaStream_t st) {
  const Tile tile = make_tile(p.channels / V);
  const dim3 grid(tile.blocks_x(), row_blocks(p.rows, tile.lanes, 4));
  bn_apply_kernel<T, V><<<grid, kThreads, 0, st>>>(x, stats, beta, p.rows, p.channels, tile, y);
  PN_CUDA_CHECK_LAUNCH("bn_apply_kernel");
}

template <bool Training, class T, int V>
void launch_dx(const T* g, const T* x, const T* stats, const T* coef, T* dx, const BatchNormParams& p,
               cudaStream_t st) {
  const Tile tile = make_tile(p.channels / V);
  const dim3 grid(tile.blocks_x(), row_blocks(p.rows, tile.lanes, 4));
  bn_dx_kernel<Training, T, V><<<grid, kThreads, 0, st>>>(g, x, stats, coef, p.rows, p.channels, tile, dx);
  PN_CUDA_CHECK_LAUNCH("bn_dx_kernel");
}

template <bool Training, class T>
void dx_dispatch(const T* g, const T* x, const T* stats, const T* coef, T* dx, const BatchNormParams& p,
                 cudaStream_t st) {
  if (vec_ok<T>(p.channels, {g, Training ? x : nullptr, dx}))
    launch_dx<Training, T, kVec<T>>(g, x, stats, coef, dx, p, st);
  else launch_dx<Training, T, 1>(g, x, stats, coef, dx, p, st);
}

// This rank's per-channel figures (out[2][C], from G partials) through the host merge of
// p.sync; they come back in out as one group of partials, and the rows over all ranks are
// returned. Stats: centred on `center` (C values of T, written here): the merged mean
// rounded to T, with s1 = n (mean - center) keeping the rest, so the final kernel recovers
// the double mean.
template <Partial P, class T>
int64_t merge_over_ranks(const double* part, int G, const T* x, double* out, T* center, const BatchNormParams& p,
                         cudaStream_t st) {
  const int64_t C = p.channels;
  const Tile ctile = make_tile(C);
  bn_column_kernel<P, T><<<ctile.blocks_x(), kThreads, 0, st>>>(part, G, x, p.rows, C, ctile, out);
  PN_CUDA_CHECK_LAUNCH("bn_column_kernel");
  std::vector<double> h(static_cast<size_t>(2 * C));
  const size_t bytes = sizeof(double) * h.size();
  PN_CUDA_CHECK(cudaMemcpyAsync(h.data(), out, bytes, cudaMemcpyDeviceToHost, st));
  PN_CUDA_CHECK(cudaStreamSynchronize(st));
  double* a = h.data();
  double* b = h.data() + C;
  int64_t total = 0;
  if constexpr (P == Partial::Stats) {
    total = p.sync.merge_stats(p.sync.ctx, a, b, C, p.rows);
    std::vector<T> hc(static_cast<size_t>(C));
    const double n = static_cast<double>(total);
    for (int64_t c = 0; c < C; ++c) {
      const double mean = a[c], var = b[c];
      hc[static_cast<size_t>(c)] = static_cast<T>(mean);
      const double s1 = n * (mean - static_cast<double>(hc[static_cast<size_t>(c)]));
      a[c] = s1;
      b[c] = n * var + s1 * (s1 / n);
    }
    PN_CUDA_CHECK(cudaMemcpyAsync(center, hc.data(), sizeof(T) * hc.size(), cudaMemcpyHostToDevice, st));
    PN_CUDA_CHECK(cudaMemcpyAsync(out, h.data(), bytes, cudaMemcpyHostToDevice, st));
    PN_CUDA_CHECK(cudaStreamSynchronize(st));  // hc and h are freed on return
  } else {
    total = p.sync.merge_sums(p.sync.ctx, a, b, C, p.rows);
    PN_CUDA_CHECK(cudaMemcpyAsync(out, h.data(), bytes, cudaMemcpyHostToDevice, st));
    PN_CUDA_CHECK(cudaStreamSynchronize(st));
  }
  return total;
}

}  // namespace

namespace impl {

template <class T>
void batch_norm_forward(const T* x, const T* gamma, const T* beta, T* running_mean, int64_t running_mean_stride,
                        T* running_var, int64_t running_var_stride, double* work, T* stats, T* y,
                        const BatchNormParams& p, Stream s) {
  if (p.channels <= 0) return;
  const cudaStream_t st = detail::stream_of(s.handle);
  int G = 0;
  if (p.training) {
    if (p.rows <= 0) fail("batch_norm_forward: training needs at least one row");
    G = static_cast<int>(norm_row_groups(p.rows, p.channels));
    partial<Partial::Stats, T>(x, nullptr, nullptr, p, G, work, st);
  }
  const Tile ctile = make_tile(p.channels);
  const double* part = work;
  const T* center = x;
  BatchNormParams pf = p;  // the final kernel's rows: every rank's when synchronised
  if (p.training && p.sync.merge_stats) {
    double* out = work + 2 * int64_t(G) * p.channels;
    T* merged_center = reinterpret_cast<T*>(out + 2 * p.channels);
    pf.rows = merge_over_ranks<Partial::Stats, T>(work, G, x, out, merged_center, p, st);
    part = out;
    center = merged_center;
    G = 1;
  }
  bn_stats_final_kernel<T><<<ctile.blocks_x(), kThreads, 0, st>>>(
      part, G, center, gamma, running_mean, running_mean_stride, running_var, running_var_stride, pf, ctile, stats);
  PN_CUDA_CHECK_LAUNCH("bn_stats_final_kernel");
  if (p.rows <= 0) return;
  if (vec_ok<T>(p.channels, {x, y})) launch_apply<T, kVec<T>>(x, stats, beta, y, p, st);
  else launch_apply<T, 1>(x, stats, beta, y, p, st);
}

template <class T>
void batch_norm_backward(const T* g, const T* x, const T* gamma, const T* stats, double* work, T* coef, T* dx,
                         T* dgamma, T* dbeta, const BatchNormParams& p, Stream s) {
  if (p.channels <= 0 || (!dx && !dgamma && !dbeta)) return;
  const cudaStream_t st = detail::stream_of(s.handle);
  int G = 0;
  if (dgamma || dbeta || (p.training && dx)) {
    G = static_cast<int>(norm_row_groups(p.rows, p.channels));
    partial<Partial::Grad, T>(x, g, stats, p, G, work, st);
  }
  const Tile ctile = make_tile(p.channels);
  if (p.training && dx && p.sync.merge_sums) {
    // dgamma and dbeta from this rank's sums (the data-parallel gradient all-reduce adds
    // them, as any parameter's); dx's coefficients from every rank's.
    if (dgamma || dbeta) {
      bn_grad_final_kernel<T>
          <<<ctile.blocks_x(), kThreads, 0, st>>>(work, G, gamma, stats, p, ctile, nullptr, dgamma, dbeta);
      PN_CUDA_CHECK_LAUNCH("bn_grad_final_kernel");
    }
    double* out = work + 2 * int64_t(G) * p.channels;
    BatchNormParams pa = p;
    pa.rows = merge_over_ranks<Partial::Grad, T>(work, G, x, out, static_cast<T*>(nullptr), p, st);
    bn_grad_final_kernel<T>
        <<<ctile.blocks_x(), kThreads, 0, st>>>(out, 1, gamma, stats, pa, ctile, coef, nullptr, nullptr);
  } else {
    bn_grad_final_kernel<T>
        <<<ctile.blocks_x(), kThreads, 0, st>>>(work, G, gamma, stats, p, ctile, dx ? coef : nullptr, dgamma, dbeta);
  }
  PN_CUDA_CHECK_LAUNCH("bn_grad_final_kernel");
  if (!dx || p.rows <= 0) return;
  if (p.training) dx_dispatch<true, T>(g, x, stats, coef, dx, p, st);
  else dx_dispatch<false, T>(g, x, stats, coef, dx, p, st);
}

#define PATCHNET_INSTANTIATE(T)                                                                                \
  template void batch_norm_forward<T>(const T*, const T*, const T*, T*, int64_t, T*, int64_t, double*, T*, T*, \
                                      const BatchNormParams&, Stream);                                         \
  template void batch_norm_backward<T>(const T*, const T*, const T*, const T*, double*, T*, T*, T*, T*,        \
                                       const BatchNormParams&, Stream);
PATCHNET_INSTANTIATE(float)
PATCHNET_INSTANTIATE(double)
#undef PATCHNET_INSTANTIATE

}  // namespace impl

PN_CUDA_REGISTER(batch_norm_forward, float, double);
PN_CUDA_REGISTER(batch_norm_backward, float, double);

}  // namespace patchnet::cuda
