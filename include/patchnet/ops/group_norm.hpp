// group_norm: PyTorch GroupNorm(G, C) / Keras GroupNormalization(groups=G) on NHWC x
// [N, H, W, C]. The channels form G groups of C / G consecutive channels, and each image's
// group is normalised over its H * W * C / G values:
//
//   y = (x - mean) / sqrt(var + eps) * gamma[c] + beta[c],  biased var, eps inside the sqrt
//
// G = 1 normalises each image over all its values, G = C each channel (instance norm).
// gamma / beta [C] may be undefined (scale 1, shift 0). eps defaults to PyTorch's 1e-5
// (Keras' GroupNormalization uses 1e-3).
//
// Saves x, gamma, and per (image, group) mean and rstd = 1 / sqrt(var + eps). Backward, with
// xhat = (x - mean) rstd, gh = g gamma and means over the group's values (layer norm's
// formulas, math/norm.hpp):
//   dx = rstd (gh - mean(gh) - xhat mean(gh xhat)),  dgamma = sum_{n,h,w} g xhat,
//   dbeta = sum_{n,h,w} g.
// CPU: cpu/group_norm.hpp. CUDA: cuda/group_norm.cu, a block per (image, group) with block
// sums in a fixed order; dgamma / dbeta are column sums (detail::cuda_column_sum) of g xhat, which
// the backward kernel writes to a workspace the size of x, and of g. Deterministic on both.
#pragma once

#include <cmath>
#include <utility>
#include <vector>

#include "patchnet/autograd/node.hpp"
#include "patchnet/core/tensor.hpp"
#include "patchnet/cpu/group_norm.hpp"
#include "patchnet/ops/conv.hpp"
#include "patchnet/ops/dispatch.hpp"
#include "patchnet/ops/layer_norm.hpp"

namespace patchnet {

template <FloatingPoint T>
Tensor<T> group_norm(const Tensor<T>& x, int64_t groups, const Tensor<T>& gamma, const Tensor<T>& beta,
                     double eps = 1e-5) {
  const Device dev = detail::common_device<T>("group_norm", {&x, &gamma, &beta});
  detail::check_rank("group_norm", "input", x, 4);
  const int64_t C = x.size(3);
  PN_CHECK(x.size(1) > 0 && x.size(2) > 0 && C > 0, "group_norm: input ", x.shape(), " has an empty dimension");
  PN_CHECK(groups > 0 && C % groups == 0, "group_norm: ", groups, " groups do not divide the ", C,
           " channels of input ", x.shape());
  for (const auto& [what, v] : {std::pair{"gamma", &gamma}, std::pair{"beta", &beta}})
    PN_CHECK(!v->defined() || (v->dim() == 1 && v->size(0) == C), "group_norm: ", what, " ",
             v->defined() ? v->shape().str() : "", " does not match input ", x.shape(), ": expected [", C, "]");
  PN_CHECK(eps > 0.0 && std::isfinite(eps), "group_norm: eps ", eps, " must be positive");

  const math::GroupNormParams p{x.size(0), x.size(1) * x.size(2), C, groups, eps};
  const Tensor<T> xc = x.detach().contiguous();
  const Tensor<T> gc = detail::channel_param_or(gamma, C, T(1), dev), bc = detail::channel_param_or(beta, C, T(0), dev);
  Tensor<T> y = Tensor<T>::empty(x.shape(), dev);
  Tensor<T> mean = Tensor<T>::empty({p.N * groups}, dev), rstd = Tensor<T>::empty({p.N * groups}, dev);
  if (dev.is_cpu()) cpu::group_norm_forward(xc.data(), p, gc.data(), bc.data(), y.data(), mean.data(), rstd.data());
  else
    PN_CUDA("group_norm",
            cuda::group_norm_forward(xc.data(), gc.data(), bc.data(), y.data(), mean.data(), rstd.data(), p));

  autograd::record<T>(
      "group_norm", {x, gamma, beta}, {y}, [xc, gc, mean, rstd, p](const auto& grads, const auto& needs) {
        const Tensor<T> g = grads[0].contiguous();
        const Device dev = xc.device();
        Tensor<T> gx, ggamma, gbeta;
        if (needs[0]) gx = Tensor<T>::empty(xc.shape(), dev);
        auto ptr = [](const auto& t) { return t.defined() ? t.data() : nullptr; };
        if (dev.is_cpu()) {
          if (needs[1]) ggamma = Tensor<T>::empty({p.C}, dev);
          if (needs[2]) gbeta = Tensor<T>::empty({p.C}, dev);
          cpu::group_norm_backward(g.data(), xc.data(), p, mean.data(), rstd.data(), gc.data(), ptr(gx), ptr(ggamma),
                                   ptr(gbeta));
        } else {
          const int64_t rows = p.N * p.HW;
          const Tensor<T> gxhat = needs[1] ? Tensor<T>::empty(xc.shape(), dev) : Tensor<T>();
          PN_CUDA("group_norm", cuda::group_norm_backward(g.data(), xc.data(), mean.data(), rstd.data(), gc.data(),
                                                          ptr(gx), ptr(gxhat), p));
          if (needs[1]) ggamma = detail::cuda_column_sum(gxhat, rows, p.C);  // ops/conv.hpp: the bias gradients' sum
          if (needs[2]) gbeta = detail::cuda_column_sum(g, rows, p.C);
        }
        return std::vector<Tensor<T>>{gx, ggamma, gbeta};
      });
  return y;
}

}  // namespace patchnet
