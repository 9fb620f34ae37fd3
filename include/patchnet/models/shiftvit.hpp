// ShiftViT (Wang et al. 2022, "When Shift Operation Meets Vision Transformer"), as the
// Keras ShiftViT example builds it. Module names follow the example's layers:
//
//   patch_projection          PatchEmbed(3 -> dim, kernel = stride = patch, "same", bias)
//   stages.i                  StackedShiftBlocks: shift_blocks.j (ShiftViTBlock), then
//                             patch_merge (PatchMerging) on every stage but the last
//     shift_blocks.j          x = shift(x); x = x + drop_path(mlp(layer_norm(x)))
//       shift                 ChannelShift (no state)
//       layer_norm            LayerNorm(eps 1e-5)
//       mlp                   Sequential(0: Linear(C -> ratio*C), 1: GELU, 2: Dropout,
//                                        3: Linear(ratio*C -> C), 4: Dropout)
//       drop_path             DropPath(rate_j), rate_j = linspace(0, rate, blocks)[j],
//                             restarting at 0 in every stage as the seed's build() does
//     patch_merge             layer_norm (LayerNorm), reduction (Conv2d C -> 2C, k = s = 2,
//                             "same", no bias)
//   pooling                   GlobalAvgPool
//   classifier                Linear(C -> classes): logits
//
// The shift group: the paper's g = C / num_div by default (see ops/channel_shift.hpp for
// why, and for the seed's own reading, available as ShiftGroup::KerasSeed).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "patchnet/nn/activation.hpp"
#include "patchnet/nn/container.hpp"
#include "patchnet/nn/conv.hpp"
#include "patchnet/nn/dropout.hpp"
#include "patchnet/nn/linear.hpp"
#include "patchnet/nn/norm.hpp"
#include "patchnet/nn/pool.hpp"
#include "patchnet/nn/shift.hpp"

namespace patchnet::models {

enum class ShiftGroup { Paper, KerasSeed };

struct ShiftViTConfig {
  int64_t in_channels = 3, num_classes = 10, patch = 4, dim = 96;
  std::vector<int64_t> depths = {2, 4, 8, 2};
  int64_t num_div = 12, shift = 1;
  double mlp_ratio = 2.0, mlp_dropout = 0.2, drop_path = 0.2, eps = 1e-5;
  ShiftGroup shift_group = ShiftGroup::Paper;
  nn::Init init = nn::Init::Keras;
};

template <FloatingPoint T>
class ShiftViTBlock : public nn::Module<T> {
 public:
  ShiftViTBlock(int64_t C, double drop_path_rate, const ShiftViTConfig& c, Generator& gen, Generator* masks) {
    using namespace nn;
    const int64_t g =
        c.shift_group == ShiftGroup::Paper ? shift_group_paper(C, c.num_div) : shift_group_keras_seed(C, c.num_div);
    const auto hidden = static_cast<int64_t>(c.mlp_ratio * static_cast<double>(C));
    PN_CHECK(hidden > 0, type_name(), ": mlp_ratio ", c.mlp_ratio, " gives no hidden units at ", C, " channels");
    shift_ = this->register_module("shift", std::make_shared<ChannelShift<T>>(g, c.shift));
    norm_ = this->register_module("layer_norm",
                                  std::make_shared<LayerNorm<T>>(LayerNormConfig{.channels = C, .eps = c.eps}));
    auto mlp = std::make_shared<Sequential<T>>();
    mlp->push_back(std::make_shared<Linear<T>>(LinearConfig{.in = C, .out = hidden, .init = c.init}, gen));
    mlp->push_back(std::make_shared<GELU<T>>());
    mlp->push_back(std::make_shared<Dropout<T>>(c.mlp_dropout, masks));
    mlp->push_back(std::make_shared<Linear<T>>(LinearConfig{.in = hidden, .out = C, .init = c.init}, gen));
    mlp->push_back(std::make_shared<Dropout<T>>(c.mlp_dropout, masks));
    mlp_ = this->register_module("mlp", mlp);
    drop_path_ = this->register_module("drop_path", std::make_shared<DropPath<T>>(drop_path_rate, masks));
  }
  Tensor<T> forward(const Tensor<T>& x) override {
    const Tensor<T> s = shift_(x);
    return add(s, drop_path_(mlp_(norm_(s))));
  }
  std::string type_name() const override { return "ShiftViTBlock"; }

 private:
  typename nn::Module<T>::Ptr shift_, norm_, mlp_, drop_path_;
};

template <FloatingPoint T>
class PatchMerging : public nn::Module<T> {
 public:
  PatchMerging(int64_t C, const ShiftViTConfig& c, Generator& gen) {
    using namespace nn;
    norm_ = this->register_module("layer_norm",
                                  std::make_shared<LayerNorm<T>>(LayerNormConfig{.channels = C, .eps = c.eps}));
    reduction_ = this->register_module("reduction", std::make_shared<Conv2d<T>>(Conv2dConfig{.in = C,
                                                                                             .out = 2 * C,
                                                                                             .kernel = 2,
                                                                                             .stride = 2,
                                                                                             .padding = Padding::Same,
                                                                                             .bias = false,
                                                                                             .init = c.init},
                                                                                gen));
  }
  Tensor<T> forward(const Tensor<T>& x) override { return reduction_(norm_(x)); }
  std::string type_name() const override { return "PatchMerging"; }

 private:
  typename nn::Module<T>::Ptr norm_, reduction_;
};

template <FloatingPoint T>
class StackedShiftBlocks : public nn::Module<T> {
 public:
  StackedShiftBlocks(int64_t C, int64_t blocks, bool merge, const ShiftViTConfig& c, Generator& gen, Generator* masks) {
    auto seq = std::make_shared<nn::Sequential<T>>();
    for (int64_t j = 0; j < blocks; ++j) {  // np.linspace(0, rate, blocks)
      const double rate = blocks > 1 ? c.drop_path * static_cast<double>(j) / static_cast<double>(blocks - 1) : 0.0;
      seq->push_back(std::make_shared<ShiftViTBlock<T>>(C, rate, c, gen, masks));
    }
    blocks_ = this->register_module("shift_blocks", seq);
    if (merge) merge_ = this->register_module("patch_merge", std::make_shared<PatchMerging<T>>(C, c, gen));
  }
  Tensor<T> forward(const Tensor<T>& x) override {
    Tensor<T> y = blocks_(x);
    return merge_ ? merge_(y) : y;
  }
  std::string type_name() const override { return "StackedShiftBlocks"; }

 private:
  typename nn::Module<T>::Ptr blocks_, merge_;
};

template <FloatingPoint T>
class ShiftViT : public nn::Module<T> {
 public:
  // `masks` draws the dropout and drop-path masks (the process-wide generator if null).
  ShiftViT(const ShiftViTConfig& c, Generator& gen, Generator* masks = nullptr) : c_(c) {
    PN_CHECK(c.dim > 0 && c.patch > 0 && !c.depths.empty() && c.num_classes > 1, type_name(), ": dim ", c.dim,
             ", patch ", c.patch, ", ", c.depths.size(), " stages, classes ", c.num_classes, " are not a valid model");
    using namespace nn;
    proj_ = this->register_module(
        "patch_projection",
        std::make_shared<PatchEmbed<T>>(
            PatchEmbedConfig{
                .in = c.in_channels, .out = c.dim, .patch = c.patch, .padding = Padding::Same, .init = c.init},
            gen));
    auto stages = std::make_shared<Sequential<T>>();
    int64_t C = c.dim;
    for (size_t i = 0; i < c.depths.size(); ++i) {
      PN_CHECK(c.depths[i] >= 0, type_name(), ": stage ", i, " has ", c.depths[i], " blocks");
      const bool merge = i + 1 < c.depths.size();
      stages->push_back(std::make_shared<StackedShiftBlocks<T>>(C, c.depths[i], merge, c, gen, masks));
      if (merge) C *= 2;
    }
    stages_ = this->register_module("stages", stages);
    pooling_ = this->register_module("pooling", std::make_shared<GlobalAvgPool<T>>());
    classifier_ = this->register_module(
        "classifier", std::make_shared<Linear<T>>(LinearConfig{.in = C, .out = c.num_classes, .init = c.init}, gen));
  }
  Tensor<T> forward(const Tensor<T>& x) override { return classifier_(pooling_(stages_(proj_(x)))); }
  std::string type_name() const override { return "ShiftViT"; }
  const ShiftViTConfig& config() const { return c_; }

 private:
  ShiftViTConfig c_;
  typename nn::Module<T>::Ptr proj_, stages_, pooling_, classifier_;
};

}  // namespace patchnet::models
