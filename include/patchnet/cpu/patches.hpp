// Non-overlapping patches (kernel == stride, one group): the backward of patch embeddings
// and patch merging. Their patch matrix, [n*OH*OW, KH*KW*C] with columns (kh, kw, c), is
// im2col's (cpu/im2col.hpp), which for kernel == stride is a space-to-depth: a permutation
// of the zero-padded input. So its gradient goes back without overlap: each input element
// takes exactly one entry, or zero where no patch covers it, and the scatter writes rather
// than accumulates. Each patch's kernel row is one run of KW*C elements on both sides.
#pragma once

#include <algorithm>
#include <cstdint>

#include "patchnet/cpu/parallel.hpp"
#include "patchnet/core/geometry.hpp"

namespace patchnet::cpu {

// dx [n_images, H, W, C] from the patch-matrix gradient dcols [n_images*OH*OW, KH*KW*C];
// writes every element ("valid" leaves the last rows and columns uncovered: zeros).
template <class T>
void scatter_patches(const T* dcols, const Window2d& g, int64_t n_images, T* dx) {
  const int64_t C = g.C, KH = g.kernel.h, KW = g.kernel.w, run = KW * C;
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 15) / std::max<int64_t>(g.W * C, 1));
  parallel_for(0, n_images * g.H, grain, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const int64_t n = r / g.H, th = r % g.H + g.pad.top, oh = th / KH, kh = th % KH;
      T* out = dx + r * g.W * C;
      int64_t done = 0;  // patches tile the row from column 0: [0, done) is covered
      if (oh < g.OH) {
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          const int64_t iw0 = ow * KW - g.pad.left;  // patch's first column
          const int64_t k0 = std::clamp<int64_t>(-iw0, 0, KW), k1 = std::clamp<int64_t>(g.W - iw0, k0, KW);
          if (k0 == k1) continue;
          const T* src = dcols + ((n * g.OH + oh) * g.OW + ow) * KH * run + kh * run + k0 * C;
          std::copy_n(src, (k1 - k0) * C, out + (iw0 + k0) * C);
          done = iw0 + k1;
        }
      }
      std::fill(out + done * C, out + g.W * C, T(0));
    }
  });
}

}  // namespace patchnet::cpu
