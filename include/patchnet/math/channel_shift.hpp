// Index math of the channel shift (ops/channel_shift.hpp) shared by the CPU loop
// (cpu/channel_shift.hpp) and the CUDA kernels (cuda/channel_shift.cu).
#pragma once

#include <cstdint>

#include "patchnet/core/config.hpp"

namespace patchnet::math {

struct ChannelShiftDims {
  int64_t N = 0, H = 0, W = 0, C = 0;
  int64_t group = 0;  // g: channels per shifted group; 4g <= C
  int64_t shift = 0;  // signed: the forward passes +s, its backward -s (the opposite shift)
};

// Where channel c reads from: out[h, w, c] = x[h + dh, w + dw, c], with (dh, dw) =
// (0, +s) for c in [0,g), (0, -s) for [g,2g), (+s, 0) for [2g,3g), (-s, 0) for [3g,4g),
// (0, 0) for the rest.
template <class I>
PATCHNET_HD inline void channel_shift_offset(I c, I g, I s, I& dh, I& dw) {
  dh = 0;
  dw = 0;
  if (c < g) dw = s;
  else if (c < 2 * g) dw = -s;
  else if (c < 3 * g) dh = s;
  else if (c < 4 * g) dh = -s;
}

}  // namespace patchnet::math
