// Involution (Li et al. 2021, "Involution: Inverting the Inherence of Convolution for
// Visual Recognition"; the Keras involution example): a K x K window whose weights are
// generated per output pixel from the input itself, shared across the channels of a group.
//
// involution(x, kernel, K, S, G), all NHWC: x [N, H, W, C], kernel [N, OH, OW, K*K*G],
// out [N, OH, OW, C], with TensorFlow "same" padding (OH = ceil(H / S), odd pixel at the
// bottom / right; ops/geometry.hpp):
//   out[n,oh,ow,c] = sum_{kh,kw < K} kernel[n,oh,ow,(kh*K+kw)*G + c%G] * xpad[n, oh*S+kh-pt, ow*S+kw-pl, c]
// This is the seed's call(): tf.image.extract_patches (patch vector ordered (kh, kw, c))
// reshaped [.., K*K, C/G, G] times the kernel reshaped [.., K*K, 1, G], summed over K*K.
// The reshape makes channel c = cg*G + g belong to group g = c % G: groups are
// INTERLEAVED. The paper's official PyTorch code (d-li14/involution) views channels as
// [G, C/G], i.e. group c / (C/G), contiguous blocks. The two are the same function up
// to a fixed permutation of the channels; patchnet follows the seed, so trained weights
// and kernel heat maps read the seed's way. With G = 1 they agree.
//
// The multiply-reduce is fused: patches are never materialised (extract_patches writes a
// K*K times larger tensor, 9x for the seed's K = 3). Forward saves x and kernel
// (packed handles of the inputs). Backward writes two new tensors:
//   dkernel[n,oh,ow,kk*G+g] = sum_{c%G==g} dout[n,oh,ow,c] * xpad[n, ih, iw, c]    (per output pixel)
//   dx[n,ih,iw,c] = sum over the windows covering (ih, iw) of kernel[..., kk*G + c%G] * dout[..., c]
// dx is gathered per input pixel (no scatter, no atomics), so both are deterministic.
//
// CPU kernels: cpu/involution.hpp. CUDA kernels (cuda/involution.cu), same layouts, x and
// kernel read in place with bounds checks for the padding: forward one thread per output
// element (channels fastest); dx one thread per dx element gathering over the covering
// windows; dkernel 1 to 32 lanes of a warp per (pixel, tap, group) element, the lanes'
// partial dots over the group's channels added by a fixed shuffle tree. No atomics on
// either device: each gives the same bits run after run.
//
// involution_layer is the whole layer of the seed (build() and call()): the kernel is
// generated from (avg_pool(x) if S > 1 else x) by 1x1 conv C -> C/r, batch norm, ReLU,
// 1x1 conv C/r -> K*K*G, then involution(x, kernel, K, S, G); each step is its own op
// with its own backward. The seed's build() sizes its reshapes with H // S, which breaks
// for H not divisible by S; here OH = ceil(H / S) throughout, as "same" pooling and
// extract_patches produce, so any H works.
#pragma once

#include <vector>

#include "patchnet/autograd/node.hpp"
#include "patchnet/core/tensor.hpp"
#include "patchnet/cpu/involution.hpp"
#include "patchnet/cuda/involution.hpp"
#include "patchnet/ops/activation.hpp"
#include "patchnet/ops/batch_norm.hpp"
#include "patchnet/ops/dispatch.hpp"
#include "patchnet/ops/geometry.hpp"
#include "patchnet/ops/matmul.hpp"
#include "patchnet/ops/pool.hpp"

namespace patchnet {

namespace detail {
// Checks involution's inputs; returns the window geometry (same padding).
template <class T>
Window2d involution_geometry(const Tensor<T>& x, const Tensor<T>& kernel, int64_t K, int64_t S, int64_t G) {
  check_rank("involution", "input", x, 4);
  check_rank("involution", "kernel", kernel, 4);
  PN_CHECK(G > 0, "involution: groups ", G, " must be positive (input ", x.shape(), ")");
  PN_CHECK(x.size(3) % G == 0, "involution: input ", x.shape(), " has ", x.size(3),
           " channels, not divisible by groups ", G);
  const Window2d w = window2d("involution", x.shape(), K, S, Padding::Same);
  const Shape want{w.N, w.OH, w.OW, K * K * G};
  PN_CHECK(kernel.shape() == want, "involution: input ", x.shape(), " with kernel_size ", K, ", stride ", S,
           ", groups ", G, " needs kernel [N, OH, OW, K*K*G] = ", want, ", got ", kernel.shape());
  return w;
}
}  // namespace detail

// The multiply-reduce (see the header comment). kernel [N, OH, OW, K*K*G].
template <FloatingPoint T>
Tensor<T> involution(const Tensor<T>& x, const Tensor<T>& kernel, int64_t kernel_size, int64_t stride = 1,
                     int64_t groups = 1) {
  const Device dev = detail::common_device<T>("involution", {&x, &kernel});
  const Window2d w = detail::involution_geometry(x, kernel, kernel_size, stride, groups);
  const math::InvolutionDims d = math::involution_dims(w, groups);
  const Tensor<T> xc = x.contiguous().detach(), kc = kernel.contiguous().detach();
  Tensor<T> out = Tensor<T>::empty({w.N, w.OH, w.OW, w.C}, dev);
  if (dev.is_cpu()) cpu::involution_forward(xc.data(), kc.data(), out.data(), d);
  else PN_CUDA("involution", cuda::involution_forward(xc.data(), kc.data(), out.data(), d));
  autograd::record<T>("involution", {x, kernel}, {out}, [xc, kc, d](const auto& g, const auto& needs) {
    const Tensor<T> gc = g[0].contiguous();
    const bool on_cpu = xc.is_cpu();
    Tensor<T> gx, gk;
    if (needs[0]) {
      gx = Tensor<T>::empty(xc.shape(), xc.device());
      if (on_cpu) cpu::involution_backward_input(kc.data(), gc.data(), gx.data(), d);
      else PN_CUDA("involution", cuda::involution_backward_input(kc.data(), gc.data(), gx.data(), d));
    }
    if (needs[1]) {
      gk = Tensor<T>::empty(kc.shape(), kc.device());
      if (on_cpu) cpu::involution_backward_kernel(xc.data(), gc.data(), gk.data(), d);
      else PN_CUDA("involution", cuda::involution_backward_kernel(xc.data(), gc.data(), gk.data(), d));
    }
    return std::vector<Tensor<T>>{gx, gk};
  });
  return out;
}

struct InvolutionOptions {
  int64_t kernel_size = 3;
  int64_t stride = 1;
  int64_t groups = 1;
  BatchNormOptions bn = {};  // Keras BatchNormalization defaults: momentum 0.99, eps 1e-3
};

// The kernel generator's weights (the 1x1 convolutions are linear layers, [in, out]).
// reduce_* and span_* biases may be undefined (the seed's Conv2D layers have them).
template <FloatingPoint T>
struct InvolutionParams {
  Tensor<T> reduce_weight, reduce_bias;                          // [C, C/r], [C/r]
  Tensor<T> bn_gamma, bn_beta, bn_running_mean, bn_running_var;  // [C/r]; running ones updated in training
  Tensor<T> span_weight, span_bias;                              // [C/r, K*K*G], [K*K*G]
};

template <FloatingPoint T>
struct InvolutionResult {
  Tensor<T> output;  // [N, OH, OW, C]
  Tensor<T> kernel;  // [N, OH, OW, K*K*G], the generated kernel (the seed returns it for heat maps)
};

// The seed's Involution layer; `training` selects batch statistics (and updates the
// running ones) or the running statistics.
template <FloatingPoint T>
InvolutionResult<T> involution_layer(const Tensor<T>& x, const InvolutionParams<T>& p, const InvolutionOptions& opt,
                                     bool training) {
  detail::check_rank("involution_layer", "input", x, 4);
  detail::check_rank("involution_layer", "reduce_weight", p.reduce_weight, 2);
  detail::check_rank("involution_layer", "span_weight", p.span_weight, 2);
  const int64_t K = opt.kernel_size, S = opt.stride, G = opt.groups;
  PN_CHECK(K > 0 && S > 0 && G > 0, "involution_layer: kernel_size ", K, ", stride ", S, " and groups ", G,
           " must be positive (input ", x.shape(), ")");
  PN_CHECK(p.reduce_weight.size(0) == x.size(3), "involution_layer: input ", x.shape(), " has ", x.size(3),
           " channels but reduce_weight ", p.reduce_weight.shape(), " expects ", p.reduce_weight.size(0));
  PN_CHECK(p.span_weight.size(0) == p.reduce_weight.size(1) && p.span_weight.size(1) == K * K * G,
           "involution_layer: span_weight ", p.span_weight.shape(), " must be [C/r, K*K*G] = [",
           p.reduce_weight.size(1), ",", K * K * G, "] (reduce_weight ", p.reduce_weight.shape(), ", K ", K, ", G ", G,
           ")");
  // The kernel generator sees the input at the output's resolution.
  const Tensor<T> src = S > 1 ? avg_pool2d(x, Pool2dOptions{.pool = S, .stride = S, .padding = Padding::Same}) : x;
  const Tensor<T> hidden = relu(batch_norm(linear(src, p.reduce_weight, p.reduce_bias), p.bn_gamma, p.bn_beta,
                                           p.bn_running_mean, p.bn_running_var, training, opt.bn));
  Tensor<T> kernel = linear(hidden, p.span_weight, p.span_bias);
  return {involution(x, kernel, K, S, G), kernel};
}

}  // namespace patchnet
