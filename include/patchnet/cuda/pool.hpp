// CUDA launchers of 2-d pooling over NHWC images (cuda/pool.cu), float and double. The
// geometry is ops/geometry.hpp's Window2d flattened into plain integers; window spans
// come from math/pool.hpp, as on the CPU. Every launcher writes its output.
#pragma once

#include <cstdint>

#include "patchnet/cuda/launcher.hpp"

namespace patchnet::cuda {

struct PoolParams {
  int64_t N = 0, H = 0, W = 0, C = 0;  // input [N, H, W, C]
  int64_t KH = 1, KW = 1;              // window
  int64_t SH = 1, SW = 1;              // stride
  int64_t PT = 0, PL = 0;              // top / left padding (bottom / right follow from OH, OW)
  int64_t OH = 0, OW = 0;              // output [N, OH, OW, C]
};

namespace impl {
// y = max over the window's valid taps.
template <class T>
void max_pool2d_forward(const T* x, T* y, const PoolParams& p, Stream s = {});
// dx from x, the forward's y and gy: each output's gradient goes to the first tap (row-major)
// equal to y. `argmax` is scratch of N*OH*OW*C int32 (the winning pixel h*W+w, -1 if none).
template <class T>
void max_pool2d_backward(const T* x, const T* y, const T* gy, int32_t* argmax, T* dx, const PoolParams& p,
                         Stream s = {});

// y = mean over the window's valid taps (padding not counted).
template <class T>
void avg_pool2d_forward(const T* x, T* y, const PoolParams& p, Stream s = {});
template <class T>
void avg_pool2d_backward(const T* gy, T* dx, const PoolParams& p, Stream s = {});

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
