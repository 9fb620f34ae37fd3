// Which framework's default initialisers a layer uses. The seeds are Keras programs, so
// Keras is the default (glorot_uniform kernels, zero biases); Torch gives PyTorch's
// (kaiming_uniform(a = sqrt 5) weights and U(+-1/sqrt(fan_in)) biases), for comparing
// with a PyTorch run of the same model.
#pragma once

#include "patchnet/nn/init.hpp"

namespace patchnet::nn {

enum class Init { Keras, Torch };

// A weight and its bias under one scheme; `keras` and `torch` are the fans each
// framework computes for this weight (they differ for depthwise kernels).
template <FloatingPoint T>
Tensor<T> init_weight(Init scheme, const Shape& shape, init::Fans keras, init::Fans torch, Generator& gen) {
  return scheme == Init::Keras ? init::glorot_uniform<T>(shape, keras, gen) : init::torch_default<T>(shape, torch, gen);
}
template <FloatingPoint T>
Tensor<T> init_bias(Init scheme, int64_t n, init::Fans torch, Generator& gen) {
  return scheme == Init::Keras ? Tensor<T>::zeros({n}) : init::torch_default<T>({n}, torch, gen);
}

}  // namespace patchnet::nn
