// CPU kernel of the channel shift (ops/channel_shift.hpp): one pass over a packed NHWC
// tensor, row by row: the row is copied whole, then each pixel's four shifted groups are
// overwritten from their neighbouring pixels (or a zero vector where none exists).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "patchnet/cpu/parallel.hpp"
#include "patchnet/math/channel_shift.hpp"

namespace patchnet::cpu {

using math::ChannelShiftDims;  // shared with the CUDA kernels (math/channel_shift.hpp)

// out[n,h,w,c] = x[n, h + dh(c), w + dw(c), c], or 0 where that pixel is outside the
// image, with (dh, dw) = (0, +s) for channels [0,g), (0, -s) for [g,2g), (+s, 0) for
// [2g,3g), (-s, 0) for [3g,4g), (0, 0) for the rest. x and out must not overlap.
template <class T>
void channel_shift(const T* x, T* out, const ChannelShiftDims& d) {
  const int64_t H = d.H, W = d.W, C = d.C, g = d.group, s = d.shift;
  const std::vector<T> zeros(static_cast<size_t>(g), T(0));  // the source of vacated pixels
  const int64_t rows = d.N * H;                              // one task = one image row
  parallel_for(0, rows, std::max<int64_t>(1, 4096 / std::max<int64_t>(W * C, 1)), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const int64_t h = r % H;
      const T* row = x + r * W * C;  // the same row of the input
      T* o = out + r * W * C;
      // The whole row first: one long copy gives the unshifted channels their values; the
      // 4g shifted ones are overwritten below (cheaper than a short copy per pixel).
      std::copy(row, row + W * C, o);
      if (g == 0) continue;
      auto inside = [](int64_t i, int64_t n) { return i >= 0 && i < n; };  // s may be negative
      const T* up = inside(h + s, H) ? row + s * W * C : nullptr;          // row h + s
      const T* down = inside(h - s, H) ? row - s * W * C : nullptr;        // row h - s
      const T* z = zeros.data();
      for (int64_t w = 0; w < W; ++w) {
        const T* a = inside(w + s, W) ? row + (w + s) * C : z;
        const T* b = inside(w - s, W) ? row + (w - s) * C + g : z;
        const T* c = up ? up + w * C + 2 * g : z;
        const T* e = down ? down + w * C + 3 * g : z;
        T* dst = o + w * C;
        for (int64_t i = 0; i < g; ++i) {  // four short streams in one vector loop
          dst[i] = a[i];
          dst[g + i] = b[i];
          dst[2 * g + i] = c[i];
          dst[3 * g + i] = e[i];
        }
      }
    }
  });
}

}  // namespace patchnet::cpu
