// CPU kernels of involution (ops/involution.hpp): the fused multiply-reduce and its two
// gradients, NHWC. Patches are never materialised: each pixel reads the channel vectors
// of its window's taps in place. The sizes of a call are math::InvolutionDims, as for the
// CUDA launchers (cuda/involution.hpp).
//
// Channel c belongs to group c % G (the Keras seed's interleaved layout), so along the
// channels a tap's G kernel values repeat with period G. Channels are processed in blocks
// of kBlock (4 SIMD registers of sums, held across all taps). When G divides kBlock
// (G = 1, 2, 4, .., the usual case) G is a template argument and lane i of every block
// uses kernel value i % G: one broadcast (G = 1) or a few vector loads per tap. Any other
// G writes each tap's values out along the block into a small per-thread buffer first.
//
// forward and dx are the same sum, out[c] = sum over taps of k_tap[c % G] * src_tap[c]:
//   forward: the taps of output pixel p are its window; k from kernel[p], src = x pixels;
//   dx:      the taps of input pixel q are the windows covering it; k from kernel[p'] at
//            each covering output pixel p', src = dout[p'] (a gather, no scatter).
// dkernel is a dot per (output pixel, tap), lane-wise over blocks and then folded into the
// G groups in a fixed order. Each task writes only its own pixels: no atomics, and the
// same bits for any thread count.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "patchnet/cpu/parallel.hpp"
#include "patchnet/cpu/simd.hpp"
#include "patchnet/math/involution.hpp"

namespace patchnet::cpu {

namespace inv_detail {

template <class T>
inline constexpr int64_t kBlock = 4 * kVectorBytes / static_cast<int64_t>(sizeof(T));
inline constexpr int64_t kGrainWork = int64_t{1} << 15;  // multiply-adds worth a task

// Rows of `per_row` multiply-adds per task.
inline int64_t grain(int64_t per_row) { return std::max<int64_t>(1, kGrainWork / std::max<int64_t>(per_row, 1)); }

// The taps of one pixel as an na x nb grid: tap (a, b) reads the channel vector
// src + a*src_a + b*src_b and the G kernel values k + a*k_a + b*k_b. Addressed
// arithmetically: with a table of pointers GCC vectorises across the taps, with gathers.
template <class T>
struct TapGrid {
  const T* src = nullptr;
  int64_t src_a = 0, src_b = 0;
  const T* k = nullptr;
  int64_t k_a = 0, k_b = 0;
  int64_t na = 0, nb = 0;
};

// out[c0 + i] = sum over the taps of kv_tap[i] * src_tap[c0 + i] for i < m, where
// kv_tap[i] = k_tap[i % GC] (GC > 0) or pattern[tap * kBlock + i] (GC = 0). M is m when
// known at compile time (a whole block, or a narrow image such as RGB), else 0 (m = n).
// A compile-time m keeps acc in registers across the taps.
template <class T, int64_t GC, int64_t M>
inline void block_sum(const TapGrid<T>& t, const T* __restrict pattern, int64_t c0, int64_t n, T* __restrict out) {
  constexpr int64_t B = kBlock<T>;
  const int64_t m = M > 0 ? M : n;
  T acc[B];
  for (int64_t i = 0; i < m; ++i) acc[i] = T(0);
  for (int64_t a = 0; a < t.na; ++a)
    for (int64_t b = 0; b < t.nb; ++b) {
      const T* __restrict s = t.src + a * t.src_a + b * t.src_b + c0;
      if constexpr (GC == 0) {
        const T* __restrict p = pattern + (a * t.nb + b) * B;
        for (int64_t i = 0; i < m; ++i) acc[i] += p[i] * s[i];
      } else if constexpr (M % GC == 0 && M > 0) {
        // Runs of GC lanes: written as one loop over k[i % GC], GCC loads k with gathers.
        const T* __restrict k = t.k + a * t.k_a + b * t.k_b;
        for (int64_t v = 0; v < M; v += GC)
          for (int64_t g = 0; g < GC; ++g) acc[v + g] += k[g] * s[v + g];
      } else {
        const T* __restrict k = t.k + a * t.k_a + b * t.k_b;
        for (int64_t i = 0; i < m; ++i) acc[i] += k[i % GC] * s[i];
      }
    }
  for (int64_t i = 0; i < m; ++i) out[c0 + i] = acc[i];
}

// out[c] = sum over the taps of k_tap[c % G] * src_tap[c] for c in [0, C), GC = G or 0.
template <class T, int64_t GC>
void multiply_reduce(const TapGrid<T>& t, int64_t C, int64_t G, T* __restrict pattern, T* __restrict out) {
  constexpr int64_t B = kBlock<T>;
  for (int64_t c0 = 0; c0 < C; c0 += B) {
    const int64_t n = std::min(B, C - c0);
    if constexpr (GC == 0) {  // write each tap's values k[(c0 + i) % G] along this block
      for (int64_t a = 0; a < t.na; ++a)
        for (int64_t b = 0; b < t.nb; ++b) {
          const T* k = t.k + a * t.k_a + b * t.k_b;
          T* dst = pattern + (a * t.nb + b) * B;
          for (int64_t i = 0, g = c0 % G; i < n; ++i, g = g + 1 == G ? 0 : g + 1) dst[i] = k[g];
        }
    }
    switch (n) {
      case B:
        block_sum<T, GC, B>(t, pattern, c0, n, out);
        break;
      case 1:
        block_sum<T, GC, 1>(t, pattern, c0, n, out);
        break;
      case 2:
        block_sum<T, GC, 2>(t, pattern, c0, n, out);
        break;
      case 3:
        block_sum<T, GC, 3>(t, pattern, c0, n, out);
        break;
      case 4:
        block_sum<T, GC, 4>(t, pattern, c0, n, out);
        break;
      default:
        block_sum<T, GC, 0>(t, pattern, c0, n, out);
    }
  }
}

// dk[g] = sum_{c % G == g} a[c] * b[c], GC = G or 0: lane-wise sums over whole blocks,
// folded into the G groups (lane i of the block at c0 is channel c0 + i), then the tail.
// M = C when C is narrow (1..4) and known at compile time, else 0.
template <class T, int64_t GC, int64_t M = 0>
void dot_grouped(const T* __restrict a, const T* __restrict b, int64_t C, int64_t G, T* __restrict dk) {
  constexpr int64_t B = kBlock<T>;
  if constexpr (M == 0 && GC > 0) {
    switch (C) {
      case 1:
        return dot_grouped<T, GC, 1>(a, b, 1, G, dk);
      case 2:
        return dot_grouped<T, GC, 2>(a, b, 2, G, dk);
      case 3:
        return dot_grouped<T, GC, 3>(a, b, 3, G, dk);
      case 4:
        return dot_grouped<T, GC, 4>(a, b, 4, G, dk);
      default:
        break;
    }
  }
  const int64_t n = M > 0 ? M : C, full = n / B * B;
  if constexpr (GC > 0) {  // every block folds the same way: sum the blocks, fold once
    T s[GC] = {};
    if (full > 0) {
      T acc[B] = {};
      for (int64_t c0 = 0; c0 < full; c0 += B)
        for (int64_t i = 0; i < B; ++i) acc[i] += a[c0 + i] * b[c0 + i];
      for (int64_t v = 0; v < B; v += GC)
        for (int64_t g = 0; g < GC; ++g) s[g] += acc[v + g];
    }
    for (int64_t c = full; c < n; ++c) s[c % GC] += a[c] * b[c];
    for (int64_t g = 0; g < GC; ++g) dk[g] = s[g];
  } else {  // blocks fold differently: fold each
    std::fill(dk, dk + G, T(0));
    for (int64_t c0 = 0; c0 < full; c0 += B) {
      T acc[B];
      for (int64_t i = 0; i < B; ++i) acc[i] = a[c0 + i] * b[c0 + i];
      for (int64_t i = 0, g = c0 % G; i < B; ++i, g = g + 1 == G ? 0 : g + 1) dk[g] += acc[i];
    }
    for (int64_t c = full, g = full % G; c < n; ++c, g = g + 1 == G ? 0 : g + 1) dk[g] += a[c] * b[c];
  }
}

// Calls f.template operator()<GC>() with GC = G when G divides kBlock (and is a power of
// two up to 64), else GC = 0 (the general path).
template <class T, class F>
void dispatch_groups(int64_t G, F&& f) {
  auto pick = [&]<int64_t GC>() {
    if constexpr (kBlock<T> % GC == 0) f.template operator()<GC>();
    else f.template operator()<0>();
  };
  switch (G) {
    case 1:
      return pick.template operator()<1>();
    case 2:
      return pick.template operator()<2>();
    case 4:
      return pick.template operator()<4>();
    case 8:
      return pick.template operator()<8>();
    case 16:
      return pick.template operator()<16>();
    case 32:
      return pick.template operator()<32>();
    case 64:
      return pick.template operator()<64>();
    default:
      return f.template operator()<0>();
  }
}

// Index math shared with the CUDA kernels (math/involution.hpp).
using math::inv_clip;
using math::inv_covering;

}  // namespace inv_detail

// out[n,oh,ow,c] = sum_{kh,kw} kernel[n,oh,ow,(kh*K+kw)*G + c%G] * x[n, oh*S+kh-pt, ow*S+kw-pl, c]
// (out-of-image taps contribute 0). x [N,H,W,C], kernel [N,OH,OW,K*K*G], out [N,OH,OW,C]
// (overwritten). Parallel over the N*OH output rows.
template <class T>
void involution_forward(const T* x, const T* kernel, T* out, const math::InvolutionDims& d) {
  using namespace inv_detail;
  const int64_t H = d.H, W = d.W, C = d.C, K = d.K, S = d.S, G = d.G, KKG = K * K * G;
  dispatch_groups<T>(G, [&]<int64_t GC>() {
    parallel_for(0, d.N * d.OH, grain(d.OW * K * K * C), [&](int64_t lo, int64_t hi) {
      std::vector<T> pattern(static_cast<size_t>(GC == 0 ? K * K * kBlock<T> : 0));
      for (int64_t r = lo; r < hi; ++r) {
        const int64_t n = r / d.OH, ih0 = r % d.OH * S - d.pad_top;
        int64_t kh0, kh1, kw0, kw1;
        inv_clip(ih0, K, H, kh0, kh1);
        for (int64_t ow = 0; ow < d.OW; ++ow) {
          const int64_t p = r * d.OW + ow, iw0 = ow * S - d.pad_left;
          inv_clip(iw0, K, W, kw0, kw1);
          const TapGrid<T> t{x + ((n * H + ih0 + kh0) * W + iw0 + kw0) * C,
                             W * C,
                             C,
                             kernel + p * KKG + (kh0 * K + kw0) * G,
                             K * G,
                             G,
                             kh1 - kh0,
                             kw1 - kw0};
          multiply_reduce<T, GC>(t, C, G, pattern.data(), out + p * C);
        }
      }
    });
  });
}

// dx[n,ih,iw,c] = sum over the (oh,ow,kh,kw) with oh*S+kh-pt = ih and ow*S+kw-pl = iw of
// kernel[n,oh,ow,(kh*K+kw)*G + c%G] * gout[n,oh,ow,c]. dx [N,H,W,C] is overwritten.
// Gathered per input pixel, parallel over the N*H input rows.
template <class T>
void involution_backward_input(const T* kernel, const T* gout, T* dx, const math::InvolutionDims& d) {
  using namespace inv_detail;
  const int64_t H = d.H, W = d.W, C = d.C, K = d.K, S = d.S, G = d.G, KKG = K * K * G;
  const int64_t OH = d.OH, OW = d.OW;
  dispatch_groups<T>(G, [&]<int64_t GC>() {
    parallel_for(0, d.N * H, grain(W * K * K * C / (S * S)), [&](int64_t lo, int64_t hi) {
      std::vector<T> pattern(static_cast<size_t>(GC == 0 ? K * K * kBlock<T> : 0));
      for (int64_t r = lo; r < hi; ++r) {
        const int64_t n = r / H, th = r % H + d.pad_top;
        int64_t kh0, nh, kw0, nw;
        inv_covering(th, K, S, OH, kh0, nh);
        for (int64_t iw = 0; iw < W; ++iw) {
          T* out = dx + (r * W + iw) * C;
          const int64_t tw = iw + d.pad_left;
          inv_covering(tw, K, S, OW, kw0, nw);
          if (nh == 0 || nw == 0) {  // no window reads this pixel (stride > kernel)
            std::fill(out, out + C, T(0));
            continue;
          }
          // Tap (a, b): kh = kh0 + a*S, kw = kw0 + b*S, in output pixel p0 - a*OW - b.
          const int64_t p0 = (n * OH + (th - kh0) / S) * OW + (tw - kw0) / S;
          const TapGrid<T> t{gout + p0 * C,        -OW * C,     -C, kernel + p0 * KKG + (kh0 * K + kw0) * G,
                             S * K * G - OW * KKG, S * G - KKG, nh, nw};
          multiply_reduce<T, GC>(t, C, G, pattern.data(), out);
        }
      }
    });
  });
}

// dkernel[n,oh,ow,(kh*K+kw)*G + g] = sum_{c % G == g} gout[n,oh,ow,c] * x[n, ih, iw, c]
// (0 for out-of-image taps). dkernel [N,OH,OW,K*K*G] is overwritten. Parallel over the
// output rows; each task writes only its own pixels' kernel rows.
template <class T>
void involution_backward_kernel(const T* x, const T* gout, T* dkernel, const math::InvolutionDims& d) {
  using namespace inv_detail;
  const int64_t H = d.H, W = d.W, C = d.C, K = d.K, S = d.S, G = d.G, KKG = K * K * G;
  dispatch_groups<T>(G, [&]<int64_t GC>() {
    parallel_for(0, d.N * d.OH, grain(d.OW * K * K * C), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        const int64_t n = r / d.OH, ih0 = r % d.OH * S - d.pad_top;
        int64_t kh0, kh1, kw0, kw1;
        inv_clip(ih0, K, H, kh0, kh1);
        for (int64_t ow = 0; ow < d.OW; ++ow) {
          const int64_t p = r * d.OW + ow, iw0 = ow * S - d.pad_left;
          inv_clip(iw0, K, W, kw0, kw1);
          T* dk = dkernel + p * KKG;
          if (kh1 - kh0 < K || kw1 - kw0 < K) std::fill(dk, dk + KKG, T(0));  // out-of-image taps
          for (int64_t kh = kh0; kh < kh1; ++kh)
            for (int64_t kw = kw0; kw < kw1; ++kw)
              dot_grouped<T, GC>(gout + p * C, x + ((n * H + ih0 + kh) * W + iw0 + kw) * C, C, G,
                                 dk + (kh * K + kw) * G);
        }
      }
    });
  });
}

}  // namespace patchnet::cpu
