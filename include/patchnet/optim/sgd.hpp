// SGD with momentum, PyTorch's torch.optim.SGD (dampening 0, maximize off). Per parameter,
// learning rate lr, gradient g:
//
//   d   = g + wd * p                  (weight decay coupled as an L2 term; decay=false: 0)
//   buf = momentum * buf + d          (PyTorch copies d into buf at the first step; with
//                                      dampening 0 that equals this update from buf = 0)
//   d   = nesterov ? d + momentum * buf : buf
//   p  -= lr * d
//
// With momentum 0 there is no buffer and p -= lr * d. State: "<param>.momentum_buffer"
// (zeros from construction, only when momentum != 0). Keras' SGD keeps lr inside its
// velocity (v = m * v - lr * g), which differs once lr changes; it is not offered.
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

struct SGDOptions {
  double momentum = 0.0;
  double weight_decay = 0.0;  // coupled (L2) decay
  bool nesterov = false;
};

template <FloatingPoint T>
class SGD : public Optimizer<T> {
 public:
  explicit SGD(std::vector<ParamRef<T>> params, const SGDOptions& o = {})
      : Optimizer<T>(std::move(params), "SGD"), o_(o) {
    PN_CHECK(std::isfinite(o.momentum) && o.momentum >= 0, "SGD: momentum ", o.momentum, " must be finite and >= 0");
    PN_CHECK(std::isfinite(o.weight_decay) && o.weight_decay >= 0, "SGD: weight_decay ", o.weight_decay,
             " must be finite and >= 0");
    PN_CHECK(!o.nesterov || o.momentum > 0, "SGD: nesterov needs a momentum > 0");
    if (o.momentum != 0)
      for (const ParamRef<T>& p : this->params_)
        buffers_.push_back(Tensor<T>::zeros(p.tensor.shape(), p.tensor.device()));
  }
  explicit SGD(const nn::Module<T>& model, const SGDOptions& o = {}) : SGD(parameters_of(model), o) {}

  void step(double lr) override {
    Optimizer<T>::check_lr("SGD", lr);
    math::SgdCoeffs<T> c{};
    c.lr = static_cast<T>(lr);
    c.momentum = static_cast<T>(o_.momentum);
    for (size_t i = 0; i < this->params_.size(); ++i) {
      const ParamRef<T>& p = this->params_[i];
      const Tensor<T> g = Optimizer<T>::packed_grad("SGD", p);
      if (!g.defined()) continue;
      c.weight_decay = p.decay ? static_cast<T>(o_.weight_decay) : T(0);
      if (!buffers_.empty()) Optimizer<T>::follow(buffers_[i], p);
      T* buf = buffers_.empty() ? nullptr : buffers_[i].data();
      if (p.tensor.is_cpu()) cpu::sgd_update(p.tensor.data(), buf, g.data(), p.tensor.numel(), c, o_.nesterov);
      else PN_CUDA("SGD", cuda::sgd_update(p.tensor.data(), buf, g.data(), p.tensor.numel(), c, o_.nesterov));
    }
    ++this->steps_;
  }

  std::vector<std::pair<std::string, Tensor<T>>> state_tensors() override {
    std::vector<std::pair<std::string, Tensor<T>>> out;
    for (size_t i = 0; i < buffers_.size(); ++i)
      out.emplace_back(this->params_[i].name + ".momentum_buffer", buffers_[i]);
    return out;
  }

  std::string name() const override { return "SGD"; }

 private:
  SGDOptions o_;
  std::vector<Tensor<T>> buffers_;  // one per parameter when momentum != 0
};

}  // namespace patchnet::optim
