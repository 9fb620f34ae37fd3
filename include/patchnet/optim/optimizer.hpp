// The optimizer interface: a list of named leaf parameters, one update per step(lr), and
// the state a checkpoint saves.
//
// - The learning rate is an argument of step(); the schedule (optim/schedule.hpp) is the
//   caller's: `opt.step(schedule(opt.steps()))`.
// - A parameter whose grad() is undefined at step() is skipped, its state untouched (as in
//   PyTorch). steps() still counts the update: it is one global iteration counter, like
//   Keras' `optimizer.iterations` (PyTorch keeps one count per parameter instead; the two
//   differ only for a parameter that misses some steps).
// - ParamRef::decay = false excludes a parameter from weight decay (biases, norms).
// - state_tensors() returns the state under "<param name>.<state>" names. The tensors alias
//   the live state, which exists (zeros) from construction, so a checkpoint loader can
//   copy_ into them; with steps() restored through set_steps, the next step continues
//   exactly where the saved run stopped.
// - State lives on its parameter's device. An optimizer built before `model.to(device)`
//   (which moves the parameters in place) moves its state there, values kept, at the next
//   step(); a gradient on another device than its parameter is an Error.
#pragma once

#include <cmath>
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "patchnet/autograd/grad_mode.hpp"
#include "patchnet/core/tensor.hpp"
#include "patchnet/nn/module.hpp"

namespace patchnet::optim {

template <FloatingPoint T>
struct ParamRef {
  std::string name;
  Tensor<T> tensor;
  bool decay = true;  // false: no weight decay for this parameter
};

// Every parameter of a model under its state-dict name, all with weight decay (as Keras and
// torch.optim.AdamW apply it). Each optimizer also takes the model itself:
// `optim::AdamW<float> opt(model, optim::AdamWOptions::keras(1e-4))`.
template <FloatingPoint T>
std::vector<ParamRef<T>> parameters_of(const nn::Module<T>& model) {
  std::vector<ParamRef<T>> out;
  for (const auto& p : model.named_parameters()) out.push_back({p.name, p.tensor});
  return out;
}

template <FloatingPoint T>
class Optimizer {
 public:
  virtual ~Optimizer() = default;

  // One update of every parameter that has a gradient, with this learning rate.
  virtual void step(double lr) = 0;

  // Drops the gradients of all parameters (Tensor::zero_grad), so the next backward
  // starts from nothing.
  void zero_grad() {
    for (auto& p : params_) p.tensor.zero_grad();
  }

  // Updates done so far (the bias-correction step of Adam is steps() + 1 during step()).
  int64_t steps() const { return steps_; }
  void set_steps(int64_t n) {
    PN_CHECK(n >= 0, name(), ": set_steps(", n, "): the step count must be >= 0");
    steps_ = n;
  }

  const std::vector<ParamRef<T>>& params() const { return params_; }

  // Named state tensors aliasing the live state (empty for a stateless optimizer).
  virtual std::vector<std::pair<std::string, Tensor<T>>> state_tensors() { return {}; }

  virtual std::string name() const { return "Optimizer"; }

 protected:
  // Checks the parameter list: not empty, defined contiguous leaves, unique non-empty names,
  // no tensor twice. `op` names the optimizer in messages.
  Optimizer(std::vector<ParamRef<T>> params, const char* op) : params_(std::move(params)) {
    PN_CHECK(!params_.empty(), op, ": empty parameter list");
    std::set<std::string> names;
    for (size_t i = 0; i < params_.size(); ++i) {
      const ParamRef<T>& p = params_[i];
      PN_CHECK(!p.name.empty(), op, ": parameter ", i, " has an empty name");
      PN_CHECK(names.insert(p.name).second, op, ": parameter name '", p.name, "' appears twice");
      PN_CHECK(p.tensor.defined(), op, ": parameter '", p.name, "' is an undefined tensor");
      PN_CHECK(p.tensor.is_leaf(), op, ": parameter '", p.name,
               "' was made by an op; optimizers update leaf tensors only (detach() it)");
      PN_CHECK(p.tensor.is_contiguous(), op, ": parameter '", p.name, "' ", p.tensor.shape(),
               " is a non-contiguous view; pass the tensor that owns the values");
      for (size_t j = 0; j < i; ++j)
        PN_CHECK(!params_[j].tensor.is_same(p.tensor), op, ": parameters '", params_[j].name, "' and '", p.name,
                 "' are the same tensor");
    }
  }

  // Throws unless lr is a finite number >= 0.
  static void check_lr(const char* op, double lr) {
    PN_CHECK(std::isfinite(lr) && lr >= 0, op, ": learning rate ", lr, " must be finite and >= 0");
  }

  // Moves a state tensor to its parameter's device if the parameter has moved since.
  static void follow(Tensor<T>& state, const ParamRef<T>& p) {
    if (state.device() != p.tensor.device()) state.move_to_(p.tensor.device());
  }

  // The parameter's gradient, packed, or an undefined tensor when it has none. Throws if
  // its shape or device differs from the parameter's.
  static Tensor<T> packed_grad(const char* op, const ParamRef<T>& p) {
    Tensor<T> g = p.tensor.grad();
    if (!g.defined()) return g;
    PN_CHECK(g.shape() == p.tensor.shape(), op, ": gradient of '", p.name, "' has shape ", g.shape(),
             ", the parameter ", p.tensor.shape());
    PN_CHECK(g.device() == p.tensor.device(), op, ": gradient of '", p.name, "' is on ", g.device(),
             ", the parameter on ", p.tensor.device());
    NoGrad no_grad;  // a gradient made with create_graph must not record a copy
    return g.contiguous();
  }

  std::vector<ParamRef<T>> params_;
  int64_t steps_ = 0;
};

}  // namespace patchnet::optim
