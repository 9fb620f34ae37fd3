// CUDA launchers of the elementwise activations (cuda/activation.cu), float and double.
// The scalar functions are math/activation.hpp's, the same code the CPU loops run. All
// arrays are packed with n elements; backward launchers write gx (no accumulation).
#pragma once

#include <cstdint>

#include "patchnet/cuda/launcher.hpp"

namespace patchnet::cuda {

namespace impl {
// y = gelu(x): exact erf form, or the tanh approximation.
template <class T>
void gelu_forward(const T* x, T* y, int64_t n, bool tanh_approx, Stream s = {});
// gx = gy * gelu'(x).
template <class T>
void gelu_backward(const T* x, const T* gy, T* gx, int64_t n, bool tanh_approx, Stream s = {});

// y = max(x, 0).
template <class T>
void relu_forward(const T* x, T* y, int64_t n, Stream s = {});
// gx = gy where y > 0, else 0; y is relu's output.
template <class T>
void relu_backward(const T* y, const T* gy, T* gx, int64_t n, Stream s = {});
}  // namespace impl
PN_CUDA_LAUNCHER(gelu_forward)
PN_CUDA_LAUNCHER(gelu_backward)
PN_CUDA_LAUNCHER(relu_forward)
PN_CUDA_LAUNCHER(relu_backward)

}  // namespace patchnet::cuda
