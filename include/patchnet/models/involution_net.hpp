// The two classifiers of the Keras involution example, layer for layer, named as its
// Keras layers:
//
//   involution network ("inv"):  inv_1 -> relu_1 -> pool_1 -> inv_2 -> relu_2 -> pool_2 ->
//       inv_3 -> relu_3 -> flatten -> dense_1 (-> 64) -> relu_4 -> dense_2 (-> classes)
//       each inv_k an Involution(channel 3, group 1, kernel 3, stride 1, reduction 2),
//       pools MaxPool2d(2)
//   convolution baseline ("conv"): conv_1 (3x3 "same" -> 32) -> relu_1 -> pool_1 ->
//       conv_2 (-> 64) -> relu_2 -> pool_2 -> conv_3 (-> 64) -> relu_3 -> flatten ->
//       dense_1 (-> 64) -> relu_4 -> dense_2 (-> classes)
//
// Both output logits. Inputs are images already scaled to [0, 1] (the seed divides by
// 255 before the model). Flatten is in NHWC order, as Keras' on channels-last data; a
// PyTorch twin must permute to NHWC before flattening for dense_1's weight to match.
#pragma once

#include <array>
#include <memory>
#include <string>

#include "patchnet/nn/activation.hpp"
#include "patchnet/nn/container.hpp"
#include "patchnet/nn/conv.hpp"
#include "patchnet/nn/involution.hpp"
#include "patchnet/nn/linear.hpp"
#include "patchnet/nn/pool.hpp"

namespace patchnet::models {

struct InvolutionNetConfig {
  int64_t image_size = 32, in_channels = 3, num_classes = 10, hidden = 64;
  int64_t kernel = 3, groups = 1, reduction = 2;  // the involution layers
  std::array<int64_t, 3> widths = {32, 64, 64};   // the conv baseline's 3x3 convolutions
  nn::Init init = nn::Init::Keras;
};

// The involution network; inv_1..inv_3 are children 0, 3 and 6.
template <FloatingPoint T>
nn::Handle<nn::Sequential<T>> involution_net(const InvolutionNetConfig& c, Generator& gen) {
  using namespace nn;
  auto m = std::make_shared<Sequential<T>>();
  int64_t size = c.image_size;
  for (int k = 1; k <= 3; ++k) {
    const std::string n = std::to_string(k);
    m->add("inv_" + n, std::make_shared<Involution<T>>(InvolutionConfig{.channels = c.in_channels,
                                                                        .groups = c.groups,
                                                                        .kernel = c.kernel,
                                                                        .stride = 1,
                                                                        .reduction = c.reduction,
                                                                        .init = c.init},
                                                       gen));
    m->add("relu_" + n, std::make_shared<ReLU<T>>());
    if (k < 3) {
      m->add("pool_" + n, std::make_shared<MaxPool2d<T>>(Pool2dOptions{.pool = 2}));
      size /= 2;
    }
  }
  m->add("flatten", std::make_shared<Flatten<T>>());
  m->add("dense_1", std::make_shared<Linear<T>>(
                        LinearConfig{.in = size * size * c.in_channels, .out = c.hidden, .init = c.init}, gen));
  m->add("relu_4", std::make_shared<ReLU<T>>());
  m->add("dense_2",
         std::make_shared<Linear<T>>(LinearConfig{.in = c.hidden, .out = c.num_classes, .init = c.init}, gen));
  return m;
}

// The convolution baseline of the same seed.
template <FloatingPoint T>
nn::Handle<nn::Sequential<T>> conv_net(const InvolutionNetConfig& c, Generator& gen) {
  using namespace nn;
  auto m = std::make_shared<Sequential<T>>();
  const auto& widths = c.widths;
  int64_t size = c.image_size, in = c.in_channels;
  for (int k = 1; k <= 3; ++k) {
    const std::string n = std::to_string(k);
    m->add("conv_" + n, std::make_shared<Conv2d<T>>(Conv2dConfig{.in = in,
                                                                 .out = widths[static_cast<size_t>(k - 1)],
                                                                 .kernel = 3,
                                                                 .padding = Padding::Same,
                                                                 .init = c.init},
                                                    gen));
    m->add("relu_" + n, std::make_shared<ReLU<T>>());
    if (k < 3) {
      m->add("pool_" + n, std::make_shared<MaxPool2d<T>>(Pool2dOptions{.pool = 2}));
      size /= 2;
    }
    in = widths[static_cast<size_t>(k - 1)];
  }
  m->add("flatten", std::make_shared<Flatten<T>>());
  m->add("dense_1",
         std::make_shared<Linear<T>>(LinearConfig{.in = size * size * in, .out = c.hidden, .init = c.init}, gen));
  m->add("relu_4", std::make_shared<ReLU<T>>());
  m->add("dense_2",
         std::make_shared<Linear<T>>(LinearConfig{.in = c.hidden, .out = c.num_classes, .init = c.init}, gen));
  return m;
}

}  // namespace patchnet::models
