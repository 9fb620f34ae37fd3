// Channel shift: ShiftViT's parameter-free replacement of attention (Wang et al. 2022,
// "When Shift Operation Meets Vision Transformer"; the Keras ShiftViT example).
//
// x is NHWC [N, H, W, C]. Four groups of g channels move s pixels, vacated pixels are 0,
// pixels pushed past the border are dropped, and channels [4g, C) pass unchanged:
//   c in [0,  g):  out[n,h,w,c] = x[n, h,   w+s, c]   (left)
//   c in [g, 2g):  out[n,h,w,c] = x[n, h,   w-s, c]   (right)
//   c in [2g,3g):  out[n,h,w,c] = x[n, h+s, w,   c]   (up)
//   c in [3g,4g):  out[n,h,w,c] = x[n, h-s, w,   c]   (down)
// with x = 0 outside the image. This is the official PyTorch code (microsoft/SPACH
// models/shiftvit.py, quoted in the seed) translated from NCHW:
//   out[:, 0:g, :, :-1] = x[:, 0:g, :, 1:]     out[:, g:2g, :, 1:] = x[:, g:2g, :, :-1]
//   out[:, 2g:3g, :-1, :] = x[:, 2g:3g, 1:, :] out[:, 3g:4g, 1:, :] = x[:, 3g:4g, :-1, :]
// A shift s >= W (or H) zeroes its group; g = 0 is the identity.
//
// Forward saves nothing. Backward is the opposite shift of the gradient (each output
// element is a copy of exactly one input element or 0, so dx[p] = dout[p'] where p'
// is the pixel p moved to, and 0 where p moved out of the image); it writes a new tensor.
// One pass over the packed tensor, no temporaries: cpu/channel_shift.hpp, and on the GPU
// cuda/channel_shift.cu (one thread per 16 bytes of channels of a pixel, coalesced along C).
//
// What the Keras seed's code computes instead. get_shift_pad(x, mode) does
//   crop = tf.image.crop_to_bounding_box(x, oh, ow, H - th, W - tw)   // x[oh : oh+H-th, ow : ow+W-tw]
//   out  = tf.image.pad_to_bounding_box(crop, oh, ow, H, W)          // crop placed at (oh, ow) in zeros
// with the SAME offsets (oh, ow) for the crop and the pad, so out[h, w] = x[h, w] inside
// the kept box: no pixel moves. Per mode:
//   "left"  (oh, ow) = (0, 0), tw = s:  out = x with columns [W-s, W) zeroed
//   "right" (oh, ow) = (0, s), tw = s:  out = x with columns [0, s) zeroed
//   "up"    (oh, ow) = (0, 0), th = s:  out = x with rows [H-s, H) zeroed
//   "down"  (oh, ow) = (s, 0), th = s:  out = x with rows [0, s) zeroed
// None of the four modes is a shift: each zeroes exactly the strip that the official
// shift vacates and leaves every other pixel in place, so the block mixes no spatial
// information at all (the MLP that follows is per-pixel). patchnet implements the
// official shift, which is what the paper describes and what the op's name promises.
//
// The group size from ShiftViT's num_div (12 in the seed) has two readings, below.
#pragma once

#include <algorithm>
#include <vector>

#include "patchnet/autograd/node.hpp"
#include "patchnet/core/tensor.hpp"
#include "patchnet/cpu/channel_shift.hpp"
#include "patchnet/cuda/channel_shift.hpp"
#include "patchnet/ops/dispatch.hpp"

namespace patchnet {

// The paper and the official code (g = C // n_div): 4/num_div of the channels shift,
// as the seed's docstring also says ("4/num_div of the channels are shifted"). At the
// seed's num_div = 12 and C = 96: g = 8, 32 channels shift, at every stage 1/3.
inline int64_t shift_group_paper(int64_t channels, int64_t num_div) {
  PN_CHECK(channels >= 0, "shift_group_paper: negative channel count ", channels);
  PN_CHECK(num_div > 0, "shift_group_paper: num_div ", num_div, " must be positive");
  const int64_t g = channels / num_div;
  PN_CHECK(4 * g <= channels, "shift_group_paper: ", channels, " channels with num_div ", num_div, " give g = ", g,
           " but 4 groups of g must fit (num_div >= 4)");
  return g;
}

// What the Keras seed's code does: tf.split(x, num_or_size_splits=C // num_div) makes
// C // num_div equal chunks (tf.split requires them to divide C exactly) and shifts the
// first four, so g = C / (C // num_div), which is num_div whenever num_div divides C. At
// num_div = 12 that is 12 channels per group at every width: 48 of 96 channels shift at
// stage 1 (1/2), 48 of 768 at stage 4 (1/16), unlike the paper's constant 1/3.
inline int64_t shift_group_keras_seed(int64_t channels, int64_t num_div) {
  PN_CHECK(channels >= 0, "shift_group_keras_seed: negative channel count ", channels);
  PN_CHECK(num_div > 0, "shift_group_keras_seed: num_div ", num_div, " must be positive");
  const int64_t splits = channels / num_div;
  PN_CHECK(splits >= 4, "shift_group_keras_seed: ", channels, " channels // num_div ", num_div, " = ", splits,
           " splits, but the seed shifts splits 0..3");
  PN_CHECK(channels % splits == 0, "shift_group_keras_seed: tf.split cannot cut ", channels, " channels into ", splits,
           " (= C // num_div ", num_div, ") equal chunks");
  return channels / splits;
}

// See the header comment. x [N, H, W, C]; 4 * group_channels <= C; shift >= 0.
template <FloatingPoint T>
Tensor<T> channel_shift(const Tensor<T>& x, int64_t group_channels, int64_t shift = 1) {
  detail::check_rank("channel_shift", "input", x, 4);
  const Shape& s = x.shape();
  PN_CHECK(group_channels >= 0 && 4 * group_channels <= s[3], "channel_shift: input ", s, ": 4 groups of ",
           group_channels, " channels do not fit in ", s[3], " channels");
  PN_CHECK(shift >= 0, "channel_shift: shift ", shift, " must be >= 0 (input ", s, ")");
  // A shift past the image zeroes its group; capping it keeps the index arithmetic small.
  const math::ChannelShiftDims dims{s[0], s[1], s[2], s[3], group_channels, std::min(shift, std::max(s[1], s[2]))};
  const Tensor<T> xc = x.contiguous();
  Tensor<T> out = Tensor<T>::empty(s, x.device());
  if (x.is_cpu()) cpu::channel_shift(xc.data(), out.data(), dims);
  else PN_CUDA("channel_shift", cuda::channel_shift(xc.data(), out.data(), dims));
  autograd::record<T>("channel_shift", {x}, {out}, [dims](const auto& g, const auto&) {
    const Tensor<T> gc = g[0].contiguous();
    Tensor<T> gx = Tensor<T>::empty(gc.shape(), gc.device());
    math::ChannelShiftDims back = dims;
    back.shift = -dims.shift;  // the adjoint of a shift is the opposite shift
    if (gc.is_cpu()) cpu::channel_shift(gc.data(), gx.data(), back);
    else PN_CUDA("channel_shift", cuda::channel_shift(gc.data(), gx.data(), back));
    return std::vector<Tensor<T>>{gx};
  });
  return out;
}

}  // namespace patchnet
