// CUDA launchers of involution's multiply-reduce and its two gradients (cuda/involution.cu),
// float and double. Layouts and formulas are ops/involution.hpp's; all arrays packed NHWC:
// x [N, H, W, C], kernel [N, OH, OW, K*K*G], out / gout [N, OH, OW, C]. Every launcher
// overwrites its output (no accumulation) and reads x and kernel in place: the K*K patch
// tensor is never written.
#pragma once

#include "patchnet/cuda/launcher.hpp"
#include "patchnet/math/involution.hpp"

namespace patchnet::cuda {

namespace impl {
// out[n,oh,ow,c] = sum_{kh,kw} kernel[n,oh,ow,(kh*K+kw)*G + c%G] * x[n, oh*S+kh-pt, ow*S+kw-pl, c].
template <class T>
void involution_forward(const T* x, const T* kernel, T* out, const math::InvolutionDims& d, Stream s = {});

// dx[n,ih,iw,c] = sum over the windows covering (ih, iw) of kernel[.., tap*G + c%G] * gout[.., c].
template <class T>
void involution_backward_input(const T* kernel, const T* gout, T* dx, const math::InvolutionDims& d, Stream s = {});

// dkernel[n,oh,ow,tap*G + g] = sum_{c%G==g} gout[n,oh,ow,c] * x[n, ih(tap), iw(tap), c]
// (0 for taps outside the image).
template <class T>
void involution_backward_kernel(const T* x, const T* gout, T* dkernel, const math::InvolutionDims& d, Stream s = {});
}  // namespace impl
PN_CUDA_LAUNCHER(involution_forward)
PN_CUDA_LAUNCHER(involution_backward_input)
PN_CUDA_LAUNCHER(involution_backward_kernel)

}  // namespace patchnet::cuda
