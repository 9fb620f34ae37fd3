// Dropout (per element) and DropPath (stochastic depth: per sample) layers; identity in
// eval mode or at p = 0. Masks come from a Generator the layer shares with the model
// (by default the process-wide one), so seeding it, and saving its offset in a
// checkpoint, fixes every mask of a run (ops/dropout.hpp).
#pragma once

#include <memory>
#include <string>

#include "patchnet/core/random.hpp"
#include "patchnet/nn/module.hpp"
#include "patchnet/ops/dropout.hpp"

namespace patchnet::nn {

template <FloatingPoint T>
class Dropout : public Module<T> {
 public:
  explicit Dropout(double p, Generator* gen = nullptr) : p_(p), gen_(gen ? gen : &default_generator()) {
    patchnet::detail::check_drop_probability("Dropout", p);
  }
  Tensor<T> forward(const Tensor<T>& x) override { return dropout(x, p_, this->is_training(), *gen_); }
  std::string type_name() const override { return "Dropout"; }
  double p() const { return p_; }

 private:
  double p_;
  Generator* gen_;
};

template <FloatingPoint T>
class DropPath : public Module<T> {
 public:
  explicit DropPath(double p, Generator* gen = nullptr) : p_(p), gen_(gen ? gen : &default_generator()) {
    patchnet::detail::check_drop_probability("DropPath", p);
  }
  Tensor<T> forward(const Tensor<T>& x) override { return drop_path(x, p_, this->is_training(), *gen_); }
  std::string type_name() const override { return "DropPath"; }
  double p() const { return p_; }

 private:
  double p_;
  Generator* gen_;
};

}  // namespace patchnet::nn
