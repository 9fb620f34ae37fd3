// Parameter-free elementwise layers: GELU (exact erf form by default, as Keras'
// "gelu" and tf.nn.gelu), ReLU, SiLU, Softmax over the last dimension (the ConvMixer seed's
// Dense(activation="softmax") head), and Rescaling (Keras: y = x * scale + offset; the
// ConvMixer seed's Rescaling(1/255)).
#pragma once

#include <string>

#include "patchnet/nn/module.hpp"
#include "patchnet/ops/activation.hpp"
#include "patchnet/ops/elementwise.hpp"

namespace patchnet::nn {

template <FloatingPoint T>
class GELU : public Module<T> {
 public:
  explicit GELU(GeluApprox approx = GeluApprox::None) : approx_(approx) {}
  Tensor<T> forward(const Tensor<T>& x) override { return gelu(x, approx_); }
  std::string type_name() const override { return "GELU"; }
  GeluApprox approx() const { return approx_; }

 private:
  GeluApprox approx_;
};

template <FloatingPoint T>
class ReLU : public Module<T> {
 public:
  Tensor<T> forward(const Tensor<T>& x) override { return relu(x); }
  std::string type_name() const override { return "ReLU"; }
};

// x sigmoid(x) (PyTorch's SiLU, Keras' "silu" / "swish").
template <FloatingPoint T>
class SiLU : public Module<T> {
 public:
  Tensor<T> forward(const Tensor<T>& x) override { return silu(x); }
  std::string type_name() const override { return "SiLU"; }
};

template <FloatingPoint T>
class Softmax : public Module<T> {
 public:
  Tensor<T> forward(const Tensor<T>& x) override { return softmax(x, -1); }
  std::string type_name() const override { return "Softmax"; }
};

template <FloatingPoint T>
class Rescaling : public Module<T> {
 public:
  explicit Rescaling(double scale, double offset = 0.0) : scale_(scale), offset_(offset) {}
  Tensor<T> forward(const Tensor<T>& x) override {
    Tensor<T> y = mul(x, static_cast<T>(scale_));
    return offset_ == 0.0 ? y : add(y, static_cast<T>(offset_));
  }
  std::string type_name() const override { return "Rescaling"; }

 private:
  double scale_, offset_;
};

}  // namespace patchnet::nn
