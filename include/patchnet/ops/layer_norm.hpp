// layer_norm: Keras LayerNormalization(axis=-1) / PyTorch LayerNorm(C) over the last
// dimension of x [..., C] (NHWC images: per pixel over its channels; tokens: per token).
//
//   y = (x - mean) / sqrt(var + eps) * gamma + beta,  mean and biased var over the row
//
// eps is inside the sqrt. The default 1e-5 is PyTorch's and ShiftViT's (the seed sets
// epsilon = 1e-5); Keras' own default is 1e-3. gamma / beta [C] may be undefined (scale 1,
// shift 0).
//
// Saves x, gamma, and per row mean and rstd = 1 / sqrt(var + eps) (in T). Backward
// (cpu/layer_norm.hpp) writes fresh gradients, with xhat = (x - mean) * rstd, gh = g gamma:
//   dx = rstd * (gh - mean_C(gh) - xhat * mean_C(gh xhat)),  dgamma = sum_rows g xhat,
//   dbeta = sum_rows g.
//
// CUDA (cuda/layer_norm.cu), the same formulas (math/norm.hpp): forward and dx one warp
// per row (row sums in double, fixed xor-butterfly order); dgamma / dbeta as per-block
// partial column sums over row groups plus a fixed-order final kernel. Deterministic, no
// atomics.
#pragma once

#include <cmath>
#include <utility>
#include <vector>

#include "patchnet/autograd/node.hpp"
#include "patchnet/core/tensor.hpp"
#include "patchnet/cpu/layer_norm.hpp"
#include "patchnet/cuda/norm.hpp"
#include "patchnet/ops/dispatch.hpp"

namespace patchnet {

namespace detail {
// gamma / beta as a packed [C] tensor, or `fill` repeated when the layer has none.
template <class T>
Tensor<T> channel_param_or(const Tensor<T>& v, int64_t C, T fill, Device device = Device::cpu()) {
  return v.defined() ? v.detach().contiguous() : Tensor<T>::full({C}, fill, device);
}
}  // namespace detail

template <FloatingPoint T>
Tensor<T> layer_norm(const Tensor<T>& x, const Tensor<T>& gamma, const Tensor<T>& beta, double eps = 1e-5) {
  const Device dev = detail::common_device<T>("layer_norm", {&x, &gamma, &beta});
  PN_CHECK(x.dim() >= 1, "layer_norm: input ", x.shape(), " must have rank >= 1 (normalised over the last dimension)");
  const int64_t C = x.size(-1);
  PN_CHECK(C > 0, "layer_norm: input ", x.shape(), " has an empty last dimension");
  for (const auto& [what, v] : {std::pair{"gamma", &gamma}, std::pair{"beta", &beta}})
    PN_CHECK(!v->defined() || (v->dim() == 1 && v->size(0) == C), "layer_norm: ", what, " ",
             v->defined() ? v->shape().str() : "", " does not match input ", x.shape(), ": expected [", C, "]");
  PN_CHECK(eps > 0.0 && std::isfinite(eps), "layer_norm: eps ", eps, " must be positive");

  const cpu::ChannelRows s{x.numel() / C, C};
  const Tensor<T> xc = x.detach().contiguous();
  const Tensor<T> gc = detail::channel_param_or(gamma, C, T(1), dev), bc = detail::channel_param_or(beta, C, T(0), dev);
  Tensor<T> y = Tensor<T>::empty(x.shape(), dev);
  Tensor<T> mean = Tensor<T>::empty({s.rows}, dev), rstd = Tensor<T>::empty({s.rows}, dev);
  const cuda::LayerNormParams p{s.rows, C, eps};
  if (dev.is_cpu())
    cpu::layer_norm_forward(xc.data(), s, gc.data(), bc.data(), eps, y.data(), mean.data(), rstd.data());
  else
    PN_CUDA("layer_norm",
            cuda::layer_norm_forward(xc.data(), gc.data(), bc.data(), y.data(), mean.data(), rstd.data(), p));

  autograd::record<T>(
      "layer_norm", {x, gamma, beta}, {y}, [xc, gc, mean, rstd, s, p](const auto& grads, const auto& needs) {
        const Tensor<T> g = grads[0].contiguous();
        const Device dev = xc.device();
        Tensor<T> gx, ggamma, gbeta;
        if (needs[0]) gx = Tensor<T>::empty(xc.shape(), dev);
        if (needs[1]) ggamma = Tensor<T>::empty({s.channels}, dev);
        if (needs[2]) gbeta = Tensor<T>::empty({s.channels}, dev);
        auto ptr = [](const auto& t) { return t.defined() ? t.data() : nullptr; };
        if (dev.is_cpu()) {
          cpu::layer_norm_backward(g.data(), xc.data(), s, mean.data(), rstd.data(), gc.data(), ptr(gx), ptr(ggamma),
                                   ptr(gbeta));
        } else {
          const Tensor<double> work = needs[1] || needs[2]
                                          ? Tensor<double>::empty({cuda::norm_workspace(s.rows, s.channels)}, dev)
                                          : Tensor<double>();
          PN_CUDA("layer_norm", cuda::layer_norm_backward(g.data(), xc.data(), mean.data(), rstd.data(), gc.data(),
                                                          ptr(work), ptr(gx), ptr(ggamma), ptr(gbeta), p));
        }
        return std::vector<Tensor<T>>{gx, ggamma, gbeta};
      });
  return y;
}

}  // namespace patchnet
