// Pooling kernels over NHWC (launchers in cuda/pool.hpp). The geometry is the CPU kernels'
// Window2d and the window spans are math/pool.hpp's: the same arithmetic as on the CPU.
//
// Forward: one thread per output element, c fastest, so a warp reads 32 neighbouring
// channels of each tap (coalesced). The taps are visited in the CPU's row-major order with
// the CPU's comparisons / additions, so max and average outputs match the CPU exactly.
// Backward is a gather, one thread per input element over the outputs whose windows hold
// it (in increasing output order, the CPU's accumulation order): no atomics, deterministic
// for overlapping windows too. Max backward first records, per output, the pixel of the
// first tap equal to y (argmax scratch), so ties and NaNs route as on the CPU.
// Global average pool: block (32 channels x 8 pixel lanes) per (channel chunk, image);
// each lane sums every 8th pixel in double, then the 8 partials are added in a fixed order.
#include <cstdint>

#include "patchnet/cuda/pool.hpp"
#include "patchnet/math/pool.hpp"
#include "reduce.cuh"

namespace patchnet::cuda {
namespace {

#define PN_GRID_STRIDE(i, n) \
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < (n); i += int64_t(gridDim.x) * blockDim.x)

// Splits a flat index of an [N, H, W, C] array into (n, h, w, c).
struct Nhwc {
  int64_t n, h, w, c;
};
__device__ inline Nhwc split_nhwc(int64_t i, int64_t H, int64_t W, int64_t C) {
  Nhwc r;
  r.c = i % C;
  int64_t t = i / C;
  r.w = t % W;
  t /= W;
  r.h = t % H;
  r.n = t / H;
  return r;
}

// The window of output element i: its row and column spans over the input, and the offset
// of x[n, 0, 0, c].
struct Window {
  math::PoolSpan rs, cs;
  int64_t base;
};
__device__ inline Window window_of(int64_t i, const Window2d& g) {
  const Nhwc o = split_nhwc(i, g.OH, g.OW, g.C);
  return {math::pool_span(o.h, g.stride.h, g.pad.top, g.kernel.h, g.H),
          math::pool_span(o.w, g.stride.w, g.pad.left, g.kernel.w, g.W), o.n * g.H * g.W * g.C + o.c};
}

// Input element i = (n, h, w, c) and the output rows and columns whose windows hold it.
struct Covering {
  Nhwc q;
  math::OutRange orow, ocol;
};
__device__ inline Covering covering_of(int64_t i, const Window2d& g) {
  const Nhwc q = split_nhwc(i, g.H, g.W, g.C);
  return {q, math::pool_outputs_of(q.h, g.stride.h, g.pad.top, g.kernel.h, g.OH),
          math::pool_outputs_of(q.w, g.stride.w, g.pad.left, g.kernel.w, g.OW)};
}

template <class T>
__global__ void max_pool_forward_kernel(const T* __restrict__ x, T* __restrict__ y, Window2d g, int64_t n_out) {
  PN_GRID_STRIDE(i, n_out) {
    const auto [rs, cs, base] = window_of(i, g);
    const T* img = x + base;
    T m = img[((rs.i0 + rs.k0) * g.W + cs.i0 + cs.k0) * g.C];
    for (int64_t kh = rs.k0; kh < rs.k1; ++kh)
      for (int64_t kw = cs.k0; kw < cs.k1; ++kw) {
        if (kh == rs.k0 && kw == cs.k0) continue;
        const T v = img[((rs.i0 + kh) * g.W + cs.i0 + kw) * g.C];
        m = v > m ? v : m;
      }
    y[i] = m;
  }
}

// argmax[o] = h * W + w of the first tap (row-major) whose value equals y[o], -1 if none
// (y NaN): the CPU's routing rule.
template <class T>
__global__ void max_pool_argmax_kernel(const T* __restrict__ x, const T* __restrict__ y, int32_t* __restrict__ argmax,
                                       Window2d g, int64_t n_out) {
  PN_GRID_STRIDE(i, n_out) {
    const auto [rs, cs, base] = window_of(i, g);
    const T* img = x + base;
    const T m = y[i];
    int32_t at = -1;
    for (int64_t kh = rs.k0; kh < rs.k1 && at < 0; ++kh)
      for (int64_t kw = cs.k0; kw < cs.k1; ++kw) {
        const int64_t pix = (rs.i0 + kh) * g.W + cs.i0 + kw;
        if (img[pix * g.C] == m) {
          at = static_cast<int32_t>(pix);
          break;
        }
      }
    argmax[i] = at;
  }
}

template <class T>
__global__ void max_pool_backward_kernel(const int32_t* __restrict__ argmax, const T* __restrict__ gy,
                                         T* __restrict__ dx, Window2d g, int64_t n_in) {
  PN_GRID_STRIDE(i, n_in) {
    const auto [q, orow, ocol] = covering_of(i, g);
    const int32_t pix = static_cast<int32_t>(q.h * g.W + q.w);
    T acc = 0;
    for (int64_t oh = orow.lo; oh < orow.hi; ++oh)
      for (int64_t ow = ocol.lo; ow < ocol.hi; ++ow) {
        const int64_t o = ((q.n * g.OH + oh) * g.OW + ow) * g.C + q.c;
        if (argmax[o] == pix) acc += gy[o];
      }
    dx[i] = acc;
  }
}

template <class T>
__global__ void avg_pool_forward_kernel(const T* __restrict__ x, T* __restrict__ y, Window2d g, int64_t n_out) {
  PN_GRID_STRIDE(i, n_out) {
    const auto [rs, cs, base] = window_of(i, g);
    const T* img = x + base;
    T acc = 0;
    for (int64_t kh = rs.k0; kh < rs.k1; ++kh)
      for (int64_t kw = cs.k0; kw < cs.k1; ++kw) acc += img[((rs.i0 + kh) * g.W + cs.i0 + kw) * g.C];
    const T inv = T(1) / static_cast<T>((rs.k1 - rs.k0) * (cs.k1 - cs.k0));
    y[i] = acc * inv;
  }
}

template <class T>
__global__ void avg_pool_backward_kernel(const T* __restrict__ gy, T* __restrict__ dx, Window2d g, int64_t n_in) {
  PN_GRID_STRIDE(i, n_in) {
    const auto [q, orow, ocol] = covering_of(i, g);
    T acc = 0;
    for (int64_t oh = orow.lo; oh < orow.hi; ++oh) {
      const math::PoolSpan rs = math::pool_span(oh, g.stride.h, g.pad.top, g.kernel.h, g.H);
      for (int64_t ow = ocol.lo; ow < ocol.hi; ++ow) {
        const math::PoolSpan cs = math::pool_span(ow, g.stride.w, g.pad.left, g.kernel.w, g.W);
        const T inv = T(1) / static_cast<T>((rs.k1 - rs.k0) * (cs.k1 - cs.k0));
        acc += gy[((q.n * g.OH + oh) * g.OW + ow) * g.C + q.c] * inv;
      }
    }
    dx[i] = acc;
  }
}

constexpr int kGapLanes = 8;  // pixel lanes per global-average-pool block

template <class T>
__global__ void global_avg_pool_forward_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t N, int64_t HW,
                                               int64_t C) {
  __shared__ double part[kGapLanes][32];
  const int64_t c = blockIdx.x * int64_t(32) + threadIdx.x;
  const double inv = 1.0 / static_cast<double>(HW);
  for (int64_t n = blockIdx.y; n < N; n += gridDim.y) {  // gridDim.y <= 65535
    double acc = 0;
    if (c < C)
      for (int64_t q = threadIdx.y; q < HW; q += kGapLanes) acc += static_cast<double>(x[(n * HW + q) * C + c]);
    const double s = detail::sum_lanes_in_order(part, acc);  // ends with a barrier: part is reused
    if (threadIdx.y == 0 && c < C) y[n * C + c] = static_cast<T>(s * inv);
  }
}

template <class T>
__global__ void global_avg_pool_backward_kernel(const T* __restrict__ gy, T* __restrict__ dx, int64_t HW, int64_t C,
                                                int64_t n, T inv) {
  PN_GRID_STRIDE(i, n) {
    const int64_t c = i % C, img = i / (HW * C);
    dx[i] = gy[img * C + c] * inv;
  }
}

#undef PN_GRID_STRIDE

}  // namespace

namespace impl {

template <class T>
void max_pool2d_forward(const T* x, T* y, const Window2d& g, Stream s) {
  const int64_t n_out = g.N * g.OH * g.OW * g.C;
  if (n_out == 0) return;
  max_pool_forward_kernel<<<detail::grid_for(n_out), 256, 0, detail::stream_of(s.handle)>>>(x, y, g, n_out);
  PN_CUDA_CHECK_LAUNCH("max_pool_forward_kernel");
}

template <class T>
void max_pool2d_backward(const T* x, const T* y, const T* gy, int32_t* argmax, T* dx, const Window2d& g, Stream s) {
  const int64_t n_out = g.N * g.OH * g.OW * g.C, n_in = g.N * g.H * g.W * g.C;
  if (n_in == 0) return;
  if (n_out > 0) {
    max_pool_argmax_kernel<<<detail::grid_for(n_out), 256, 0, detail::stream_of(s.handle)>>>(x, y, argmax, g, n_out);
    PN_CUDA_CHECK_LAUNCH("max_pool_argmax_kernel");
  }
  max_pool_backward_kernel<<<detail::grid_for(n_in), 256, 0, detail::stream_of(s.handle)>>>(argmax, gy, dx, g, n_in);
  PN_CUDA_CHECK_LAUNCH("max_pool_backward_kernel");
}

template <class T>
void avg_pool2d_forward(const T* x, T* y, const Window2d& g, Stream s) {
  const int64_t n_out = g.N * g.OH * g.OW * g.C;
  if (n_out == 0) return;
  avg_pool_forward_kernel<<<detail::grid_for(n_out), 256, 0, detail::stream_of(s.handle)>>>(x, y, g, n_out);
  PN_CUDA_CHECK_LAUNCH("avg_pool_forward_kernel");
}

template <class T>
void avg_pool2d_backward(const T* gy, T* dx, const Window2d& g, Stream s) {
  const int64_t n_in = g.N * g.H * g.W * g.C;
  if (n_in == 0) return;
  avg_pool_backward_kernel<<<detail::grid_for(n_in), 256, 0, detail::stream_of(s.handle)>>>(gy, dx, g, n_in);
  PN_CUDA_CHECK_LAUNCH("avg_pool_backward_kernel");
}

template <class T>
void global_avg_pool_forward(const T* x, T* y, int64_t N, int64_t HW, int64_t C, Stream s) {
  if (N == 0 || C == 0) return;
  const dim3 block(32, kGapLanes);
  const dim3 grid(static_cast<unsigned>((C + 31) / 32), detail::capped_blocks(N));
  global_avg_pool_forward_kernel<<<grid, block, 0, detail::stream_of(s.handle)>>>(x, y, N, HW, C);
  PN_CUDA_CHECK_LAUNCH("global_avg_pool_forward_kernel");
}

template <class T>
void global_avg_pool_backward(const T* gy, T* dx, int64_t N, int64_t HW, int64_t C, Stream s) {
  const int64_t n = N * HW * C;
  if (n == 0) return;
  const T inv = static_cast<T>(1.0 / static_cast<double>(HW));
  global_avg_pool_backward_kernel<<<detail::grid_for(n), 256, 0, detail::stream_of(s.handle)>>>(gy, dx, HW, C, n, inv);
  PN_CUDA_CHECK_LAUNCH("global_avg_pool_backward_kernel");
}

#define PATCHNET_INSTANTIATE(T)                                                                              \
  template void max_pool2d_forward<T>(const T*, T*, const Window2d&, Stream);                                \
  template void max_pool2d_backward<T>(const T*, const T*, const T*, int32_t*, T*, const Window2d&, Stream); \
  template void avg_pool2d_forward<T>(const T*, T*, const Window2d&, Stream);                                \
  template void avg_pool2d_backward<T>(const T*, T*, const Window2d&, Stream);                               \
  template void global_avg_pool_forward<T>(const T*, T*, int64_t, int64_t, int64_t, Stream);                 \
  template void global_avg_pool_backward<T>(const T*, T*, int64_t, int64_t, int64_t, Stream);
PATCHNET_INSTANTIATE(float)
PATCHNET_INSTANTIATE(double)
#undef PATCHNET_INSTANTIATE

}  // namespace impl

PN_CUDA_REGISTER(max_pool2d_forward, float, double);
PN_CUDA_REGISTER(max_pool2d_backward, float, double);
PN_CUDA_REGISTER(avg_pool2d_forward, float, double);
PN_CUDA_REGISTER(avg_pool2d_backward, float, double);
PN_CUDA_REGISTER(global_avg_pool_forward, float, double);
PN_CUDA_REGISTER(global_avg_pool_backward, float, double);

}  // namespace patchnet::cuda
