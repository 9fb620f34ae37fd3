// Per-element update rules of the optimizers, shared by the CPU loops (cpu/optim.hpp) and a
// future CUDA kernel. The caller folds the learning rate, the decay convention and the
// bias corrections (computed in double) into the scalar coefficients below, so one rule
// covers PyTorch, Keras 3 and TensorFlow Addons:
//
//   Adam(W), step t (1-based):
//     p -= decay * p                         decay = lr * wd (ScaledByLr), wd (Unscaled), 0
//     m  = b1 * m + (1 - b1) * g
//     v  = b2 * v + (1 - b2) * g * g
//     p -= step_size * m / (sqrt(v) * v_scale + eps)
//   PyTorch epsilon: step_size = lr / (1 - b1^t), v_scale = 1 / sqrt(1 - b2^t)
//   Keras epsilon:   step_size = lr * sqrt(1 - b2^t) / (1 - b1^t), v_scale = 1
//
//   SGD (PyTorch, dampening 0; the buffer starts at zero, which equals PyTorch's first-step
//   copy of d when dampening is 0):
//     d   = g + wd * p                       (coupled L2 decay)
//     buf = momentum * buf + d
//     d   = nesterov ? d + momentum * buf : buf
//     p  -= lr * d
#pragma once

#include <cmath>

#include "patchnet/core/config.hpp"

namespace patchnet::math {

template <class T>
struct AdamCoeffs {
  T beta1, beta2;
  T one_minus_beta1, one_minus_beta2;
  T decay;      // p -= decay * p before the Adam update; 0 when the param is not decayed
  T step_size;  // see the header
  T v_scale;    // 1 / sqrt(1 - b2^t) (PyTorch) or 1 (Keras)
  T eps;
};

template <class T>
PATCHNET_HD inline void adam_update(T& p, T& m, T& v, T g, const AdamCoeffs<T>& c) {
  using std::sqrt;
  p -= c.decay * p;
  m = c.beta1 * m + c.one_minus_beta1 * g;
  v = c.beta2 * v + c.one_minus_beta2 * (g * g);
  p -= c.step_size * m / (sqrt(v) * c.v_scale + c.eps);
}

template <class T>
struct SgdCoeffs {
  T lr;
  T weight_decay;  // 0 when the param is not decayed
  T momentum;
};

// Momentum SGD; buf is the momentum buffer. Nesterov is a template argument so the
// loop calling this has no branch.
template <bool Nesterov, class T>
PATCHNET_HD inline void sgd_momentum_update(T& p, T& buf, T g, const SgdCoeffs<T>& c) {
  const T d = g + c.weight_decay * p;
  buf = c.momentum * buf + d;
  if constexpr (Nesterov) p -= c.lr * (d + c.momentum * buf);
  else p -= c.lr * buf;
}

// Plain SGD (momentum 0: no buffer, as in PyTorch).
template <class T>
PATCHNET_HD inline void sgd_update(T& p, T g, const SgdCoeffs<T>& c) {
  p -= c.lr * (g + c.weight_decay * p);
}

}  // namespace patchnet::math
