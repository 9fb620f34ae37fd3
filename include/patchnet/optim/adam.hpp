// Adam and AdamW, with the conventions of PyTorch, Keras 3 and TensorFlow Addons.
//
// Step t = steps() + 1 (1-based), learning rate lr, gradient g; per parameter, in order:
//
//   torch.optim.AdamW (1.13, amsgrad off):
//     p  = p * (1 - lr * wd)
//     m  = b1 * m + (1 - b1) * g
//     v  = b2 * v + (1 - b2) * g^2
//     p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)          eps 1e-8
//   torch.optim.Adam: the same without the first line (its weight_decay is L2 and not offered
//   here).
//
//   keras.optimizers.AdamW (Keras 3; weight decay applied by the base optimizer before the
//   Adam update_step, with the same lr):
//     p  = p - p * wd * lr
//     m += (g - m) * (1 - b1)
//     v += (g^2 - v) * (1 - b2)
//     alpha = lr * sqrt(1 - b2^t) / (1 - b1^t)
//     p -= alpha * m / (sqrt(v) + eps)                                        eps 1e-7
//   keras.optimizers.Adam (Keras 3) and tf.keras Adam (ResourceApplyAdam): the same without
//   the first line. This eps is the paper's "epsilon hat": it sits outside the bias
//   correction of v, so it equals PyTorch's eps times sqrt(1 - b2^t).
//
//   tfa.optimizers.AdamW (DecoupledWeightDecayExtension over tf.keras Adam; the ConvMixer
//   example's TF2 version, the ShiftViT example): `var.assign_sub(wd * var)` runs before
//   the Adam update:
//     p  = p - wd * p                                   (wd NOT multiplied by lr)
//     then tf.keras Adam as above                                             eps 1e-7
//   so wd must be scheduled by hand if lr is (TFA's documentation says so).
//
// patchnet computes one rule for all (math/optim.hpp): p -= decay * p with decay = lr * wd
// (DecayConvention::ScaledByLr) or wd (Unscaled), then the moments, then
// p -= step_size * m / (sqrt(v) * v_scale + eps), with the bias corrections computed in
// double and the per-element math in T. The moments are b1 * m + (1 - b1) * g in every
// convention (equal to Keras' m += (g - m) * (1 - b1) up to rounding).
//
// State: "<param>.exp_avg" (m) and "<param>.exp_avg_sq" (v), zeros from construction, in T
// on the parameter's device (and moved with it: optim/optimizer.hpp). CUDA parameters: one
// update kernel per parameter (cuda/optim.cu), the same per-element code; the coefficients
// go by value, so a step copies nothing to the GPU.
#pragma once

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "patchnet/cpu/optim.hpp"
#include "patchnet/cuda/optim.hpp"
#include "patchnet/ops/dispatch.hpp"
#include "patchnet/optim/optimizer.hpp"

namespace patchnet::optim {

// Whether the decoupled weight decay is multiplied by the learning rate.
enum class DecayConvention {
  ScaledByLr,  // p -= lr * wd * p: torch.optim.AdamW, Keras 3 keras.optimizers.AdamW
  Unscaled,    // p -= wd * p: tfa.optimizers.AdamW (the ShiftViT and TF2 ConvMixer examples)
};

// Where epsilon enters the Adam denominator.
enum class EpsilonConvention {
  PyTorch,  // sqrt(v_hat) + eps, v_hat = v / (1 - b2^t)
  Keras,    // sqrt(v) + eps with the bias corrections folded into the step size
};

struct AdamWOptions {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 1e-2;
  DecayConvention decay = DecayConvention::ScaledByLr;
  EpsilonConvention epsilon = EpsilonConvention::PyTorch;

  // torch.optim.AdamW defaults (wd 1e-2 there).
  static AdamWOptions pytorch(double wd = 1e-2) {
    return {0.9, 0.999, 1e-8, wd, DecayConvention::ScaledByLr, EpsilonConvention::PyTorch};
  }
  // keras.optimizers.AdamW (Keras 3) defaults (wd 4e-3 there).
  static AdamWOptions keras(double wd = 4e-3) {
    return {0.9, 0.999, 1e-7, wd, DecayConvention::ScaledByLr, EpsilonConvention::Keras};
  }
  // tfa.optimizers.AdamW (wd has no default there; the seeds use 1e-4).
  static AdamWOptions tensorflow_addons(double wd = 1e-4) {
    return {0.9, 0.999, 1e-7, wd, DecayConvention::Unscaled, EpsilonConvention::Keras};
  }
};

struct AdamOptions {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  EpsilonConvention epsilon = EpsilonConvention::PyTorch;

  // torch.optim.Adam defaults.
  static AdamOptions pytorch() { return {0.9, 0.999, 1e-8, EpsilonConvention::PyTorch}; }
  // Keras "adam" (keras.optimizers.Adam / tf.keras Adam defaults; the involution example).
  static AdamOptions keras() { return {0.9, 0.999, 1e-7, EpsilonConvention::Keras}; }
};

namespace detail {

// The state and the update shared by Adam and AdamW.
template <FloatingPoint T>
class AdamBase : public Optimizer<T> {
 public:
  void step(double lr) override {
    const char* op = op_name_;
    Optimizer<T>::check_lr(op, lr);
    const double t = static_cast<double>(this->steps_ + 1);
    const double bc1 = 1.0 - std::pow(beta1_, t), bc2 = 1.0 - std::pow(beta2_, t);
    const bool keras = epsilon_ == EpsilonConvention::Keras;
    math::AdamCoeffs<T> c{};
    c.beta1 = static_cast<T>(beta1_);
    c.beta2 = static_cast<T>(beta2_);
    c.one_minus_beta1 = static_cast<T>(1.0 - beta1_);
    c.one_minus_beta2 = static_cast<T>(1.0 - beta2_);
    c.step_size = static_cast<T>(keras ? lr * std::sqrt(bc2) / bc1 : lr / bc1);
    c.v_scale = static_cast<T>(keras ? 1.0 : 1.0 / std::sqrt(bc2));
    c.eps = static_cast<T>(eps_);
    const T decay = static_cast<T>(decay_ == DecayConvention::ScaledByLr ? lr * weight_decay_ : weight_decay_);
    for (size_t i = 0; i < this->params_.size(); ++i) {
      const ParamRef<T>& p = this->params_[i];
      const Tensor<T> g = Optimizer<T>::packed_grad(op, p);
      if (!g.defined()) continue;
      c.decay = p.decay ? decay : T(0);
      Optimizer<T>::follow(exp_avg_[i], p);
      Optimizer<T>::follow(exp_avg_sq_[i], p);
      if (p.tensor.is_cpu())
        cpu::adam_update(p.tensor.data(), exp_avg_[i].data(), exp_avg_sq_[i].data(), g.data(), p.tensor.numel(), c);
      else
        PN_CUDA(op, cuda::adam_update(p.tensor.data(), exp_avg_[i].data(), exp_avg_sq_[i].data(), g.data(),
                                      p.tensor.numel(), c));
    }
    ++this->steps_;
  }

  std::vector<std::pair<std::string, Tensor<T>>> state_tensors() override {
    std::vector<std::pair<std::string, Tensor<T>>> out;
    for (size_t i = 0; i < this->params_.size(); ++i) {
      out.emplace_back(this->params_[i].name + ".exp_avg", exp_avg_[i]);
      out.emplace_back(this->params_[i].name + ".exp_avg_sq", exp_avg_sq_[i]);
    }
    return out;
  }

  std::string name() const override { return op_name_; }

 protected:
  AdamBase(std::vector<ParamRef<T>> params, const char* op, double beta1, double beta2, double eps, double weight_decay,
           DecayConvention decay, EpsilonConvention epsilon)
      : Optimizer<T>(std::move(params), op),
        op_name_(op),
        beta1_(beta1),
        beta2_(beta2),
        eps_(eps),
        weight_decay_(weight_decay),
        decay_(decay),
        epsilon_(epsilon) {
    PN_CHECK(beta1 >= 0 && beta1 < 1, op, ": beta1 ", beta1, " must be in [0, 1)");
    PN_CHECK(beta2 >= 0 && beta2 < 1, op, ": beta2 ", beta2, " must be in [0, 1)");
    PN_CHECK(std::isfinite(eps) && eps >= 0, op, ": eps ", eps, " must be finite and >= 0");
    PN_CHECK(std::isfinite(weight_decay) && weight_decay >= 0, op, ": weight_decay ", weight_decay,
             " must be finite and >= 0");
    for (const ParamRef<T>& p : this->params_) {
      exp_avg_.push_back(Tensor<T>::zeros(p.tensor.shape(), p.tensor.device()));
      exp_avg_sq_.push_back(Tensor<T>::zeros(p.tensor.shape(), p.tensor.device()));
    }
  }

 private:
  const char* op_name_;
  double beta1_, beta2_, eps_, weight_decay_;
  DecayConvention decay_;
  EpsilonConvention epsilon_;
  std::vector<Tensor<T>> exp_avg_, exp_avg_sq_;  // one per parameter
};

}  // namespace detail

// Adam with decoupled weight decay; the conventions are chosen in AdamWOptions (presets
// pytorch(), keras(), tensorflow_addons()).
template <FloatingPoint T>
class AdamW : public detail::AdamBase<T> {
 public:
  explicit AdamW(std::vector<ParamRef<T>> params, const AdamWOptions& o = {})
      : detail::AdamBase<T>(std::move(params), "AdamW", o.beta1, o.beta2, o.eps, o.weight_decay, o.decay, o.epsilon) {}
  explicit AdamW(const nn::Module<T>& model, const AdamWOptions& o = {}) : AdamW(parameters_of(model), o) {}
};

// Adam without weight decay (presets AdamOptions::pytorch(), AdamOptions::keras()).
template <FloatingPoint T>
class Adam : public detail::AdamBase<T> {
 public:
  explicit Adam(std::vector<ParamRef<T>> params, const AdamOptions& o = {})
      : detail::AdamBase<T>(std::move(params), "Adam", o.beta1, o.beta2, o.eps, 0.0, DecayConvention::ScaledByLr,
                            o.epsilon) {}
  explicit Adam(const nn::Module<T>& model, const AdamOptions& o = {}) : Adam(parameters_of(model), o) {}
};

}  // namespace patchnet::optim
