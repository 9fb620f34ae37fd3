// Depthwise 2-d convolution kernels (launchers in cuda/conv.hpp), NHWC, w [KH,KW,C].
// Every kernel maps consecutive threads to consecutive channels, so a warp's loads and
// stores of one pixel are one contiguous run.
//
// Forward: square kernels 3/5/7/9 at vertical stride 1 or 2 use a strip kernel: a thread
// owns one channel of a column strip of TH output pixels; it keeps the K*K weights in
// registers and walks the strip's (TH-1)*SH + K input rows once, loading each row's K
// values and adding them into every output of the strip that uses that row (unrolled, so
// the accumulators stay in registers). Each input value is loaded ~K(TH+K-1)/(TH*K^2) as
// often as in the naive loop. Other kernels: one thread per output element.
// Backward input: at stride 1 it is the forward strip kernel run on dy with the kernel
// flipped (padding K-1-pad, possibly negative); at other strides a gather, one thread per
// dx element over the taps that reach it. No atomics.
// Backward weight: block (32 channels x 8 row lanes) per block of output rows; each thread
// accumulates all taps of its channel (fast path: K*K registers, a sliding window of K
// input values along the row) over its rows; the 8 lanes are added in order through shared
// memory into one partial row per block, and column_sum adds the blocks' partial rows in
// block order. Deterministic: the same bits on every run.
#include <climits>
#include <cstdint>

#include "check.cuh"
#include "patchnet/cuda/conv.hpp"

namespace patchnet::cuda {
namespace {

constexpr int kRowLanes = 8;      // weight gradient: threads per channel in a block
constexpr int kChannelTile = 32;  // weight gradient: channels per block

// ---- forward ---------------------------------------------------------------------------

// Strip kernel: K x K taps, vertical stride SH, TH output rows per thread. With flip the
// weight is read rotated by 180 degrees (the stride-1 input gradient).
template <class T, int K, int SH, int TH>
__global__ void __launch_bounds__(256)
    depthwise_forward_strip_kernel(const T* __restrict__ x, const T* __restrict__ w, const T* __restrict__ bias,
                                   T* __restrict__ y, Window2dI32 g, bool flip, int strips, int64_t total) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int c = static_cast<int>(i % g.C);
    int64_t rest = i / g.C;
    const int ow = static_cast<int>(rest % g.OW);
    rest /= g.OW;
    const int strip = static_cast<int>(rest % strips);
    const int64_t n = rest / strips;

    T wr[K][K];
#pragma unroll
    for (int kh = 0; kh < K; ++kh)
#pragma unroll
      for (int kw = 0; kw < K; ++kw) {
        const int t = flip ? (K - 1 - kh) * K + (K - 1 - kw) : kh * K + kw;
        wr[kh][kw] = w[int64_t(t) * g.C + c];
      }
    T acc[TH];
    const T b0 = bias ? bias[c] : T(0);
#pragma unroll
    for (int t = 0; t < TH; ++t) acc[t] = b0;

    const int oh0 = strip * TH;
    const int ih0 = oh0 * SH - g.top, iw0 = ow * g.SW - g.left;
    const T* xn = x + n * g.H * int64_t(g.W) * g.C + c;
#pragma unroll
    for (int r = 0; r < (TH - 1) * SH + K; ++r) {
      const int ih = ih0 + r;
      const bool row_in = ih >= 0 && ih < g.H;
      T xv[K];
#pragma unroll
      for (int kw = 0; kw < K; ++kw) {
        const int iw = iw0 + kw;
        xv[kw] = row_in && iw >= 0 && iw < g.W ? xn[(int64_t(ih) * g.W + iw) * g.C] : T(0);
      }
#pragma unroll
      for (int t = 0; t < TH; ++t) {
        const int kh = r - t * SH;  // compile-time after unrolling
        if (kh >= 0 && kh < K) {
#pragma unroll
          for (int kw = 0; kw < K; ++kw) acc[t] += xv[kw] * wr[kh][kw];
        }
      }
    }
#pragma unroll
    for (int t = 0; t < TH; ++t)
      if (oh0 + t < g.OH) y[((n * g.OH + oh0 + t) * g.OW + ow) * int64_t(g.C) + c] = acc[t];
  }
}

// Any kernel and stride: one thread per output element, taps in (kh, kw) order.
template <class T>
__global__ void depthwise_forward_generic_kernel(const T* __restrict__ x, const T* __restrict__ w,
                                                 const T* __restrict__ bias, T* __restrict__ y, Window2dI32 g,
                                                 bool flip, int64_t total) {
  const int taps = g.KH * g.KW;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int c = static_cast<int>(i % g.C);
    int64_t rest = i / g.C;
    const int ow = static_cast<int>(rest % g.OW);
    rest /= g.OW;
    const int oh = static_cast<int>(rest % g.OH);
    const int64_t n = rest / g.OH;
    const T* xn = x + n * g.H * int64_t(g.W) * g.C + c;
    T acc = bias ? bias[c] : T(0);
    for (int kh = 0; kh < g.KH; ++kh) {
      const int ih = oh * g.SH - g.top + kh;
      if (ih < 0 || ih >= g.H) continue;
      for (int kw = 0; kw < g.KW; ++kw) {
        const int iw = ow * g.SW - g.left + kw;
        if (iw < 0 || iw >= g.W) continue;
        const int t = flip ? taps - 1 - (kh * g.KW + kw) : kh * g.KW + kw;
        acc += xn[(int64_t(ih) * g.W + iw) * g.C] * w[int64_t(t) * g.C + c];
      }
    }
    y[i] = acc;
  }
}

template <class T, int K, int SH>
void launch_strip(const T* x, const T* w, const T* bias, T* y, const Window2dI32& g, bool flip, cudaStream_t st) {
  constexpr int TH = SH == 1 ? 8 : 4;
  const int strips = (g.OH + TH - 1) / TH;
  const int64_t total = int64_t(g.N) * strips * g.OW * g.C;
  depthwise_forward_strip_kernel<T, K, SH, TH>
      <<<detail::grid_for(total), 256, 0, st>>>(x, w, bias, y, g, flip, strips, total);
  PN_CUDA_CHECK_LAUNCH("depthwise_forward_strip_kernel");
}

template <class T, int SH>
bool try_strip(const T* x, const T* w, const T* bias, T* y, const Window2dI32& g, bool flip, cudaStream_t st) {
  switch (g.KH) {
    case 3:
      launch_strip<T, 3, SH>(x, w, bias, y, g, flip, st);
      return true;
    case 5:
      launch_strip<T, 5, SH>(x, w, bias, y, g, flip, st);
      return true;
    case 7:
      launch_strip<T, 7, SH>(x, w, bias, y, g, flip, st);
      return true;
    case 9:
      launch_strip<T, 9, SH>(x, w, bias, y, g, flip, st);
      return true;
    default:
      return false;
  }
}

template <class T>
void launch_forward(const T* x, const T* w, const T* bias, T* y, const Window2dI32& g, bool flip, cudaStream_t st) {
  const int64_t total = int64_t(g.N) * g.OH * g.OW * g.C;
  if (total == 0) return;
  if (g.KH == g.KW) {
    if (g.SH == 1 && try_strip<T, 1>(x, w, bias, y, g, flip, st)) return;
    if (g.SH == 2 && try_strip<T, 2>(x, w, bias, y, g, flip, st)) return;
  }
  depthwise_forward_generic_kernel<<<detail::grid_for(total), 256, 0, st>>>(x, w, bias, y, g, flip, total);
  PN_CUDA_CHECK_LAUNCH("depthwise_forward_generic_kernel");
}

// ---- backward input, strided: gather ------------------------------------------------------

// dx[n,ih,iw,c] = sum over taps (kh, kw) with oh*SH + kh = ih + top and ow*SW + kw = iw + left
// of dy[n,oh,ow,c] w[kh,kw,c], taps in (kh, kw) order as on the CPU.
template <class T>
__global__ void depthwise_backward_input_gather_kernel(const T* __restrict__ dy, const T* __restrict__ w,
                                                       T* __restrict__ dx, Window2dI32 g, int64_t total) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int c = static_cast<int>(i % g.C);
    int64_t rest = i / g.C;
    const int iw = static_cast<int>(rest % g.W);
    rest /= g.W;
    const int ih = static_cast<int>(rest % g.H);
    const int64_t n = rest / g.H;
    const int th = ih + g.top, tw = iw + g.left;  // padded coordinates, >= 0 (padding is)
    T acc = T(0);
    for (int kh = th % g.SH; kh < g.KH && kh <= th; kh += g.SH) {
      const int oh = (th - kh) / g.SH;
      if (oh >= g.OH) continue;
      for (int kw = tw % g.SW; kw < g.KW && kw <= tw; kw += g.SW) {
        const int ow = (tw - kw) / g.SW;
        if (ow >= g.OW) continue;
        acc += dy[((n * g.OH + oh) * g.OW + ow) * int64_t(g.C) + c] * w[int64_t(kh * g.KW + kw) * g.C + c];
      }
    }
    dx[i] = acc;
  }
}

// ---- backward weight ---------------------------------------------------------------------

// The 8 row lanes' value of one tap added in lane order; lane 0 writes the block's partial.
template <class T>
__device__ inline void reduce_lanes(T (&red)[kRowLanes][kChannelTile], T v, T* out, bool active) {
  red[threadIdx.y][threadIdx.x] = v;
  __syncthreads();
  if (threadIdx.y == 0 && active) {
    T s = red[0][threadIdx.x];
#pragma unroll
    for (int j = 1; j < kRowLanes; ++j) s += red[j][threadIdx.x];
    *out = s;
  }
  __syncthreads();
}

// Square K x K kernel, horizontal stride SW < K. Block (32 channels, 8 lanes), grid.y = the
// row block p: rows [R p / parts, R (p+1) / parts) of the R = N*OH output rows, lane ty
// taking every 8th. partial[p, kh, kw, c].
template <class T, int K, int SW>
__global__ void __launch_bounds__(256) depthwise_weight_fast_kernel(const T* __restrict__ x, const T* __restrict__ dy,
                                                                    T* __restrict__ partial, Window2dI32 g, int parts) {
  __shared__ T red[kRowLanes][kChannelTile];
  const int c = blockIdx.x * kChannelTile + threadIdx.x;
  const bool active = c < g.C;
  const int p = blockIdx.y;
  const int64_t R = int64_t(g.N) * g.OH;
  const int64_t r0 = R * p / parts, r1 = R * (p + 1) / parts;
  T acc[K][K];
#pragma unroll
  for (int kh = 0; kh < K; ++kh)
#pragma unroll
    for (int kw = 0; kw < K; ++kw) acc[kh][kw] = T(0);
  if (active) {
    for (int64_t r = r0 + threadIdx.y; r < r1; r += kRowLanes) {
      const int64_t n = r / g.OH;
      const int oh = static_cast<int>(r % g.OH);
      const T* dyr = dy + r * g.OW * int64_t(g.C) + c;
#pragma unroll
      for (int kh = 0; kh < K; ++kh) {
        const int ih = oh * g.SH - g.top + kh;
        if (ih < 0 || ih >= g.H) continue;
        const T* xr = x + (n * g.H + ih) * int64_t(g.W) * g.C + c;
        auto load = [&](int iw) { return iw >= 0 && iw < g.W ? xr[int64_t(iw) * g.C] : T(0); };
        const int iw0 = -g.left;
        T xv[K];  // window of output column ow: input columns ow*SW + iw0 + kw
#pragma unroll
        for (int kw = 0; kw < K - SW; ++kw) xv[kw] = load(iw0 + kw);
        for (int ow = 0; ow < g.OW; ++ow) {
          const int base = ow * SW + iw0;
#pragma unroll
          for (int j = 0; j < SW; ++j) xv[K - SW + j] = load(base + K - SW + j);
          const T d = dyr[int64_t(ow) * g.C];
#pragma unroll
          for (int kw = 0; kw < K; ++kw) acc[kh][kw] += d * xv[kw];
#pragma unroll
          for (int kw = 0; kw < K - SW; ++kw) xv[kw] = xv[kw + SW];
        }
      }
    }
  }
  T* out = partial + int64_t(p) * K * K * g.C + c;
#pragma unroll
  for (int kh = 0; kh < K; ++kh)
#pragma unroll
    for (int kw = 0; kw < K; ++kw) reduce_lanes(red, acc[kh][kw], out + int64_t(kh * K + kw) * g.C, active);
}

// Any kernel and stride: grid.z = the tap, one accumulator per thread.
template <class T>
__global__ void __launch_bounds__(256)
    depthwise_weight_generic_kernel(const T* __restrict__ x, const T* __restrict__ dy, T* __restrict__ partial,
                                    Window2dI32 g, int parts) {
  __shared__ T red[kRowLanes][kChannelTile];
  const int c = blockIdx.x * kChannelTile + threadIdx.x;
  const bool active = c < g.C;
  const int p = blockIdx.y, tap = blockIdx.z, kh = tap / g.KW, kw = tap % g.KW;
  const int64_t R = int64_t(g.N) * g.OH;
  const int64_t r0 = R * p / parts, r1 = R * (p + 1) / parts;
  T acc = T(0);
  if (active) {
    for (int64_t r = r0 + threadIdx.y; r < r1; r += kRowLanes) {
      const int64_t n = r / g.OH;
      const int ih = static_cast<int>(r % g.OH) * g.SH - g.top + kh;
      if (ih < 0 || ih >= g.H) continue;
      const T* dyr = dy + r * g.OW * int64_t(g.C) + c;
      const T* xr = x + (n * g.H + ih) * int64_t(g.W) * g.C + c;
      for (int ow = 0; ow < g.OW; ++ow) {
        const int iw = ow * g.SW - g.left + kw;
        if (iw >= 0 && iw < g.W) acc += dyr[int64_t(ow) * g.C] * xr[int64_t(iw) * g.C];
      }
    }
  }
  reduce_lanes(red, acc, partial + (int64_t(p) * g.KH * g.KW + tap) * g.C + c, active);
}

template <class T, int SW>
bool try_weight_fast(const T* x, const T* dy, T* partial, const Window2dI32& g, int parts, dim3 grid, cudaStream_t st) {
  const dim3 block(kChannelTile, kRowLanes);
  switch (g.KH) {
    case 3:
      depthwise_weight_fast_kernel<T, 3, SW><<<grid, block, 0, st>>>(x, dy, partial, g, parts);
      break;
    case 5:
      depthwise_weight_fast_kernel<T, 5, SW><<<grid, block, 0, st>>>(x, dy, partial, g, parts);
      break;
    case 7:
      depthwise_weight_fast_kernel<T, 7, SW><<<grid, block, 0, st>>>(x, dy, partial, g, parts);
      break;
    case 9:
      depthwise_weight_fast_kernel<T, 9, SW><<<grid, block, 0, st>>>(x, dy, partial, g, parts);
      break;
    default:
      return false;
  }
  PN_CUDA_CHECK_LAUNCH("depthwise_weight_fast_kernel");
  return true;
}

}  // namespace

namespace impl {

template <class T>
void depthwise_conv2d_forward(const T* x, const T* w, const T* bias, T* y, const Window2d& g, Stream s) {
  launch_forward(x, w, bias, y, window2d_i32(g, "depthwise_conv2d (CUDA)"), false, detail::stream_of(s.handle));
}

template <class T>
void depthwise_conv2d_backward_input(const T* dy, const T* w, T* dx, const Window2d& g, Stream s) {
  const Window2dI32 f = window2d_i32(g, "depthwise_conv2d (CUDA)");
  const int64_t total = int64_t(f.N) * f.H * f.W * f.C;
  if (total == 0) return;
  const cudaStream_t st = detail::stream_of(s.handle);
  if (f.SH == 1 && f.SW == 1) {
    // dx[ih,iw] = sum_{kh,kw} dy[ih + top - kh, iw + left - kw] w[kh,kw]: the forward
    // correlation of dy (H, W = OH, OW), padded K-1-top / K-1-left, with the kernel flipped.
    Window2dI32 t = f;
    t.H = f.OH;
    t.W = f.OW;
    t.OH = f.H;
    t.OW = f.W;
    t.top = f.KH - 1 - f.top;
    t.left = f.KW - 1 - f.left;
    launch_forward<T>(dy, w, nullptr, dx, t, true, st);
    return;
  }
  depthwise_backward_input_gather_kernel<<<detail::grid_for(total), 256, 0, st>>>(dy, w, dx, f, total);
  PN_CUDA_CHECK_LAUNCH("depthwise_backward_input_gather_kernel");
}

template <class T>
void depthwise_conv2d_backward_weight(const T* x, const T* dy, T* dw, const Window2d& g, T* workspace, Stream s) {
  const Window2dI32 f = window2d_i32(g, "depthwise_conv2d (CUDA)");
  const int64_t taps = int64_t(f.KH) * f.KW;
  if (f.C == 0 || taps == 0) return;
  const int parts = static_cast<int>(depthwise_weight_parts(g));
  const cudaStream_t st = detail::stream_of(s.handle);
  dim3 grid(static_cast<unsigned>((f.C + kChannelTile - 1) / kChannelTile), static_cast<unsigned>(parts));
  bool done = false;
  if (f.KH == f.KW && f.SW == 1) done = try_weight_fast<T, 1>(x, dy, workspace, f, parts, grid, st);
  else if (f.KH == f.KW && f.SW == 2) done = try_weight_fast<T, 2>(x, dy, workspace, f, parts, grid, st);
  if (!done) {
    PN_CHECK(taps <= 65535, "depthwise_conv2d (CUDA): kernel ", f.KH, "x", f.KW, " has too many taps");
    grid.z = static_cast<unsigned>(taps);
    depthwise_weight_generic_kernel<<<grid, dim3(kChannelTile, kRowLanes), 0, st>>>(x, dy, workspace, f, parts);
    PN_CUDA_CHECK_LAUNCH("depthwise_weight_generic_kernel");
  }
  // The blocks' partial rows added in block order (parts <= 1024: one pass, no workspace).
  column_sum<T>(workspace, dw, parts, taps * f.C, nullptr, s);
}

#define PATCHNET_INSTANTIATE(T)                                                                         \
  template void depthwise_conv2d_forward<T>(const T*, const T*, const T*, T*, const Window2d&, Stream); \
  template void depthwise_conv2d_backward_input<T>(const T*, const T*, T*, const Window2d&, Stream);    \
  template void depthwise_conv2d_backward_weight<T>(const T*, const T*, T*, const Window2d&, T*, Stream);
PATCHNET_INSTANTIATE(float)
PATCHNET_INSTANTIATE(double)
#undef PATCHNET_INSTANTIATE

}  // namespace impl

PN_CUDA_REGISTER(depthwise_conv2d_forward, float, double);
PN_CUDA_REGISTER(depthwise_conv2d_backward_input, float, double);
PN_CUDA_REGISTER(depthwise_conv2d_backward_weight, float, double);

}  // namespace patchnet::cuda
