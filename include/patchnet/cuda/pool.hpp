// CUDA launchers of 2-d pooling over NHWC images (cuda/pool.cu), float and double. The
// geometry is the CPU kernels' Window2d (core/geometry.hpp, built and checked by window2d()
// in ops/geometry.hpp); window spans come from math/pool.hpp, as on the CPU. Every launcher
// writes its output.
#pragma once

#include <cstdint>

#include "patchnet/core/geometry.hpp"
#include "patchnet/cuda/launcher.hpp"

namespace patchnet::cuda {

namespace impl {
// y = max over the window's valid taps.
template <class T>
void max_pool2d_forward(const T* x, T* y, const Window2d& g, Stream s = {});
// dx from x, the forward's y and gy: each output's gradient goes to the first tap (row-major)
// equal to y. `argmax` is scratch of N*OH*OW*C int32 (the winning pixel h*W+w, -1 if none).
template <class T>
void max_pool2d_backward(const T* x, const T* y, const T* gy, int32_t* argmax, T* dx, const Window2d& g, Stream s = {});

// y = mean over the window's valid taps (padding not counted).
template <class T>
void avg_pool2d_forward(const T* x, T* y, const Window2d& g, Stream s = {});
template <class T>
void avg_pool2d_backward(const T* gy, T* dx, const Window2d& g, Stream s = {});

// [N, HW, C] -> [N, C] mean over HW (accumulated in double); backward dx = gy / HW.
template <class T>
void global_avg_pool_forward(const T* x, T* y, int64_t N, int64_t HW, int64_t C, Stream s = {});
template <class T>
void global_avg_pool_backward(const T* gy, T* dx, int64_t N, int64_t HW, int64_t C, Stream s = {});
}  // namespace impl
PN_CUDA_LAUNCHER(max_pool2d_forward)
PN_CUDA_LAUNCHER(max_pool2d_backward)
PN_CUDA_LAUNCHER(avg_pool2d_forward)
PN_CUDA_LAUNCHER(avg_pool2d_backward)
PN_CUDA_LAUNCHER(global_avg_pool_forward)
PN_CUDA_LAUNCHER(global_avg_pool_backward)

}  // namespace patchnet::cuda
