// Weight initialisers, as the reference frameworks define them.
//
// Keras (the seeds' framework): Conv2D, DepthwiseConv2D and Dense kernels default to
// glorot_uniform, biases to zeros; BatchNormalization gamma ones, beta zeros, moving mean
// zeros, moving variance ones; LayerNormalization gamma ones, beta zeros.
// PyTorch: Conv2d and Linear weights use kaiming_uniform_(a=sqrt(5)), i.e.
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and their biases the same bound.
// timm / ShiftViT's official code: trunc_normal_(std=0.02) for linear weights.
//
// Fans depend on the framework's weight layout, so they are passed explicitly; the
// helpers below compute them for patchnet's layouts (HWIO convolutions, [KH,KW,C]
// depthwise, [in,out] linear) the way each framework does.
#pragma once

#include <cmath>
#include <cstdint>

#include "patchnet/core/random.hpp"
#include "patchnet/core/tensor.hpp"

namespace patchnet::init {

struct Fans {
  int64_t in = 1, out = 1;
};

// Keras' compute_fans on a kernel shape: [in, out] for rank 2; for convolution kernels
// (..., in, out) the receptive field (product of the leading dims) multiplies both.
inline Fans keras_fans(const Shape& shape) {
  PN_CHECK(shape.rank() >= 1, "init::keras_fans: empty shape");
  if (shape.rank() == 1) return {shape[0], shape[0]};
  int64_t receptive = 1;
  for (int i = 0; i + 2 < shape.rank(); ++i) receptive *= shape[i];
  return {receptive * shape[shape.rank() - 2], receptive * shape[shape.rank() - 1]};
}

// Keras DepthwiseConv2D's kernel is [KH, KW, C, 1]: fan_in = KH*KW*C, fan_out = KH*KW.
inline Fans keras_depthwise_fans(int64_t kh, int64_t kw, int64_t channels) { return {kh * kw * channels, kh * kw}; }

// PyTorch's fans for a weight given in patchnet's layout: HWIO [KH,KW,Cin/g,Cout] is
// OIHW [Cout,Cin/g,KH,KW] there (fan_in = Cin/g*KH*KW, fan_out = Cout*KH*KW); linear
// [in,out] is [out,in]; depthwise [KH,KW,C] is [C,1,KH,KW] (fan_in = KH*KW).
inline Fans torch_fans_hwio(const Shape& hwio) {
  PN_CHECK(hwio.rank() == 4, "init::torch_fans_hwio: weight ", hwio, " is not HWIO");
  return {hwio[0] * hwio[1] * hwio[2], hwio[0] * hwio[1] * hwio[3]};
}
inline Fans torch_fans_linear(const Shape& in_out) {
  PN_CHECK(in_out.rank() == 2, "init::torch_fans_linear: weight ", in_out, " is not [in, out]");
  return {in_out[0], in_out[1]};
}
inline Fans torch_fans_depthwise(int64_t kh, int64_t kw) { return {kh * kw, kh * kw}; }

template <FloatingPoint T>
Tensor<T> zeros(const Shape& shape) {
  return Tensor<T>::zeros(shape);
}
template <FloatingPoint T>
Tensor<T> ones(const Shape& shape) {
  return Tensor<T>::ones(shape);
}

template <FloatingPoint T>
Tensor<T> uniform(const Shape& shape, double lo, double hi, Generator& gen) {
  return rand<T>(shape, gen, lo, hi);
}
template <FloatingPoint T>
Tensor<T> normal(const Shape& shape, double mean, double std, Generator& gen) {
  return randn<T>(shape, gen, mean, std);
}

// Keras glorot_uniform: U(-l, l), l = sqrt(6 / (fan_in + fan_out)).
template <FloatingPoint T>
Tensor<T> glorot_uniform(const Shape& shape, Fans f, Generator& gen) {
  const double limit = std::sqrt(6.0 / static_cast<double>(f.in + f.out));
  return rand<T>(shape, gen, -limit, limit);
}

// Keras glorot_normal: truncated normal (2 std), std = sqrt(2 / (fan_in + fan_out)) / .87962566
// (the std of a unit normal truncated at 2).
template <FloatingPoint T>
Tensor<T> glorot_normal(const Shape& shape, Fans f, Generator& gen) {
  const double std = std::sqrt(2.0 / static_cast<double>(f.in + f.out)) / 0.87962566103423978;
  return truncated_normal<T>(shape, gen, 0.0, std);
}

// Keras he_normal: truncated normal, std = sqrt(2 / fan_in) / .87962566.
template <FloatingPoint T>
Tensor<T> he_normal(const Shape& shape, Fans f, Generator& gen) {
  const double std = std::sqrt(2.0 / static_cast<double>(f.in)) / 0.87962566103423978;
  return truncated_normal<T>(shape, gen, 0.0, std);
}

// Keras he_uniform: U(-l, l), l = sqrt(6 / fan_in).
template <FloatingPoint T>
Tensor<T> he_uniform(const Shape& shape, Fans f, Generator& gen) {
  const double limit = std::sqrt(6.0 / static_cast<double>(f.in));
  return rand<T>(shape, gen, -limit, limit);
}

// PyTorch's default for Conv2d / Linear weights and biases (kaiming_uniform_ with
// a = sqrt(5)): U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
template <FloatingPoint T>
Tensor<T> torch_default(const Shape& shape, Fans f, Generator& gen) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(f.in));
  return rand<T>(shape, gen, -bound, bound);
}

// timm's trunc_normal_(std, a, b): a normal redrawn outside the absolute bounds [a, b]
// (defaults +-2, which for std 0.02 is +-100 std: in effect untruncated).
template <FloatingPoint T>
Tensor<T> trunc_normal(const Shape& shape, double std, Generator& gen, double a = -2.0, double b = 2.0) {
  PN_CHECK(std > 0, "init::trunc_normal: std ", std, " must be positive");
  return truncated_normal<T>(shape, gen, 0.0, std, std::max(a / std, -7.9), std::min(b / std, 7.9));
}

}  // namespace patchnet::init
