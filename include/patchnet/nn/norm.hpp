// Normalisation layers (ops in ops/batch_norm.hpp, ops/layer_norm.hpp, ops/group_norm.hpp):
//   BatchNorm2d  per channel over N, H, W; Keras defaults (momentum 0.99 as a decay,
//                eps 1e-3), state named as PyTorch's: weight, bias, running_mean,
//                running_var, num_batches_tracked. Training mode normalises with the batch
//                statistics and updates the running ones; eval mode uses the running ones.
//   LayerNorm    per row over the last dimension (channels of an NHWC pixel); weight, bias.
//   GroupNorm    per image and group of C / G channels over H, W and the group's channels
//                (PyTorch GroupNorm(G, C) on NHWC); weight, bias.
#pragma once

#include <string>

#include "patchnet/nn/activation.hpp"
#include "patchnet/nn/module.hpp"
#include "patchnet/ops/batch_norm.hpp"
#include "patchnet/ops/group_norm.hpp"
#include "patchnet/ops/layer_norm.hpp"

namespace patchnet::nn {

struct BatchNorm2dConfig {
  int64_t channels = 0;
  BatchNormOptions options = {};  // Keras: momentum 0.99, eps 1e-3, biased running variance
};

template <FloatingPoint T>
class BatchNorm2d : public Module<T> {
 public:
  explicit BatchNorm2d(const BatchNorm2dConfig& c) : opt_(c.options) {
    PN_CHECK(c.channels > 0, type_name(), ": channels ", c.channels, " must be positive");
    weight = this->register_parameter("weight", Tensor<T>::ones({c.channels}));
    bias = this->register_parameter("bias", Tensor<T>::zeros({c.channels}));
    running_mean = this->register_buffer("running_mean", Tensor<T>::zeros({c.channels}));
    running_var = this->register_buffer("running_var", Tensor<T>::ones({c.channels}));
    this->register_counter("num_batches_tracked", &num_batches_tracked);
  }
  Tensor<T> forward(const Tensor<T>& x) override {
    const bool training = this->is_training();
    if (training) ++num_batches_tracked;
    return batch_norm(x, weight, bias, running_mean, running_var, training, opt_);
  }
  // After a GELU (ConvMixer's activation block): gelu_batch_norm, one op for the two layers,
  // or gelu_batch_norm_add with the block's residual.
  bool fuses_after(const Module<T>& prev) const override { return dynamic_cast<const GELU<T>*>(&prev) != nullptr; }
  bool adds_after(const Module<T>& prev) const override { return fuses_after(prev); }
  Tensor<T> forward_after(const Module<T>& prev, const Tensor<T>& x, const Tensor<T>* residual) override {
    const bool training = this->is_training();
    if (training) ++num_batches_tracked;
    const GeluApprox approx = static_cast<const GELU<T>&>(prev).approx();
    if (residual)
      return gelu_batch_norm_add(x, *residual, weight, bias, running_mean, running_var, training, opt_, approx);
    return gelu_batch_norm(x, weight, bias, running_mean, running_var, training, opt_, approx);
  }
  std::string type_name() const override { return "BatchNorm2d"; }
  // Synchronised batch norm over the ranks of g (nullptr: this process's rows); see
  // dist::sync_batch_norm.
  void set_sync(dist::Group* g) { opt_.sync = g; }

  Tensor<T> weight, bias, running_mean, running_var;
  int64_t num_batches_tracked = 0;

 private:
  BatchNormOptions opt_;
};

struct LayerNormConfig {
  int64_t channels = 0;
  double eps = 1e-5;  // PyTorch's default and the ShiftViT seed's; Keras' own is 1e-3
};

template <FloatingPoint T>
class LayerNorm : public Module<T> {
 public:
  explicit LayerNorm(const LayerNormConfig& c) : eps_(c.eps) {
    PN_CHECK(c.channels > 0, type_name(), ": channels ", c.channels, " must be positive");
    PN_CHECK(c.eps > 0, type_name(), ": eps ", c.eps, " must be positive");
    weight = this->register_parameter("weight", Tensor<T>::ones({c.channels}));
    bias = this->register_parameter("bias", Tensor<T>::zeros({c.channels}));
  }
  Tensor<T> forward(const Tensor<T>& x) override { return layer_norm(x, weight, bias, eps_); }
  std::string type_name() const override { return "LayerNorm"; }

  Tensor<T> weight, bias;

 private:
  double eps_;
};

struct GroupNormConfig {
  int64_t groups = 0, channels = 0;
  double eps = 1e-5;  // PyTorch's default; Keras' GroupNormalization uses 1e-3
};

template <FloatingPoint T>
class GroupNorm : public Module<T> {
 public:
  explicit GroupNorm(const GroupNormConfig& c) : groups_(c.groups), eps_(c.eps) {
    PN_CHECK(c.channels > 0 && c.groups > 0 && c.channels % c.groups == 0, type_name(), ": ", c.groups,
             " groups must divide the ", c.channels, " channels (both positive)");
    PN_CHECK(c.eps > 0, type_name(), ": eps ", c.eps, " must be positive");
    weight = this->register_parameter("weight", Tensor<T>::ones({c.channels}));
    bias = this->register_parameter("bias", Tensor<T>::zeros({c.channels}));
  }
  Tensor<T> forward(const Tensor<T>& x) override { return group_norm(x, groups_, weight, bias, eps_); }
  std::string type_name() const override { return "GroupNorm"; }

  Tensor<T> weight, bias;

 private:
  int64_t groups_;
  double eps_;
};

}  // namespace patchnet::nn
