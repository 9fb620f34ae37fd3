// Lowering a 2-d convolution to a matrix product: im2col copies each output pixel's
// receptive field into one row of a patch matrix, col2im brings gradients of that matrix
// back to the input.
//
// Patch matrix of n images: [n*OH*OW, KH*KW*C], row (n, oh, ow). Columns are group-major,
// column = gi*(KH*KW*Cg) + (kh*KW + kw)*Cg + ci with Cg = C/groups, so group gi's columns
// are one contiguous block and its product with the HWIO weight block [KH*KW*Cg, Cout/groups]
// is an ordinary strided GEMM. With one group this is the plain (kh, kw, c) order, in which
// one kernel row of a window is a single run of KW*C elements in both x and the matrix: the
// loops move whole runs rather than C-element pixels (C is 3 for an RGB input). Padding
// reads as zeros.
#pragma once

#include <algorithm>
#include <cstdint>

#include "patchnet/cpu/parallel.hpp"
#include "patchnet/core/geometry.hpp"

namespace patchnet::cpu {
namespace im2col_detail {
// The taps [k0, k1) of a window starting at input column iw0 that fall inside the image.
inline void inside_taps(const Window2d& g, int64_t iw0, int64_t& k0, int64_t& k1) {
  k0 = std::clamp<int64_t>(-iw0, 0, g.kernel.w);
  k1 = std::clamp<int64_t>(g.W - iw0, k0, g.kernel.w);
}
inline int64_t grain(int64_t elements_per_item) {
  return std::max<int64_t>(1, (int64_t{1} << 15) / std::max<int64_t>(elements_per_item, 1));
}
}  // namespace im2col_detail

// cols [n_images*OH*OW, KH*KW*C] from x [n_images, H, W, C]; writes every element.
template <class T>
void im2col(const T* x, const Window2d& g, int64_t groups, int64_t n_images, T* cols) {
  const int64_t C = g.C, Cg = C / groups, KH = g.kernel.h, KW = g.kernel.w;
  const int64_t width = KH * KW * C, group_width = KH * KW * Cg;
  parallel_for(0, n_images * g.OH, im2col_detail::grain(g.OW * width), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const int64_t n = r / g.OH, oh = r % g.OH;
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        T* row = cols + (r * g.OW + ow) * width;
        const int64_t iw0 = ow * g.stride.w - g.pad.left;
        int64_t k0, k1;
        im2col_detail::inside_taps(g, iw0, k0, k1);
        for (int64_t kh = 0; kh < KH; ++kh) {
          const int64_t ih = oh * g.stride.h - g.pad.top + kh;
          const bool row_inside = ih >= 0 && ih < g.H;
          const T* src = row_inside && k0 < k1 ? x + ((n * g.H + ih) * g.W + iw0 + k0) * C : nullptr;  // tap k0
          if (groups == 1) {
            T* dst = row + kh * KW * C;
            if (!src) {
              std::fill_n(dst, KW * C, T(0));
              continue;
            }
            std::fill_n(dst, k0 * C, T(0));
            std::copy_n(src, (k1 - k0) * C, dst + k0 * C);
            std::fill(dst + k1 * C, dst + KW * C, T(0));
            continue;
          }
          for (int64_t kw = 0; kw < KW; ++kw)
            for (int64_t gi = 0; gi < groups; ++gi) {
              T* dst = row + gi * group_width + (kh * KW + kw) * Cg;
              if (src && kw >= k0 && kw < k1) std::copy_n(src + (kw - k0) * C + gi * Cg, Cg, dst);
              else std::fill_n(dst, Cg, T(0));
            }
        }
      }
    }
  });
}

// dx [n_images, H, W, C] = the sum, over every patch-matrix entry that copied an input
// element, of that entry's gradient. Each thread owns whole input rows: for input row ih it
// adds the kernel-row runs of every window covering it (kh with oh*SH + kh = ih + top, then
// ow ascending), so no two threads write one element and the order of the sum is fixed.
// Writes every element of dx.
template <class T>
void col2im(const T* cols, const Window2d& g, int64_t groups, int64_t n_images, T* dx) {
  const int64_t C = g.C, Cg = C / groups, KH = g.kernel.h, KW = g.kernel.w, SH = g.stride.h;
  const int64_t width = KH * KW * C, group_width = KH * KW * Cg;
  parallel_for(0, n_images * g.H, im2col_detail::grain(g.W * width), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const int64_t n = r / g.H, th = r % g.H + g.pad.top;  // padded row
      T* out = dx + r * g.W * C;
      std::fill_n(out, g.W * C, T(0));
      for (int64_t kh = th % SH; kh < KH && kh <= th; kh += SH) {
        const int64_t oh = (th - kh) / SH;
        if (oh >= g.OH) continue;
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          const int64_t iw0 = ow * g.stride.w - g.pad.left;
          int64_t k0, k1;
          im2col_detail::inside_taps(g, iw0, k0, k1);
          if (k0 == k1) continue;  // the window lies in the padding
          const T* src = cols + ((n * g.OH + oh) * g.OW + ow) * width;
          T* o = out + (iw0 + k0) * C;  // tap k0's pixel
          if (groups == 1) {
            const T* s = src + (kh * KW + k0) * C;
            for (int64_t e = 0; e < (k1 - k0) * C; ++e) o[e] += s[e];
            continue;
          }
          for (int64_t kw = k0; kw < k1; ++kw)
            for (int64_t gi = 0; gi < groups; ++gi) {
              const T* s = src + gi * group_width + (kh * KW + kw) * Cg;
              T* d = o + (kw - k0) * C + gi * Cg;
              for (int64_t ci = 0; ci < Cg; ++ci) d[ci] += s[ci];
            }
        }
      }
    }
  });
}

}  // namespace patchnet::cpu
