// Containers: Sequential (children "0", "1", ... run in order, PyTorch's nn.Sequential,
// so state names read "blocks.3.1.weight") and Residual (y = fn(x) + x, timm's
// ConvMixer Residual, whose child is named "fn").
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "patchnet/nn/module.hpp"
#include "patchnet/ops/elementwise.hpp"

namespace patchnet::nn {

template <FloatingPoint T>
class Sequential : public Module<T> {
 public:
  Sequential() = default;
  explicit Sequential(std::vector<typename Module<T>::Ptr> layers) {
    for (auto& l : layers) push_back(std::move(l));
  }
  // Appends a layer named by its position.
  template <class M>
  Handle<M> push_back(std::shared_ptr<M> m) {
    return this->register_module(std::to_string(this->children().size()), std::move(m));
  }
  // Appends a layer with its own name (Keras-style "inv_1", "dense_1").
  template <class M>
  Handle<M> add(const std::string& name, std::shared_ptr<M> m) {
    return this->register_module(name, std::move(m));
  }
  size_t size() const { return this->children().size(); }
  Module<T>& operator[](size_t i) const {
    PN_CHECK(i < size(), "Sequential: layer ", i, " out of range (", size(), " layers)");
    return *this->children()[i].second;
  }

  // Runs the layers in order; a layer that fuses with the one before it (Module::call_after,
  // e.g. BatchNorm2d after GELU) runs the pair as one op.
  Tensor<T> forward(const Tensor<T>& x) override { return run(x, size()); }

  // this(x) + r with the add done by the last two layers' fused op (GELU, BatchNorm2d).
  bool adds_residual() const override {
    const auto& layers = this->children();
    return size() >= 2 && layers[size() - 1].second->adds_after(*layers[size() - 2].second);
  }
  Tensor<T> forward_plus(const Tensor<T>& x, const Tensor<T>& r) override {
    const auto& layers = this->children();
    const size_t n = size();
    std::optional<Tensor<T>> out = layers[n - 1].second->call_after(*layers[n - 2].second, run(x, n - 2), &r);
    // call_plus asked adds_residual() under the same fusion switches, so the pair fuses.
    PN_CHECK(out.has_value(), "Sequential: the last two layers did not take the residual");
    return std::move(*out);
  }
  std::string type_name() const override { return "Sequential"; }

 private:
  // Layers [0, end), fused pairwise where they can.
  Tensor<T> run(const Tensor<T>& x, size_t end) {
    Tensor<T> y = x;
    const auto& layers = this->children();
    for (size_t i = 0; i < end; ++i) {
      if (i + 1 < end) {
        if (std::optional<Tensor<T>> fused = layers[i + 1].second->call_after(*layers[i].second, y)) {
          y = std::move(*fused);
          ++i;
          continue;
        }
      }
      y = layers[i].second(y);
    }
    return y;
  }
};

template <FloatingPoint T>
class Residual : public Module<T> {
 public:
  explicit Residual(typename Module<T>::Ptr fn) : fn_(this->register_module("fn", std::move(fn))) {}
  Tensor<T> forward(const Tensor<T>& x) override {
    if (std::optional<Tensor<T>> y = fn_->call_plus(x, x)) return std::move(*y);  // the add folded into fn's last op
    return add(fn_(x), x);
  }
  std::string type_name() const override { return "Residual"; }

 private:
  typename Module<T>::Ptr fn_;
};

}  // namespace patchnet::nn
