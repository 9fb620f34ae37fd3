// ConvMixer (Trockman & Kolter, "Patches Are All You Need?"), as the Keras ConvMixer
// example (both versions) builds it, with the module names of timm's ConvMixer so a
// checkpoint loads into timm as it is:
//
//   rescale   Rescaling(1/255)                       (the seed's first layer; no state)
//   stem      Sequential(0: PatchEmbed(3 -> width, kernel = stride = patch, "valid"),
//                        1: GELU, 2: BatchNorm2d)
//   blocks.i  Sequential(0: Residual(fn: Sequential(0: DepthwiseConv2d(kernel, "same"),
//                                                   1: GELU, 2: BatchNorm2d)),
//                        1: PointwiseConv2d(width -> width), 2: GELU, 3: BatchNorm2d)
//   pooling   GlobalAvgPool
//   head      Linear(width -> classes)
//   softmax   Softmax (the seed's Dense(activation="softmax")). Keras trains such a head on
//             its logits (sparse_categorical_crossentropy takes the softmax's input), so a
//             training program sets softmax_head = false and uses cross_entropy, as
//             examples/convmixer_cifar10.cpp does; cross_entropy_from_probs on the
//             probabilities clips them at 1e-7 and loses the gradient of confident errors.
//
// The seed's activation_block is GELU then BatchNorm, the residual adds the block input
// after the depthwise stage only. Keras BatchNorm defaults: momentum 0.99, eps 1e-3.
#pragma once

#include <memory>
#include <string>

#include "patchnet/nn/activation.hpp"
#include "patchnet/nn/container.hpp"
#include "patchnet/nn/conv.hpp"
#include "patchnet/nn/linear.hpp"
#include "patchnet/nn/norm.hpp"
#include "patchnet/nn/pool.hpp"

namespace patchnet::models {

struct ConvMixerConfig {
  int64_t width = 256, depth = 8, kernel = 5, patch = 2;
  int64_t in_channels = 3, num_classes = 10;
  bool rescale = true;       // Rescaling(1/255) on raw 0..255 pixels
  bool softmax_head = true;  // the seed's softmax output; false gives logits
  BatchNormOptions bn = {};
  nn::Init init = nn::Init::Keras;
};

template <FloatingPoint T>
class ConvMixer : public nn::Module<T> {
 public:
  ConvMixer(const ConvMixerConfig& c, Generator& gen) : c_(c) {
    PN_CHECK(c.width > 0 && c.depth >= 0 && c.kernel > 0 && c.patch > 0 && c.num_classes > 1, type_name(), ": width ",
             c.width, ", depth ", c.depth, ", kernel ", c.kernel, ", patch ", c.patch, ", classes ", c.num_classes,
             " are not a valid model");
    using namespace nn;
    const int64_t w = c.width;
    auto bn = [&] { return std::make_shared<BatchNorm2d<T>>(BatchNorm2dConfig{.channels = w, .options = c.bn}); };
    if (c.rescale) rescale_ = this->register_module("rescale", std::make_shared<Rescaling<T>>(1.0 / 255.0));
    auto stem = std::make_shared<Sequential<T>>();
    stem->push_back(std::make_shared<PatchEmbed<T>>(
        PatchEmbedConfig{.in = c.in_channels, .out = w, .patch = c.patch, .init = c.init}, gen));
    stem->push_back(std::make_shared<GELU<T>>());
    stem->push_back(bn());
    stem_ = this->register_module("stem", stem);
    auto blocks = std::make_shared<Sequential<T>>();
    for (int64_t i = 0; i < c.depth; ++i) {
      auto spatial = std::make_shared<Sequential<T>>();
      spatial->push_back(std::make_shared<DepthwiseConv2d<T>>(
          DepthwiseConv2dConfig{.channels = w, .kernel = c.kernel, .init = c.init}, gen));
      spatial->push_back(std::make_shared<GELU<T>>());
      spatial->push_back(bn());
      auto block = std::make_shared<Sequential<T>>();
      block->push_back(std::make_shared<Residual<T>>(spatial));
      block->push_back(
          std::make_shared<PointwiseConv2d<T>>(PointwiseConv2dConfig{.in = w, .out = w, .init = c.init}, gen));
      block->push_back(std::make_shared<GELU<T>>());
      block->push_back(bn());
      blocks->push_back(block);
    }
    blocks_ = this->register_module("blocks", blocks);
    pooling_ = this->register_module("pooling", std::make_shared<GlobalAvgPool<T>>());
    head_ = this->register_module(
        "head", std::make_shared<Linear<T>>(LinearConfig{.in = w, .out = c.num_classes, .init = c.init}, gen));
    if (c.softmax_head) softmax_ = this->register_module("softmax", std::make_shared<Softmax<T>>());
  }

  Tensor<T> forward(const Tensor<T>& x) override {
    Tensor<T> y = rescale_ ? rescale_(x) : x;
    y = head_(pooling_(blocks_(stem_(y))));
    return softmax_ ? softmax_(y) : y;
  }
  std::string type_name() const override { return "ConvMixer"; }
  const ConvMixerConfig& config() const { return c_; }

  // The patch embedding's weight [patch, patch, in, width] and block i's depthwise
  // kernel [kernel, kernel, width], for the seed's filter pictures.
  Tensor<T> patch_embedding_weight() const { return static_cast<const nn::Conv2d<T>&>((*stem_)[0]).weight; }
  Tensor<T> depthwise_weight(int64_t block) const {
    PN_CHECK(block >= 0 && block < c_.depth, type_name(), ": block ", block, " out of range [0, ", c_.depth, ")");
    const auto& b = static_cast<const nn::Sequential<T>&>((*blocks_)[static_cast<size_t>(block)]);
    const auto& res = *b.children()[0].second;
    const auto& spatial = static_cast<const nn::Sequential<T>&>(*res.children()[0].second);
    return static_cast<const nn::DepthwiseConv2d<T>&>(spatial[0]).weight;
  }

 private:
  ConvMixerConfig c_;
  typename nn::Module<T>::Ptr rescale_, pooling_, head_, softmax_;
  nn::Handle<nn::Sequential<T>> stem_, blocks_;
};

}  // namespace patchnet::models
