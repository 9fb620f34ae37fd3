// CUDA launchers of softmax and log_softmax over one axis (cuda/softmax.cu), float and
// double. The input is viewed as packed [outer, dim, inner] (dim = the axis), as in
// math::SoftmaxParams (shared with the CPU loop). Launchers write their output.
#pragma once

#include <cstdint>

#include "patchnet/cuda/launcher.hpp"
#include "patchnet/math/activation.hpp"

namespace patchnet::cuda {

using math::SoftmaxParams;

namespace impl {
// y = softmax(x) or log_softmax(x) along dim.
template <class T>
void softmax_forward(const T* x, T* y, const SoftmaxParams& p, Stream s = {});
// From the forward's output y and gy: softmax gx = y (g - sum g y); log_softmax
// gx = g - exp(y) sum g.
template <class T>
void softmax_backward(const T* y, const T* gy, T* gx, const SoftmaxParams& p, Stream s = {});
}  // namespace impl
PN_CUDA_LAUNCHER(softmax_forward)
PN_CUDA_LAUNCHER(softmax_backward)

}  // namespace patchnet::cuda
