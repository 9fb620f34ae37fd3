// The geometry types of a sliding window over NHWC input, shared by the CPU kernels, the
// CUDA launchers and the ops: sizes as (h, w) pairs, padding modes and amounts, the window
// of one op (Window2d), and its 32-bit form for the CUDA kernels. The rules (TensorFlow
// "same", "valid", explicit) and the checks that build a Window2d are ops/geometry.hpp's.
#pragma once

#include <algorithm>
#include <climits>
#include <cstdint>

#include "patchnet/core/error.hpp"

namespace patchnet {

// A height/width pair; an int converts to a square one, so options read {.stride = 2}.
struct Hw {
  int64_t h = 1, w = 1;
  constexpr Hw() = default;
  constexpr Hw(int64_t s) : h(s), w(s) {}  // NOLINT(google-explicit-constructor)
  constexpr Hw(int64_t h_, int64_t w_) : h(h_), w(w_) {}
  friend constexpr bool operator==(Hw a, Hw b) { return a.h == b.h && a.w == b.w; }
};

enum class Padding { Valid, Same, Explicit };

struct Pad2d {
  int64_t top = 0, bottom = 0, left = 0, right = 0;

  // PyTorch's padding=p: p on every side.
  static constexpr Pad2d all(int64_t p) { return {p, p, p, p}; }
  // PyTorch's padding=(ph, pw): ph above and below, pw left and right.
  static constexpr Pad2d symmetric(int64_t ph, int64_t pw) { return {ph, ph, pw, pw}; }
  constexpr bool any() const { return top != 0 || bottom != 0 || left != 0 || right != 0; }
};

inline const char* padding_name(Padding p) {
  return p == Padding::Valid ? "Padding::Valid" : p == Padding::Same ? "Padding::Same" : "Padding::Explicit";
}

// Geometry of a K x K window with stride S over an NHWC input.
struct Window2d {
  int64_t N = 0, H = 0, W = 0, C = 0;  // input
  Hw kernel, stride;
  Pad2d pad;
  int64_t OH = 0, OW = 0;  // output
};

inline Pad2d same_padding(int64_t H, int64_t W, Hw k, Hw s) {
  const int64_t oh = (H + s.h - 1) / s.h, ow = (W + s.w - 1) / s.w;
  const int64_t ph = std::max<int64_t>((oh - 1) * s.h + k.h - H, 0);
  const int64_t pw = std::max<int64_t>((ow - 1) * s.w + k.w - W, 0);
  return {ph / 2, ph - ph / 2, pw / 2, pw - pw / 2};
}

// A Window2d in 32-bit integers, as the CUDA kernels index (cheaper than 64-bit on a GPU).
// window2d_i32 checks every size and padding fits with room to spare (|v| <= INT_MAX / 4,
// so sums of a few stay in range) and throws naming the op otherwise.
struct Window2dI32 {
  int N, H, W, C, KH, KW, SH, SW, top, left, OH, OW;
};

inline Window2dI32 window2d_i32(const Window2d& g, const char* op) {
  const int64_t v[] = {g.N,        g.H,        g.W,       g.C,        g.kernel.h, g.kernel.w,
                       g.stride.h, g.stride.w, g.pad.top, g.pad.left, g.OH,       g.OW};
  for (int64_t e : v)
    PN_CHECK(e >= INT_MIN / 4 && e <= INT_MAX / 4, op, ": a size or padding of ", e, " is out of the kernels' range");
  auto i = [](int64_t e) { return static_cast<int>(e); };
  return {i(g.N),        i(g.H),        i(g.W),       i(g.C),        i(g.kernel.h), i(g.kernel.w),
          i(g.stride.h), i(g.stride.w), i(g.pad.top), i(g.pad.left), i(g.OH),       i(g.OW)};
}

}  // namespace patchnet
