// Pooling over NHWC images [N, H, W, C], with Keras / TensorFlow semantics:
//
//   max_pool2d       y[n,oh,ow,c] = max over the window's valid taps   (MaxPooling2D)
//   avg_pool2d       y[n,oh,ow,c] = mean over the window's valid taps  (AveragePooling2D)
//   global_avg_pool  y[n,c] = mean over h, w: [N,H,W,C] -> [N,C]       (GlobalAveragePooling2D)
//
// Geometry comes from window2d() (ops/geometry.hpp): stride 0 means the pool size (Keras'
// strides=None); "same" is TensorFlow's rule (out = ceil(in / stride), the odd padding
// pixel at the bottom / right); "valid" needs pool <= input. Padded taps are never read:
// max ignores them (TensorFlow pads with -inf) and the mean divides by the count of valid
// taps, as TensorFlow does (the involution seed's AveragePooling2D(padding="same")).
//
// Saved for backward: max_pool2d keeps x and y and routes each output gradient to the
// first tap (row-major window order) equal to the maximum; avg_pool2d and global_avg_pool
// keep only the geometry and spread g / count over the window. Backward writes fresh
// gradients (cpu/pool.hpp).
//
// CUDA (cuda/pool.cu): forward one thread per output element, channels fastest
// (coalesced), taps in the CPU's order, so max / avg outputs equal the CPU's. Backward is
// a gather, one thread per input element summing the outputs whose windows hold it, in the
// CPU's order: no atomics, deterministic with overlapping windows. max_pool2d backward
// first finds each output's first tap equal to y (an int32 scratch [N, OH, OW, C]), which
// routes ties (and NaN maxima: nowhere) as the CPU does. global_avg_pool: a block of
// 32 channels x 8 pixel lanes per image, double partials added in a fixed order.
#pragma once

#include <vector>

#include "patchnet/autograd/node.hpp"
#include "patchnet/core/tensor.hpp"
#include "patchnet/cpu/pool.hpp"
#include "patchnet/cuda/pool.hpp"
#include "patchnet/ops/dispatch.hpp"
#include "patchnet/ops/geometry.hpp"

namespace patchnet {

struct Pool2dOptions {
  Hw pool = 2;                       // Hw / Padding from core/geometry.hpp
  Hw stride = 0;                     // 0 (default): same as pool, as in Keras
  Padding padding = Padding::Valid;  // Same = TensorFlow's rule
};

namespace detail {
// Checks a pooling input and resolves the default stride.
template <class T>
Window2d pool_window(const char* op, const Tensor<T>& x, const Pool2dOptions& opt) {
  PN_CHECK(x.defined(), op, ": input is undefined");
  PN_CHECK(opt.padding != Padding::Explicit, op, ": padding must be Padding::Valid or Padding::Same");
  const Hw stride = opt.stride == Hw(0) ? opt.pool : opt.stride;
  const Window2d g = window2d(op, x.shape(), opt.pool, stride, opt.padding);
  PN_CHECK(g.H * g.W < (int64_t{1} << 31), op, ": input ", x.shape(), " has more than 2^31 pixels per image");
  return g;
}

}  // namespace detail

template <FloatingPoint T>
Tensor<T> max_pool2d(const Tensor<T>& x, const Pool2dOptions& opt = {}) {
  const Window2d g = detail::pool_window("max_pool2d", x, opt);
  const Tensor<T> xc = x.detach().contiguous();
  Tensor<T> y = Tensor<T>::empty({g.N, g.OH, g.OW, g.C}, x.device());
  if (x.is_cpu()) cpu::max_pool2d_forward(xc.data(), g, y.data());
  else PN_CUDA("max_pool2d", cuda::max_pool2d_forward(xc.data(), y.data(), g));
  autograd::record<T>("max_pool2d", {x}, {y}, [xc, yd = y.detach(), g](const auto& grads, const auto&) {
    const Tensor<T> gy = grads[0].contiguous();
    Tensor<T> dx = Tensor<T>::empty(xc.shape(), xc.device());
    if (xc.is_cpu()) {
      cpu::max_pool2d_backward(xc.data(), yd.data(), gy.data(), g, dx.data());
    } else {
      Tensor<int32_t> argmax = Tensor<int32_t>::empty(yd.shape(), xc.device());
      PN_CUDA("max_pool2d", cuda::max_pool2d_backward(xc.data(), yd.data(), gy.data(), argmax.data(), dx.data(), g));
    }
    return std::vector<Tensor<T>>{dx};
  });
  return y;
}

template <FloatingPoint T>
Tensor<T> avg_pool2d(const Tensor<T>& x, const Pool2dOptions& opt = {}) {
  const Window2d g = detail::pool_window("avg_pool2d", x, opt);
  const Tensor<T> xc = x.detach().contiguous();
  Tensor<T> y = Tensor<T>::empty({g.N, g.OH, g.OW, g.C}, x.device());
  if (x.is_cpu()) cpu::avg_pool2d_forward(xc.data(), g, y.data());
  else PN_CUDA("avg_pool2d", cuda::avg_pool2d_forward(xc.data(), y.data(), g));
  autograd::record<T>("avg_pool2d", {x}, {y}, [g, device = x.device()](const auto& grads, const auto&) {
    const Tensor<T> gy = grads[0].contiguous();
    Tensor<T> dx = Tensor<T>::empty({g.N, g.H, g.W, g.C}, device);
    if (device.is_cpu()) cpu::avg_pool2d_backward(gy.data(), g, dx.data());
    else PN_CUDA("avg_pool2d", cuda::avg_pool2d_backward(gy.data(), dx.data(), g));
    return std::vector<Tensor<T>>{dx};
  });
  return y;
}

template <FloatingPoint T>
Tensor<T> global_avg_pool(const Tensor<T>& x) {
  PN_CHECK(x.defined(), "global_avg_pool: input is undefined");
  PN_CHECK(x.dim() == 4, "global_avg_pool: input ", x.shape(), " must be NHWC (rank 4)");
  const int64_t N = x.size(0), HW = x.size(1) * x.size(2), C = x.size(3);
  PN_CHECK(HW > 0, "global_avg_pool: input ", x.shape(), " has no pixels to average");
  const Tensor<T> xc = x.detach().contiguous();
  Tensor<T> y = Tensor<T>::empty({N, C}, x.device());
  if (x.is_cpu()) cpu::global_avg_pool_forward(xc.data(), N, HW, C, y.data());
  else PN_CUDA("global_avg_pool", cuda::global_avg_pool_forward(xc.data(), y.data(), N, HW, C));
  autograd::record<T>("global_avg_pool", {x}, {y},
                      [in_shape = x.shape(), HW, device = x.device()](const auto& grads, const auto&) {
                        const Tensor<T> gy = grads[0].contiguous();
                        Tensor<T> dx = Tensor<T>::empty(in_shape, device);
                        if (device.is_cpu())
                          cpu::global_avg_pool_backward(gy.data(), in_shape[0], HW, in_shape[3], dx.data());
                        else
                          PN_CUDA("global_avg_pool",
                                  cuda::global_avg_pool_backward(gy.data(), dx.data(), in_shape[0], HW, in_shape[3]));
                        return std::vector<Tensor<T>>{dx};
                      });
  return y;
}

}  // namespace patchnet
