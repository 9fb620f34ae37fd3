// Convolution layers over NHWC activations, weights in patchnet's (Keras') layouts and
// exported to PyTorch's (nn/module.hpp TorchLayout):
//   Conv2d           weight HWIO [KH, KW, Cin/groups, Cout], bias [Cout]    (Keras Conv2D)
//   DepthwiseConv2d  weight [KH, KW, C], bias [C]; "same" by default        (DepthwiseConv2D)
//   PointwiseConv2d  weight [Cin, Cout], bias [Cout]: a 1x1 convolution     (Conv2D(k = 1))
//   PatchEmbed       Conv2d with kernel = stride = patch: non-overlapping patches
//                    projected to `out` channels (ConvMixer's stem, ShiftViT's projection)
// The ops behind them are in ops/conv.hpp. Padding is TensorFlow's "valid" / "same" or
// explicit amounts (`.padding = Padding::Explicit, .pad = Pad2d::all(1)` is PyTorch's
// padding=1; ops/geometry.hpp says where the two differ).
#pragma once

#include <string>

#include "patchnet/nn/init_scheme.hpp"
#include "patchnet/nn/module.hpp"
#include "patchnet/ops/conv.hpp"

namespace patchnet::nn {

namespace detail {
// A layer's padding mode and amounts must agree: Explicit needs amounts, the others take none.
inline void check_padding(const std::string& layer, Padding padding, const Pad2d& pad) {
  PN_CHECK(padding != Padding::Explicit || pad.any(), layer,
           ": Padding::Explicit without .pad amounts (PyTorch's padding=p is .pad = Pad2d::all(p); no padding is "
           "Padding::Valid)");
  PN_CHECK(padding == Padding::Explicit || !pad.any(), layer, ": .pad amounts are given with ", padding_name(padding),
           ", which ignores them; use Padding::Explicit");
}
}  // namespace detail

struct Conv2dConfig {
  int64_t in = 0, out = 0;
  Hw kernel = 1, stride = 1;
  Padding padding = Padding::Valid;
  Pad2d pad = {};  // the amounts, with Padding::Explicit
  int64_t groups = 1;
  bool bias = true;
  Init init = Init::Keras;
};

template <FloatingPoint T>
class Conv2d : public Module<T> {
 public:
  Conv2d(const Conv2dConfig& c, Generator& gen) : c_(c) {
    PN_CHECK(c.in > 0 && c.out > 0 && c.groups > 0 && c.in % c.groups == 0 && c.out % c.groups == 0, type_name(),
             ": in ", c.in, ", out ", c.out, " and groups ", c.groups, " must be positive with groups dividing both");
    detail::check_padding(type_name(), c.padding, c.pad);
    const Shape shape{c.kernel.h, c.kernel.w, c.in / c.groups, c.out};
    const init::Fans torch = init::torch_fans_hwio(shape);
    weight = this->register_parameter("weight", init_weight<T>(c.init, shape, init::keras_fans(shape), torch, gen),
                                      TorchLayout::ConvHWIO);
    if (c.bias) bias = this->register_parameter("bias", init_bias<T>(c.init, c.out, torch, gen));
  }
  Tensor<T> forward(const Tensor<T>& x) override {
    return conv2d(x, weight, bias, {.stride = c_.stride, .padding = c_.padding, .pad = c_.pad, .groups = c_.groups});
  }
  std::string type_name() const override { return "Conv2d"; }
  const Conv2dConfig& config() const { return c_; }

  Tensor<T> weight, bias;

 private:
  Conv2dConfig c_;
};

struct DepthwiseConv2dConfig {
  int64_t channels = 0;
  Hw kernel = 3, stride = 1;
  Padding padding = Padding::Same;
  Pad2d pad = {};  // the amounts, with Padding::Explicit
  bool bias = true;
  Init init = Init::Keras;
};

template <FloatingPoint T>
class DepthwiseConv2d : public Module<T> {
 public:
  DepthwiseConv2d(const DepthwiseConv2dConfig& c, Generator& gen) : c_(c) {
    PN_CHECK(c.channels > 0, type_name(), ": channels ", c.channels, " must be positive");
    detail::check_padding(type_name(), c.padding, c.pad);
    const init::Fans torch = init::torch_fans_depthwise(c.kernel.h, c.kernel.w);
    weight = this->register_parameter(
        "weight",
        init_weight<T>(c.init, {c.kernel.h, c.kernel.w, c.channels},
                       init::keras_depthwise_fans(c.kernel.h, c.kernel.w, c.channels), torch, gen),
        TorchLayout::Depthwise);
    if (c.bias) bias = this->register_parameter("bias", init_bias<T>(c.init, c.channels, torch, gen));
  }
  Tensor<T> forward(const Tensor<T>& x) override {
    return depthwise_conv2d(x, weight, bias, {.stride = c_.stride, .padding = c_.padding, .pad = c_.pad});
  }
  std::string type_name() const override { return "DepthwiseConv2d"; }

  Tensor<T> weight, bias;

 private:
  DepthwiseConv2dConfig c_;
};

struct PointwiseConv2dConfig {
  int64_t in = 0, out = 0;
  bool bias = true;
  Init init = Init::Keras;
};

template <FloatingPoint T>
class PointwiseConv2d : public Module<T> {
 public:
  PointwiseConv2d(const PointwiseConv2dConfig& c, Generator& gen) {
    PN_CHECK(c.in > 0 && c.out > 0, type_name(), ": in ", c.in, " and out ", c.out, " must be positive");
    const Shape shape{c.in, c.out};
    const init::Fans torch = init::torch_fans_linear(shape);
    weight = this->register_parameter("weight", init_weight<T>(c.init, shape, init::keras_fans(shape), torch, gen),
                                      TorchLayout::Pointwise);
    if (c.bias) bias = this->register_parameter("bias", init_bias<T>(c.init, c.out, torch, gen));
  }
  Tensor<T> forward(const Tensor<T>& x) override { return pointwise_conv2d(x, weight, bias); }
  std::string type_name() const override { return "PointwiseConv2d"; }

  Tensor<T> weight, bias;
};

struct PatchEmbedConfig {
  int64_t in = 3, out = 0, patch = 2;
  Padding padding = Padding::Valid;  // ShiftViT's projection is "same"
  Pad2d pad = {};                    // the amounts, with Padding::Explicit
  bool bias = true;
  Init init = Init::Keras;
};

template <FloatingPoint T>
class PatchEmbed : public Conv2d<T> {
 public:
  PatchEmbed(const PatchEmbedConfig& c, Generator& gen)
      : Conv2d<T>({.in = c.in,
                   .out = c.out,
                   .kernel = c.patch,
                   .stride = c.patch,
                   .padding = c.padding,
                   .pad = c.pad,
                   .bias = c.bias,
                   .init = c.init},
                  gen) {}
  std::string type_name() const override { return "PatchEmbed"; }
};

}  // namespace patchnet::nn
