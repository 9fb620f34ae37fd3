// CUDA launcher of the channel shift (cuda/channel_shift.cu), float and double. x and out
// are packed NHWC [N, H, W, C] and must not overlap; out is overwritten. The backward is
// the same launcher with the opposite shift (dims.shift = -s), as on the CPU.
#pragma once

#include "patchnet/cuda/launcher.hpp"
#include "patchnet/math/channel_shift.hpp"

namespace patchnet::cuda {

namespace impl {
// out[n,h,w,c] = x[n, h + dh(c), w + dw(c), c], 0 outside the image (math::channel_shift_offset).
template <class T>
void channel_shift(const T* x, T* out, const math::ChannelShiftDims& d, Stream s = {});
}  // namespace impl
PN_CUDA_LAUNCHER(channel_shift)

}  // namespace patchnet::cuda
