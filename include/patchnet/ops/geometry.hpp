// The rules of window geometry shared by convolution, pooling and involution: the output
// size and padding of a sliding window over NHWC input, checked. The types (Hw, Padding,
// Pad2d, Window2d) are core/geometry.hpp's, where the kernels can include them.
//
// "same" follows TensorFlow: out = ceil(in / S), total padding max((out-1)*S + K - in, 0),
// split with the odd pixel at the bottom / right. "valid" pads nothing:
// out = (in - K) / S + 1, which needs K <= in. Explicit takes the amounts of a Pad2d.
//
// PyTorch's nn.Conv2d(padding=p) is symmetric: Padding::Explicit with Pad2d::all(p). It
// equals "same" only for an odd kernel at stride 1; at stride 2, say, a 3x3 "same"
// convolution of a 32x32 image pads 0 above and 1 below while PyTorch's padding=1 pads 1 and
// 1: the same output size, windows shifted by a pixel. A model meant to compute the same in
// PyTorch uses Explicit.
#pragma once

#include <cstdint>

#include "patchnet/core/error.hpp"
#include "patchnet/core/geometry.hpp"
#include "patchnet/core/shape.hpp"

namespace patchnet {

// Checks an NHWC input against a window and computes the output size. `explicit_pad` is
// used with Padding::Explicit. Errors name the op and the shapes.
inline Window2d window2d(const char* op, const Shape& x, Hw kernel, Hw stride, Padding padding,
                         Pad2d explicit_pad = {}) {
  PN_CHECK(x.rank() == 4, op, ": input ", x, " must be NHWC (rank 4)");
  PN_CHECK(kernel.h > 0 && kernel.w > 0, op, ": kernel size ", kernel.h, "x", kernel.w, " must be positive");
  PN_CHECK(stride.h > 0 && stride.w > 0, op, ": stride ", stride.h, "x", stride.w, " must be positive");
  PN_CHECK(padding == Padding::Explicit || !explicit_pad.any(), op, ": pad amounts {", explicit_pad.top, ", ",
           explicit_pad.bottom, ", ", explicit_pad.left, ", ", explicit_pad.right, "} are given with ",
           padding_name(padding), ", which ignores them; use Padding::Explicit");
  Window2d g;
  g.N = x[0];
  g.H = x[1];
  g.W = x[2];
  g.C = x[3];
  g.kernel = kernel;
  g.stride = stride;
  if (padding == Padding::Same) {
    g.pad = same_padding(g.H, g.W, kernel, stride);
  } else if (padding == Padding::Explicit) {
    PN_CHECK(explicit_pad.top >= 0 && explicit_pad.bottom >= 0 && explicit_pad.left >= 0 && explicit_pad.right >= 0, op,
             ": negative padding");
    g.pad = explicit_pad;
  }
  const int64_t ph = g.H + g.pad.top + g.pad.bottom, pw = g.W + g.pad.left + g.pad.right;
  PN_CHECK(kernel.h <= ph && kernel.w <= pw, op, ": kernel ", kernel.h, "x", kernel.w, " is larger than the ",
           padding == Padding::Valid ? "\"valid\" " : "padded ", "input ", ph, "x", pw, " (input shape ", x, ")");
  g.OH = (ph - kernel.h) / stride.h + 1;
  g.OW = (pw - kernel.w) / stride.w + 1;
  return g;
}

}  // namespace patchnet
