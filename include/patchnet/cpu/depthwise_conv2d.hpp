// CPU kernels of the depthwise 2-d convolution (channel multiplier 1), NHWC:
//
//   y[n,oh,ow,c] = b[c] + sum_{kh,kw} xpad[n, oh*SH + kh, ow*SW + kw, c] * w[kh,kw,c]
//
// with w stored [KH, KW, C]. Every loop runs along C innermost: a pixel's channels, a
// weight tap's channels and an output pixel's channels are contiguous, so the compiler
// vectorises them. Work is split over the N*OH output rows.
//
// The register tiles: forward keeps kPixels output pixels x kBlock channels in registers
// across all KH*KW taps (each weight vector is loaded once per tile, not once per pixel);
// the weight gradient keeps up to kTaps taps x kBlock channels across a whole output row
// (each dy vector is loaded once per kernel row, not once per tap).
// Zero padding is materialised once per image segment in a per-thread scratch copy, so the
// tiles never test bounds. The copy spaces its pixels kPixelSkew elements further apart than
// C (and its rows by as much again): with C = 256 floats a pixel is 1 KiB and a padded row a
// multiple of 4 KiB, so a tile's pixels and kernel rows would all fall in a few L1 sets and
// evict each other (the ConvMixer shape ran at 40 GFLOP/s that way).
//
// Backward: dx at stride 1 is the same forward kernel run on dy with the kernel flipped
// (a "full" correlation: padding KH-1-top, KW-1-left, possibly negative, which crops); at
// other strides a gather over the taps that hit each input pixel. dw and db are summed per
// fixed block of output rows into separate slots, then the slots are added in block order:
// no races, and the same bits whatever the thread count.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "patchnet/cpu/parallel.hpp"
#include "patchnet/cpu/simd.hpp"
#include "patchnet/core/geometry.hpp"

namespace patchnet::cpu {
namespace depthwise_detail {

// Channels per register tile: two SIMD registers.
template <class T>
inline constexpr int kBlock = 2 * kVectorBytes / static_cast<int>(sizeof(T));
// Forward tile: output pixels (x kBlock channels) held in registers, 16 accumulators with
// AVX-512's 32 registers, 8 with AVX's 16.
inline constexpr int kPixels = kVectorBytes == 64 ? 8 : 4;
inline constexpr int kTaps = 5;                          // weight-gradient tile: kernel taps (a whole 5-wide row)
inline constexpr int64_t kWeightSlots = 64;              // row blocks of the weight gradient
inline constexpr int64_t kGrainWork = int64_t{1} << 16;  // multiply-adds worth a thread
inline constexpr int64_t kSkewBytes = 64;                // one cache line

// Elements between neighbouring pixels in the padded copy: C, plus a cache line where a
// pixel's bytes are a multiple of 256 (so columns and rows no longer alias in L1).
template <class T>
int64_t padded_pixel_pitch(int64_t C) {
  const int64_t bytes = C * static_cast<int64_t>(sizeof(T));
  return bytes % 256 == 0 ? C + kSkewBytes / static_cast<int64_t>(sizeof(T)) : C;
}

// True when some window reaches outside the image.
inline bool needs_padding(const Window2d& g) {
  return g.pad.top != 0 || g.pad.left != 0 || (g.OH - 1) * g.stride.h + g.kernel.h > g.H ||
         (g.OW - 1) * g.stride.w + g.kernel.w > g.W;
}

// Padded rows [r0, r1) of one image (padded row r is input row r - pad.top, padded column q
// input column q - pad.left; negative padding crops), `wp` columns each, into buf: row r at
// (r - r0) * pitch, column q at q * pp (the C channels; the skew after them is not read).
template <class T>
void pad_rows(const T* img, const Window2d& g, int64_t r0, int64_t r1, int64_t wp, int64_t pp, int64_t pitch, T* buf) {
  const int64_t C = g.C;
  const int64_t q0 = std::clamp<int64_t>(g.pad.left, 0, wp), q1 = std::clamp<int64_t>(g.pad.left + g.W, q0, wp);
  for (int64_t r = r0; r < r1; ++r) {
    T* dst = buf + (r - r0) * pitch;
    const int64_t ih = r - g.pad.top;
    if (ih < 0 || ih >= g.H) {
      for (int64_t q = 0; q < wp; ++q) std::fill(dst + q * pp, dst + q * pp + C, T(0));
      continue;
    }
    const T* src = img + (ih * g.W - g.pad.left) * C;
    for (int64_t q = 0; q < q0; ++q) std::fill(dst + q * pp, dst + q * pp + C, T(0));
    for (int64_t q = q0; q < q1; ++q) std::copy(src + q * C, src + (q + 1) * C, dst + q * pp);
    for (int64_t q = q1; q < wp; ++q) std::fill(dst + q * pp, dst + q * pp + C, T(0));
  }
}

// Calls f(row, in, pitch, pp) for each output row in [lo, hi) of the N*OH rows, where `in`
// points at padded input row oh*SH, column 0, `pitch` is the padded row length and `pp` the
// distance between pixels. Uses x itself when no window leaves the image, else a
// zero-padded, skewed copy of the image rows in buf.
template <class T, class F>
void for_each_output_row(const T* x, const Window2d& g, int64_t lo, int64_t hi, std::vector<T>& buf, F&& f) {
  const int64_t C = g.C, SH = g.stride.h;
  const int64_t wp = (g.OW - 1) * g.stride.w + g.kernel.w;
  const bool padded = needs_padding(g);
  const int64_t pp = padded ? padded_pixel_pitch<T>(C) : C;
  const int64_t pitch = padded ? wp * pp + (pp - C) : g.W * C;
  if (padded) buf.resize(static_cast<size_t>(((std::min(g.OH, hi - lo) - 1) * SH + g.kernel.h) * pitch));
  for (int64_t row = lo; row < hi;) {
    const int64_t n = row / g.OH, oh0 = row % g.OH, oh1 = std::min(g.OH, oh0 + (hi - row));
    const T* img = x + n * g.H * g.W * C;
    if (padded) pad_rows(img, g, oh0 * SH, (oh1 - 1) * SH + g.kernel.h, wp, pp, pitch, buf.data());
    const T* base = padded ? buf.data() : img + oh0 * SH * pitch;  // padded row oh0*SH
    for (int64_t oh = oh0; oh < oh1; ++oh) f(n * g.OH + oh, base + (oh - oh0) * SH * pitch, pitch, pp);
    row += oh1 - oh0;
  }
}

// P output pixels x n channels (n = kBlock unless Tail): all taps, bias added, stored.
// `in` is the window origin of the first pixel; pixel p starts at in + p*px, tap (kh, kw)
// at kh*pitch + kw*pp from it.
template <class T, int P, bool Tail>
inline void forward_tile(const T* in, int64_t px, int64_t pitch, int64_t pp, const T* w, const T* bias, T* out,
                         const Window2d& g, int cn) {
  constexpr int CB = kBlock<T>;
  const int n = Tail ? cn : CB;
  const int64_t C = g.C;
  T acc[P][CB];
  for (int p = 0; p < P; ++p)
    for (int j = 0; j < n; ++j) acc[p][j] = bias ? bias[j] : T(0);
  for (int64_t kh = 0; kh < g.kernel.h; ++kh)
    for (int64_t kw = 0; kw < g.kernel.w; ++kw) {
      const T* wk = w + (kh * g.kernel.w + kw) * C;
      const T* xk = in + kh * pitch + kw * pp;
      for (int p = 0; p < P; ++p)
        for (int j = 0; j < n; ++j) acc[p][j] += xk[p * px + j] * wk[j];
    }
  for (int p = 0; p < P; ++p)
    for (int j = 0; j < n; ++j) out[p * C + j] = acc[p][j];
}

template <class T, int P>
inline void forward_pixels(const T* in, int64_t px, int64_t pitch, int64_t pp, const T* w, const T* bias, T* out,
                           const Window2d& g) {
  constexpr int CB = kBlock<T>;
  for (int64_t c = 0; c < g.C; c += CB) {
    const T* b = bias ? bias + c : nullptr;
    if (c + CB <= g.C) forward_tile<T, P, false>(in + c, px, pitch, pp, w + c, b, out + c, g, CB);
    else forward_tile<T, P, true>(in + c, px, pitch, pp, w + c, b, out + c, g, static_cast<int>(g.C - c));
  }
}

// dw[t, j] += sum_ow dy[ow, j] * in[ow*px + t*pp + j] for KT consecutive taps of one kernel
// row and n channels; dw points at the first tap's slot (taps C apart).
template <class T, int KT, bool Tail>
inline void weight_tile(const T* in, int64_t px, int64_t pp, const T* dy, T* dw, int64_t OW, int64_t C, int cn) {
  constexpr int CB = kBlock<T>;
  const int n = Tail ? cn : CB;
  T acc[KT][CB];
  for (int t = 0; t < KT; ++t)
    for (int j = 0; j < n; ++j) acc[t][j] = dw[t * C + j];
  for (int64_t ow = 0; ow < OW; ++ow) {
    const T* d = dy + ow * C;
    const T* i = in + ow * px;
    for (int t = 0; t < KT; ++t)
      for (int j = 0; j < n; ++j) acc[t][j] += d[j] * i[t * pp + j];
  }
  for (int t = 0; t < KT; ++t)
    for (int j = 0; j < n; ++j) dw[t * C + j] = acc[t][j];
}

template <class T, bool Tail>
inline void weight_taps(int64_t taps, const T* in, int64_t px, int64_t pp, const T* dy, T* dw, int64_t OW, int64_t C,
                        int cn) {
  switch (taps) {
    case 1:
      return weight_tile<T, 1, Tail>(in, px, pp, dy, dw, OW, C, cn);
    case 2:
      return weight_tile<T, 2, Tail>(in, px, pp, dy, dw, OW, C, cn);
    case 3:
      return weight_tile<T, 3, Tail>(in, px, pp, dy, dw, OW, C, cn);
    case 4:
      return weight_tile<T, 4, Tail>(in, px, pp, dy, dw, OW, C, cn);
    default:
      return weight_tile<T, kTaps, Tail>(in, px, pp, dy, dw, OW, C, cn);
  }
}

}  // namespace depthwise_detail

// y [N,OH,OW,C] from x [N,H,W,C], w [KH,KW,C] and bias [C] (or null); writes every y.
// g may carry negative padding (a crop), as the stride-1 input gradient uses.
template <class T>
void depthwise_conv2d_forward(const T* x, const T* w, const T* bias, T* y, const Window2d& g) {
  using namespace depthwise_detail;
  const int64_t C = g.C, OW = g.OW;
  const int64_t work_per_row = std::max<int64_t>(1, OW * C * g.kernel.h * g.kernel.w);
  parallel_for(0, g.N * g.OH, std::max<int64_t>(1, kGrainWork / work_per_row), [&](int64_t lo, int64_t hi) {
    std::vector<T> buf;
    for_each_output_row(x, g, lo, hi, buf, [&](int64_t row, const T* in, int64_t pitch, int64_t pp) {
      T* out = y + row * OW * C;
      const int64_t px = g.stride.w * pp;
      constexpr int CB = kBlock<T>;
      // Channel blocks outermost: a block's window rows (KH x the padded width x CB) stay in
      // L1 while every pixel tile of the row reads them.
      for (int64_t c = 0; c < C; c += CB) {
        const T* b = bias ? bias + c : nullptr;
        const int cn = static_cast<int>(std::min<int64_t>(CB, C - c));
        auto tiles = [&]<bool Tail>() {
          int64_t ow = 0;
          for (; ow + kPixels <= OW; ow += kPixels)
            forward_tile<T, kPixels, Tail>(in + ow * px + c, px, pitch, pp, w + c, b, out + ow * C + c, g, cn);
          for (; ow + 4 <= OW; ow += 4)
            forward_tile<T, 4, Tail>(in + ow * px + c, px, pitch, pp, w + c, b, out + ow * C + c, g, cn);
          for (; ow < OW; ++ow)
            forward_tile<T, 1, Tail>(in + ow * px + c, px, pitch, pp, w + c, b, out + ow * C + c, g, cn);
        };
        if (cn == CB) tiles.template operator()<false>();
        else tiles.template operator()<true>();
      }
    });
  });
}

// dx [N,H,W,C] from dy [N,OH,OW,C] and w; writes every dx.
template <class T>
void depthwise_conv2d_backward_input(const T* dy, const T* w, T* dx, const Window2d& g) {
  using depthwise_detail::kGrainWork;
  const int64_t C = g.C, KH = g.kernel.h, KW = g.kernel.w, SH = g.stride.h, SW = g.stride.w;
  if (SH == 1 && SW == 1) {
    // dx[ih,iw] = sum_{kh,kw} dy[ih + top - kh, iw + left - kw] w[kh,kw]: the forward
    // correlation of dy, padded KH-1-top / KW-1-left, with the kernel flipped.
    std::vector<T> flipped(static_cast<size_t>(KH * KW * C));
    for (int64_t kh = 0; kh < KH; ++kh)
      for (int64_t kw = 0; kw < KW; ++kw)
        std::copy_n(w + ((KH - 1 - kh) * KW + (KW - 1 - kw)) * C, C, flipped.data() + (kh * KW + kw) * C);
    Window2d t = g;
    t.H = g.OH;
    t.W = g.OW;
    t.OH = g.H;
    t.OW = g.W;
    t.pad = {KH - 1 - g.pad.top, 0, KW - 1 - g.pad.left, 0};
    depthwise_conv2d_forward<T>(dy, flipped.data(), nullptr, dx, t);
    return;
  }
  // Strided: gather, for each input pixel, the taps (kh, kw) with oh*SH + kh = ih + top.
  const int64_t work_per_row = std::max<int64_t>(1, g.W * C * KH * KW / (SH * SW));
  parallel_for(0, g.N * g.H, std::max<int64_t>(1, kGrainWork / work_per_row), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const int64_t n = r / g.H, ih = r % g.H, th = ih + g.pad.top;
      for (int64_t iw = 0; iw < g.W; ++iw) {
        const int64_t tw = iw + g.pad.left;
        T* o = dx + (r * g.W + iw) * C;
        std::fill(o, o + C, T(0));
        for (int64_t kh = th % SH; kh < KH && kh <= th; kh += SH) {
          const int64_t oh = (th - kh) / SH;
          if (oh >= g.OH) continue;
          for (int64_t kw = tw % SW; kw < KW && kw <= tw; kw += SW) {
            const int64_t ow = (tw - kw) / SW;
            if (ow >= g.OW) continue;
            const T* d = dy + ((n * g.OH + oh) * g.OW + ow) * C;
            const T* wk = w + (kh * KW + kw) * C;
            for (int64_t c = 0; c < C; ++c) o[c] += d[c] * wk[c];
          }
        }
      }
    }
  });
}

// dw [KH,KW,C] (and db [C] unless null) from x and dy; writes them.
template <class T>
void depthwise_conv2d_backward_weight(const T* x, const T* dy, T* dw, T* db, const Window2d& g) {
  using namespace depthwise_detail;
  constexpr int CB = kBlock<T>;
  const int64_t C = g.C, KW = g.kernel.w, OW = g.OW;
  const int64_t slot = g.kernel.h * KW * C + C;  // one block's dw then db
  const int64_t rows = g.N * g.OH, blocks = std::min(rows, kWeightSlots);
  std::vector<T> part(static_cast<size_t>(std::max<int64_t>(blocks, 1) * slot), T(0));
  const int64_t work_per_block = std::max<int64_t>(1, rows / std::max<int64_t>(blocks, 1) * OW * (slot - C));
  parallel_for(0, blocks, std::max<int64_t>(1, kGrainWork / work_per_block), [&](int64_t b_lo, int64_t b_hi) {
    std::vector<T> buf;
    for (int64_t b = b_lo; b < b_hi; ++b) {
      T* pw = part.data() + b * slot;
      T* pb = pw + slot - C;
      for_each_output_row(x, g, rows * b / blocks, rows * (b + 1) / blocks, buf,
                          [&](int64_t row, const T* in, int64_t pitch, int64_t pp) {
                            const T* d = dy + row * OW * C;
                            const int64_t px = g.stride.w * pp;
                            for (int64_t c = 0; c < C; c += CB) {
                              const int cn = static_cast<int>(std::min<int64_t>(CB, C - c));
                              for (int64_t kh = 0; kh < g.kernel.h; ++kh)
                                for (int64_t kw = 0; kw < KW; kw += kTaps) {
                                  const int64_t taps = std::min<int64_t>(kTaps, KW - kw);
                                  const T* i = in + kh * pitch + kw * pp + c;
                                  T* o = pw + (kh * KW + kw) * C + c;
                                  if (cn == CB) weight_taps<T, false>(taps, i, px, pp, d + c, o, OW, C, cn);
                                  else weight_taps<T, true>(taps, i, px, pp, d + c, o, OW, C, cn);
                                }
                            }
                            for (int64_t ow = 0; ow < OW; ++ow)
                              for (int64_t c = 0; c < C; ++c) pb[c] += d[ow * C + c];
                          });
    }
  });
  // Slots added in block order, in parallel over elements (vectorised along them).
  parallel_for(0, slot, 4096, [&](int64_t lo, int64_t hi) {
    T* acc = part.data();  // slot 0 accumulates the others
    for (int64_t b = 1; b < blocks; ++b) {
      const T* s = part.data() + b * slot;
      for (int64_t e = lo; e < hi; ++e) acc[e] += s[e];
    }
    for (int64_t e = lo; e < hi; ++e) {
      if (e < slot - C) dw[e] = acc[e];
      else if (db) db[e - (slot - C)] = acc[e];
    }
  });
}

}  // namespace patchnet::cpu
