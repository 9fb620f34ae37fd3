// Activations: gelu, relu, softmax, log_softmax. Any layout (NHWC activations are just
// packed arrays here); softmax takes the axis, the last by default.
//
// gelu(x, None) = 0.5 x (1 + erf(x / sqrt 2))                 (Keras and PyTorch default;
//                                                              ConvMixer's "gelu")
// gelu(x, Tanh) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
//   Saves x; backward gx = g * gelu'(x), derivatives in math/activation.hpp.
// relu(x) = max(x, 0). Saves the output y; backward gx = g where y > 0, so the gradient
//   at x == 0 is 0 (PyTorch's convention).
// softmax(x)_i = exp(x_i - m) / sum_j exp(x_j - m), m = max_j x_j (stable for any x).
//   Saves y; backward gx = y (g - sum(g y)).
// log_softmax(x)_i = x_i - m - log sum_j exp(x_j - m).
//   Saves y; backward gx = g - exp(y) sum(g).
// All backwards write a fresh gradient. gelu and relu have CUDA kernels
// (cuda/activation.cu). softmax and log_softmax (cuda/softmax.cu) view x as
// [outer, dim, inner]: on the last axis one warp per row (shuffle reductions), on another
// axis one thread per (outer, inner) position walking the axis (coalesced along inner);
// no atomics, same saved y and backward formulas as the CPU.
#pragma once

#include <cstdint>
#include <vector>

#include "patchnet/autograd/node.hpp"
#include "patchnet/core/tensor.hpp"
#include "patchnet/cpu/activation.hpp"
#include "patchnet/cuda/activation.hpp"
#include "patchnet/cuda/softmax.hpp"
#include "patchnet/ops/dispatch.hpp"

namespace patchnet {

enum class GeluApprox { None, Tanh };  // None = the exact erf form

template <FloatingPoint T>
Tensor<T> gelu(const Tensor<T>& x, GeluApprox approx = GeluApprox::None) {
  PN_CHECK(x.defined(), "gelu: input is undefined");
  PN_CHECK(approx == GeluApprox::None || approx == GeluApprox::Tanh, "gelu: unknown approximation ",
           static_cast<int>(approx));
  const bool tanh_approx = approx == GeluApprox::Tanh;
  const Tensor<T> xc = x.detach().contiguous();
  Tensor<T> y = Tensor<T>::empty(x.shape(), x.device());
  if (x.is_cpu()) cpu::gelu_forward(xc.data(), y.data(), x.numel(), tanh_approx);
  else PN_CUDA("gelu", cuda::gelu_forward(xc.data(), y.data(), x.numel(), tanh_approx));
  autograd::record<T>("gelu", {x}, {y}, [xc, tanh_approx](const auto& g, const auto&) {
    const Tensor<T> gc = g[0].contiguous();
    Tensor<T> gx = Tensor<T>::empty(xc.shape(), xc.device());
    if (xc.is_cpu()) cpu::gelu_backward(xc.data(), gc.data(), gx.data(), xc.numel(), tanh_approx);
    else PN_CUDA("gelu", cuda::gelu_backward(xc.data(), gc.data(), gx.data(), xc.numel(), tanh_approx));
    return std::vector<Tensor<T>>{gx};
  });
  return y;
}

template <FloatingPoint T>
Tensor<T> relu(const Tensor<T>& x) {
  PN_CHECK(x.defined(), "relu: input is undefined");
  const Tensor<T> xc = x.detach().contiguous();
  Tensor<T> y = Tensor<T>::empty(x.shape(), x.device());
  if (x.is_cpu()) cpu::relu_forward(xc.data(), y.data(), x.numel());
  else PN_CUDA("relu", cuda::relu_forward(xc.data(), y.data(), x.numel()));
  autograd::record<T>("relu", {x}, {y}, [yd = y.detach()](const auto& g, const auto&) {
    const Tensor<T> gc = g[0].contiguous();
    Tensor<T> gx = Tensor<T>::empty(yd.shape(), yd.device());
    if (yd.is_cpu()) cpu::relu_backward(yd.data(), gc.data(), gx.data(), yd.numel());
    else PN_CUDA("relu", cuda::relu_backward(yd.data(), gc.data(), gx.data(), yd.numel()));
    return std::vector<Tensor<T>>{gx};
  });
  return y;
}

namespace detail {
inline math::SoftmaxParams softmax_params(const Shape& shape, int axis, bool log) {
  math::SoftmaxParams p;
  p.dim = shape[axis];
  for (int i = 0; i < axis; ++i) p.outer *= shape[i];
  for (int i = axis + 1; i < shape.rank(); ++i) p.inner *= shape[i];
  p.log = log;
  return p;
}

template <FloatingPoint T>
Tensor<T> softmax_op(const char* name, const Tensor<T>& x, int64_t axis, bool log) {
  PN_CHECK(x.defined(), name, ": input is undefined");
  PN_CHECK(x.dim() >= 1, name, ": input ", x.shape(), " has no axis to normalise over");
  const int a = normalize_axis(axis, x.dim(), name);
  const math::SoftmaxParams p = softmax_params(x.shape(), a, log);
  const Tensor<T> xc = x.detach().contiguous();
  Tensor<T> y = Tensor<T>::empty(x.shape(), x.device());
  if (x.is_cpu()) cpu::softmax_forward(xc.data(), y.data(), p);
  else PN_CUDA(name, cuda::softmax_forward(xc.data(), y.data(), p));
  autograd::record<T>(name, {x}, {y}, [yd = y.detach(), p, name](const auto& g, const auto&) {
    const Tensor<T> gc = g[0].contiguous();
    Tensor<T> gx = Tensor<T>::empty(yd.shape(), yd.device());
    if (yd.is_cpu()) cpu::softmax_backward(yd.data(), gc.data(), gx.data(), p);
    else PN_CUDA(name, cuda::softmax_backward(yd.data(), gc.data(), gx.data(), p));
    return std::vector<Tensor<T>>{gx};
  });
  return y;
}
}  // namespace detail

template <FloatingPoint T>
Tensor<T> softmax(const Tensor<T>& x, int64_t axis = -1) {
  return detail::softmax_op("softmax", x, axis, false);
}

template <FloatingPoint T>
Tensor<T> log_softmax(const Tensor<T>& x, int64_t axis = -1) {
  return detail::softmax_op("log_softmax", x, axis, true);
}

}  // namespace patchnet
