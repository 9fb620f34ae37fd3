// Index math of involution (ops/involution.hpp) shared by the CPU loops
// (cpu/involution.hpp) and the CUDA kernels (cuda/involution.cu): the sizes of one call
// and which taps of a window, or which windows over a pixel, lie inside the image.
// Templated on the index type: the kernels use 32-bit indices when the tensors allow.
#pragma once

#include <cstdint>

#include "patchnet/core/config.hpp"
#include "patchnet/core/geometry.hpp"

namespace patchnet::math {

// One involution call, NHWC: x [N, H, W, C], kernel [N, OH, OW, K*K*G], out [N, OH, OW, C];
// square K x K window, stride S, channel c in group c % G; pad_top / pad_left of the
// "same" padding (ops/geometry.hpp). The CPU kernels and the CUDA launchers both take it.
struct InvolutionDims {
  int64_t N = 0, H = 0, W = 0, C = 0;
  int64_t K = 1, S = 1, G = 1;
  int64_t pad_top = 0, pad_left = 0;
  int64_t OH = 0, OW = 0;
};

// The dims of a square window `w` (window2d() of the op) with G groups.
inline InvolutionDims involution_dims(const Window2d& w, int64_t G) {
  return {w.N, w.H, w.W, w.C, w.kernel.h, w.stride.h, G, w.pad.top, w.pad.left, w.OH, w.OW};
}

// [lo, hi): the k in [0, K) with 0 <= base + k < size (std::clamp written out for the device).
template <class I>
PATCHNET_HD inline void inv_clip(I base, I K, I size, I& lo, I& hi) {
  lo = -base < 0 ? I(0) : (-base > K ? K : -base);
  const I h = size - base;
  hi = h < lo ? lo : (h > K ? K : h);
}

// The taps k in [0, K) of the windows o in [0, O) covering padded index t = o*S + k:
// k = k0, k0 + S, .. (count of them), each in window (t - k) / S.
template <class I>
PATCHNET_HD inline void inv_covering(I t, I K, I S, I O, I& k0, I& count) {
  const I a = t % S, b = t - (O - 1) * S;  // both are = t (mod S)
  k0 = a > b ? a : b;
  const I k1 = K - 1 < t ? K - 1 : t;
  count = k0 <= k1 ? (k1 - k0) / S + 1 : I(0);
}

}  // namespace patchnet::math
