// Linear (Keras Dense, PyTorch nn.Linear): y = x w + b over the last dimension, weight
// [in, out] (exported to PyTorch as [out, in]), bias [out].
#pragma once

#include <string>

#include "patchnet/nn/init_scheme.hpp"
#include "patchnet/nn/module.hpp"
#include "patchnet/ops/matmul.hpp"

namespace patchnet::nn {

struct LinearConfig {
  int64_t in = 0, out = 0;
  bool bias = true;
  Init init = Init::Keras;
};

template <FloatingPoint T>
class Linear : public Module<T> {
 public:
  Linear(const LinearConfig& c, Generator& gen) {
    PN_CHECK(c.in > 0 && c.out > 0, type_name(), ": in ", c.in, " and out ", c.out, " must be positive");
    const Shape shape{c.in, c.out};
    const init::Fans torch = init::torch_fans_linear(shape);
    weight = this->register_parameter("weight", init_weight<T>(c.init, shape, init::keras_fans(shape), torch, gen),
                                      TorchLayout::Linear);
    if (c.bias) bias = this->register_parameter("bias", init_bias<T>(c.init, c.out, torch, gen));
  }
  Tensor<T> forward(const Tensor<T>& x) override { return linear(x, weight, bias); }
  std::string type_name() const override { return "Linear"; }

  Tensor<T> weight, bias;
};

}  // namespace patchnet::nn
