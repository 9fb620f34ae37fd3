// 2-d convolutions in NHWC with Keras weight layouts: conv2d, depthwise_conv2d and
// pointwise_conv2d (TensorFlow / Keras Conv2D, DepthwiseConv2D and a 1x1 Conv2D).
//
//   conv2d:           y[n,oh,ow,co] = b[co] + sum_{kh,kw,ci} xpad[n, oh*SH+kh, ow*SW+kw, gi*Cg+ci]
//                                                          * w[kh,kw,ci,co]
//                     x [N,H,W,Cin], w HWIO [KH,KW,Cg = Cin/groups,Cout], group gi = co / (Cout/groups)
//   depthwise_conv2d: y[n,oh,ow,c]  = b[c] + sum_{kh,kw} xpad[n, oh*SH+kh, ow*SW+kw, c] * w[kh,kw,c]
//   pointwise_conv2d: y[n,h,w,co]   = b[co] + sum_ci x[n,h,w,ci] * w[ci,co]
//
// xpad is x zero-padded (pad.top rows above, pad.left columns to the left, ...). Bias is
// [Cout] or undefined. Padding (ops/geometry.hpp): "valid" none; "same" TensorFlow's
// (out = ceil(in/S), the odd pixel of padding at the bottom / right); or explicit. The
// Keras examples use: ConvMixer Conv2D(k = s = patch) "valid", DepthwiseConv2D(5, "same"),
// Conv2D(1); ShiftViT a patch projection k = s = 4 and patch merging k = s = 2, both
// "same"; the involution example's baseline Conv2D(3x3, "same"). No dilation.
//
// conv2d picks one of four paths (detail::conv2d_plan), all with the same result:
//   pointwise  1x1, stride 1, no padding, one group: one GEMM [N*H*W, Cin] x [Cin, Cout]
//              (ConvMixer's channel mixing);
//   depthwise  groups == Cin == Cout: the depthwise kernel (w [KH,KW,1,C] is [KH,KW,C]);
//   patches    kernel == stride, one group: non-overlapping windows (ConvMixer's stem,
//              ShiftViT's patch projection and patch merging): a space-to-depth copy and one
//              GEMM [N*OH*OW, KH*KW*Cin] x [KH*KW*Cin, Cout];
//   im2col     anything else (the 3x3 convolutions of the involution seed's baseline,
//              groups): patch matrix + GEMM per group, a bounded chunk of images at a time.
//
// Saved for backward: the input and the weight (packed). Backward writes fresh gradients:
// dx = correlation of dy with the flipped kernel (GEMM dy w^T then col2im / patch scatter,
// or the depthwise kernel), dw = sum over output pixels of dy x the input window (GEMM, or
// per-block partial sums added in a fixed order), db = sum of dy over N, OH, OW. All are
// race-free and deterministic.
//
// CUDA (kernels in cuda/depthwise_conv.cu and cuda/conv_im2col.cu, launchers in
// cuda/conv.hpp; every matrix product is cuBLAS through detail::gemm): the same four
// paths. pointwise: the bias broadcast into y, then one GEMM with beta 1; backward two
// GEMMs. patches / im2col: the patch matrix built on the device (one thread per element;
// space-to-depth when kernel == stride) in chunks of up to kCudaChunkBytes, one GEMM per
// group; backward dcols = dy w^T then a gather back to dx (col2im: each thread one dx
// element summing its windows; patches: one entry each), dw = cols^T dy accumulated over
// chunks in order. depthwise: hand-written kernels, channels on consecutive threads (see
// cuda/depthwise_conv.cu); dw from per-block partial sums added in block order. Every bias
// gradient is cuda::column_sum over dy as [N*OH*OW, C] (fixed order). No atomics anywhere:
// CUDA results repeat bit for bit, and match the CPU to float rounding.
#pragma once

#include <vector>

#include "patchnet/autograd/node.hpp"
#include "patchnet/core/tensor.hpp"
#include "patchnet/cpu/conv2d.hpp"
#include "patchnet/cpu/depthwise_conv2d.hpp"
#include "patchnet/cuda/conv.hpp"
#include "patchnet/ops/copy.hpp"
#include "patchnet/ops/dispatch.hpp"
#include "patchnet/ops/geometry.hpp"
#include "patchnet/ops/matmul.hpp"
#include "patchnet/ops/reduce.hpp"
#include "patchnet/ops/shape_ops.hpp"

namespace patchnet {

struct Conv2dOptions {
  Hw stride = 1;
  Padding padding = Padding::Valid;
  Pad2d pad = {};  // with Padding::Explicit
  int64_t groups = 1;
};

namespace detail {

enum class Conv2dPath { Pointwise, Depthwise, Patches, Im2col };

struct Conv2dPlan {
  Window2d g;
  int64_t groups = 1, cout = 0;
  Conv2dPath path = Conv2dPath::Im2col;

  cpu::LoweredConv2d lowered() const {  // the patches and im2col paths' kernel parameters
    return {g, groups, cout, path == Conv2dPath::Patches ? cpu::Lowering::Patches : cpu::Lowering::Im2col};
  }
};

// Checks conv2d's input and weight shapes and picks its path.
inline Conv2dPlan conv2d_plan(const Shape& x, const Shape& w, const Conv2dOptions& opt) {
  PN_CHECK(x.rank() == 4, "conv2d: input ", x, " must be NHWC (rank 4)");
  PN_CHECK(w.rank() == 4, "conv2d: weight ", w, " must be HWIO [KH,KW,Cin/groups,Cout] (rank 4)");
  PN_CHECK(opt.groups > 0, "conv2d: groups ", opt.groups, " must be positive");
  const int64_t cin = x[3], cout = w[3], g = opt.groups;
  PN_CHECK(cin % g == 0, "conv2d: input ", x, " has ", cin, " channels, not divisible by groups ", g);
  PN_CHECK(cout % g == 0, "conv2d: weight ", w, " has ", cout, " output channels, not divisible by groups ", g);
  PN_CHECK(w[2] * g == cin, "conv2d: input ", x, " vs weight ", w, ": input has ", cin,
           " channels but the weight expects ", w[2] * g, " (", w[2], " per group x ", g, " groups)");
  Conv2dPlan p;
  p.g = window2d("conv2d", x, {w[0], w[1]}, opt.stride, opt.padding, opt.pad);
  p.groups = g;
  p.cout = cout;
  const Pad2d& pad = p.g.pad;
  const bool no_pad = pad.top == 0 && pad.bottom == 0 && pad.left == 0 && pad.right == 0;
  if (p.g.kernel == Hw(1) && p.g.stride == Hw(1) && no_pad && g == 1) p.path = Conv2dPath::Pointwise;
  else if (g == cin && cout == cin && w[2] == 1) p.path = Conv2dPath::Depthwise;
  else if (p.g.kernel == p.g.stride && g == 1) p.path = Conv2dPath::Patches;
  else p.path = Conv2dPath::Im2col;
  return p;
}

template <class T>
void check_conv_bias(const char* op, const Tensor<T>& bias, int64_t cout, const Tensor<T>& w) {
  PN_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == cout), op, ": bias ",
           bias.defined() ? bias.shape().str() : "", " does not match weight ", w.shape(), ": expected [", cout, "]");
}

// Bias gradient on the device: sum of the packed [rows, cols] dy over its rows.
template <FloatingPoint T>
Tensor<T> cuda_column_sum(const Tensor<T>& a, int64_t rows, int64_t cols) {
  Tensor<T> out = Tensor<T>::empty({cols}, a.device());
  Tensor<T> ws = Tensor<T>::empty({cuda::column_sum_workspace(rows, cols)}, a.device());
  PN_CUDA("conv2d", cuda::column_sum(a.data(), out.data(), rows, cols, ws.data()));
  return out;
}

// Patch-matrix budget of a CUDA chunk: large, so the GEMMs stay large (cols of one chunk
// then never exceed 2^31 - 1 elements, cuBLAS's int limit, unless one image does).
inline constexpr int64_t kCudaChunkBytes = int64_t{512} << 20;

// cpu::conv2d_lowered_forward / backward on the device: the same loop, CUDA lowering
// kernels and cuBLAS GEMMs.
template <FloatingPoint T>
void cuda_lowered_forward(Device dev, const T* x, const T* w, const T* bias, T* y, const cpu::LoweredConv2d& p,
                          int64_t images_per_chunk, T* cols) {
  const Window2d& g = p.g;
  const int64_t K = p.width(), Kg = K / p.groups, Cout = p.cout, Coutg = Cout / p.groups;
  if (bias) PN_CUDA("conv2d", cuda::fill_rows(bias, y, g.N * p.rows_per_image(), Cout));
  for (int64_t n0 = 0; n0 < g.N; n0 += images_per_chunk) {
    const int64_t nb = std::min(images_per_chunk, g.N - n0), rows = nb * p.rows_per_image();
    PN_CUDA("conv2d", cuda::im2col(x + n0 * g.H * g.W * g.C, cols, g, p.groups, nb));
    T* yc = y + n0 * p.rows_per_image() * Cout;
    for (int64_t gi = 0; gi < p.groups; ++gi)
      gemm<T>(dev, false, false, rows, Coutg, Kg, T(1), cols + gi * Kg, K, w + gi * Coutg, Cout, bias ? T(1) : T(0),
              yc + gi * Coutg, Cout);
  }
}

template <FloatingPoint T>
void cuda_lowered_backward(Device dev, const T* x, const T* w, const T* dy, T* dx, T* dw, const cpu::LoweredConv2d& p,
                           int64_t images_per_chunk, T* cols) {
  const Window2d& g = p.g;
  const int64_t K = p.width(), Kg = K / p.groups, Cout = p.cout, Coutg = Cout / p.groups;
  for (int64_t n0 = 0; n0 < g.N; n0 += images_per_chunk) {
    const int64_t nb = std::min(images_per_chunk, g.N - n0), rows = nb * p.rows_per_image();
    const T* dyc = dy + n0 * p.rows_per_image() * Cout;
    if (dw) {  // chunks in order, beta 1 after the first: deterministic
      PN_CUDA("conv2d", cuda::im2col(x + n0 * g.H * g.W * g.C, cols, g, p.groups, nb));
      for (int64_t gi = 0; gi < p.groups; ++gi)
        gemm<T>(dev, true, false, Kg, Coutg, rows, T(1), cols + gi * Kg, K, dyc + gi * Coutg, Cout,
                n0 == 0 ? T(0) : T(1), dw + gi * Coutg, Cout);
    }
    if (dx) {
      for (int64_t gi = 0; gi < p.groups; ++gi)
        gemm<T>(dev, false, true, rows, Kg, Coutg, T(1), dyc + gi * Coutg, Cout, w + gi * Coutg, Cout, T(0),
                cols + gi * Kg, K);
      [[maybe_unused]] T* dxc = dx + n0 * g.H * g.W * g.C;  // used only in CUDA builds
      if (p.lowering == cpu::Lowering::Patches) PN_CUDA("conv2d", cuda::scatter_patches(cols, dxc, g, nb));
      else PN_CUDA("conv2d", cuda::col2im(cols, dxc, g, p.groups, nb));
    }
  }
}

// The patches and im2col paths of conv2d.
template <FloatingPoint T>
Tensor<T> lowered_conv2d(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& bias, const Conv2dPlan& plan) {
  const cpu::LoweredConv2d p = plan.lowered();
  const Device dev = x.device();
  const bool on_cpu = dev.is_cpu();
  const Tensor<T> xc = x.contiguous().detach(), wc = w.contiguous().detach();
  const int64_t chunk =
      on_cpu ? cpu::conv2d_images_per_chunk(p, sizeof(T)) : cpu::conv2d_images_per_chunk(p, sizeof(T), kCudaChunkBytes);
  Tensor<T> out = Tensor<T>::empty({p.g.N, p.g.OH, p.g.OW, p.cout}, dev);
  {
    Tensor<T> cols = Tensor<T>::empty({cpu::conv2d_workspace_elems(p, chunk)}, dev);  // from the cache
    const Tensor<T> bc = bias.defined() ? bias.contiguous() : Tensor<T>();
    const T* b = bc.defined() ? bc.data() : nullptr;
    if (on_cpu) cpu::conv2d_lowered_forward(xc.data(), wc.data(), b, out.data(), p, chunk, cols.data());
    else cuda_lowered_forward(dev, xc.data(), wc.data(), b, out.data(), p, chunk, cols.data());
  }
  autograd::record<T>("conv2d", {x, w, bias}, {out}, [xc, wc, p, chunk](const auto& g, const auto& needs) {
    const Tensor<T> dy = g[0].contiguous();
    const Device dev = xc.device();
    Tensor<T> gx, gw, gb;
    if (needs[0]) gx = Tensor<T>::empty(xc.shape(), dev);
    if (needs[1])  // no image: no GEMM writes dw on the device
      gw = dev.is_cpu() || p.g.N > 0 ? Tensor<T>::empty(wc.shape(), dev) : Tensor<T>::zeros(wc.shape(), dev);
    if (needs[0] || needs[1]) {
      Tensor<T> cols = Tensor<T>::empty({cpu::conv2d_workspace_elems(p, chunk)}, dev);
      T* dx = needs[0] ? gx.data() : nullptr;
      T* dw = needs[1] ? gw.data() : nullptr;
      if (dev.is_cpu()) cpu::conv2d_lowered_backward(xc.data(), wc.data(), dy.data(), dx, dw, p, chunk, cols.data());
      else cuda_lowered_backward(dev, xc.data(), wc.data(), dy.data(), dx, dw, p, chunk, cols.data());
    }
    if (needs[2]) {
      if (dev.is_cpu()) gb = sum(dy, {0, 1, 2});
      else gb = cuda_column_sum(dy, p.g.N * p.g.OH * p.g.OW, p.cout);
    }
    return std::vector<Tensor<T>>{gx, gw, gb};
  });
  return out;
}

// pointwise_conv2d on the device: y = bias (broadcast) + x w in one GEMM; backward
// dx = dy w^T, dw = x^T dy (GEMMs), db = column sum of dy.
template <FloatingPoint T>
Tensor<T> cuda_pointwise_conv2d(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& bias) {
  const Device dev = x.device();
  const int64_t cin = w.size(0), cout = w.size(1), rows = x.size(0) * x.size(1) * x.size(2);
  const Tensor<T> xc = x.contiguous().detach(), wc = w.contiguous().detach();
  const Shape out_shape{x.size(0), x.size(1), x.size(2), cout};
  Tensor<T> out = Tensor<T>::empty(out_shape, dev);
  if (bias.defined()) {
    const Tensor<T> bc = bias.contiguous();
    PN_CUDA("pointwise_conv2d", cuda::fill_rows(bc.data(), out.data(), rows, cout));
  }
  gemm<T>(dev, false, false, rows, cout, cin, T(1), xc.data(), cin, wc.data(), cout, bias.defined() ? T(1) : T(0),
          out.data(), cout);
  autograd::record<T>("pointwise_conv2d", {x, w, bias}, {out}, [xc, wc, rows](const auto& g, const auto& needs) {
    const Tensor<T> dy = g[0].contiguous();
    const Device dev = xc.device();
    const int64_t cin = wc.size(0), cout = wc.size(1);
    Tensor<T> gx, gw, gb;
    if (needs[0]) {
      gx = Tensor<T>::empty(xc.shape(), dev);
      gemm<T>(dev, false, true, rows, cin, cout, T(1), dy.data(), cout, wc.data(), cout, T(0), gx.data(), cin);
    }
    if (needs[1]) {
      gw = Tensor<T>::empty(wc.shape(), dev);
      gemm<T>(dev, true, false, cin, cout, rows, T(1), xc.data(), cin, dy.data(), cout, T(0), gw.data(), cout);
    }
    if (needs[2]) gb = cuda_column_sum(dy, rows, cout);
    return std::vector<Tensor<T>>{gx, gw, gb};
  });
  return out;
}

}  // namespace detail

// 1x1 convolution, stride 1: x [N,H,W,Cin], w [Cin,Cout] (HWIO [1,1,Cin,Cout] squeezed),
// bias [Cout] or undefined. One GEMM over the N*H*W pixels, like linear().
template <FloatingPoint T>
Tensor<T> pointwise_conv2d(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& bias = Tensor<T>()) {
  const Device dev = detail::common_device<T>("pointwise_conv2d", {&x, &w, &bias});
  PN_CHECK(x.defined() && w.defined(), "pointwise_conv2d: input and weight must be defined");
  PN_CHECK(x.dim() == 4, "pointwise_conv2d: input ", x.shape(), " must be NHWC (rank 4)");
  PN_CHECK(w.dim() == 2, "pointwise_conv2d: weight ", w.shape(), " must be [Cin,Cout] (rank 2)");
  PN_CHECK(x.size(3) == w.size(0), "pointwise_conv2d: input ", x.shape(), " vs weight ", w.shape(), ": input has ",
           x.size(3), " channels but the weight expects ", w.size(0));
  detail::check_conv_bias("pointwise_conv2d", bias, w.size(1), w);
  if (dev.is_cuda()) return detail::cuda_pointwise_conv2d(x, w, bias);
  return detail::affine("pointwise_conv2d", x, w, bias);
}

// Depthwise convolution, channel multiplier 1: x [N,H,W,C], w [KH,KW,C], bias [C] or
// undefined. opt.groups must be 1 or C (both mean one filter per channel).
template <FloatingPoint T>
Tensor<T> depthwise_conv2d(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& bias = Tensor<T>(),
                           const Conv2dOptions& opt = {}) {
  const Device dev = detail::common_device<T>("depthwise_conv2d", {&x, &w, &bias});
  PN_CHECK(x.defined() && w.defined(), "depthwise_conv2d: input and weight must be defined");
  PN_CHECK(x.dim() == 4, "depthwise_conv2d: input ", x.shape(), " must be NHWC (rank 4)");
  PN_CHECK(w.dim() == 3, "depthwise_conv2d: weight ", w.shape(), " must be [KH,KW,C] (rank 3)");
  PN_CHECK(x.size(3) == w.size(2), "depthwise_conv2d: input ", x.shape(), " vs weight ", w.shape(),
           ": channels differ");
  PN_CHECK(opt.groups == 1 || opt.groups == x.size(3), "depthwise_conv2d: groups ", opt.groups,
           " must be 1 or the channel count ", x.size(3), " (input ", x.shape(), ")");
  const Window2d g = window2d("depthwise_conv2d", x.shape(), {w.size(0), w.size(1)}, opt.stride, opt.padding, opt.pad);
  detail::check_conv_bias("depthwise_conv2d", bias, g.C, w);
  const Tensor<T> xc = x.contiguous().detach(), wc = w.contiguous().detach();
  const Tensor<T> bc = bias.defined() ? bias.contiguous() : Tensor<T>();
  const T* b = bc.defined() ? bc.data() : nullptr;
  Tensor<T> out = Tensor<T>::empty({g.N, g.OH, g.OW, g.C}, dev);
  if (dev.is_cpu()) cpu::depthwise_conv2d_forward(xc.data(), wc.data(), b, out.data(), g);
  else PN_CUDA("depthwise_conv2d", cuda::depthwise_conv2d_forward(xc.data(), wc.data(), b, out.data(), g));
  autograd::record<T>("depthwise_conv2d", {x, w, bias}, {out}, [xc, wc, g](const auto& grads, const auto& needs) {
    const Tensor<T> dy = grads[0].contiguous();
    const Device dev = xc.device();
    Tensor<T> gx, gw, gb;
    if (dev.is_cuda()) {
      if (needs[0]) {
        gx = Tensor<T>::empty(xc.shape(), dev);
        PN_CUDA("depthwise_conv2d", cuda::depthwise_conv2d_backward_input(dy.data(), wc.data(), gx.data(), g));
      }
      if (needs[1]) {
        gw = Tensor<T>::empty(wc.shape(), dev);
        Tensor<T> ws = Tensor<T>::empty({cuda::depthwise_weight_workspace(g)}, dev);
        PN_CUDA("depthwise_conv2d",
                cuda::depthwise_conv2d_backward_weight(xc.data(), dy.data(), gw.data(), g, ws.data()));
      }
      if (needs[2]) gb = detail::cuda_column_sum(dy, g.N * g.OH * g.OW, g.C);
      return std::vector<Tensor<T>>{gx, gw, gb};
    }
    if (needs[0]) {
      gx = Tensor<T>::empty(xc.shape());
      cpu::depthwise_conv2d_backward_input(dy.data(), wc.data(), gx.data(), g);
    }
    if (needs[1] || needs[2]) {  // one pass computes both
      gw = Tensor<T>::empty(wc.shape());
      if (needs[2]) gb = Tensor<T>::empty({g.C});
      cpu::depthwise_conv2d_backward_weight(xc.data(), dy.data(), gw.data(), needs[2] ? gb.data() : nullptr, g);
    }
    return std::vector<Tensor<T>>{gx, needs[1] ? gw : Tensor<T>(), gb};
  });
  return out;
}

// Conv2D: x [N,H,W,Cin], w HWIO [KH,KW,Cin/groups,Cout], bias [Cout] or undefined.
template <FloatingPoint T>
Tensor<T> conv2d(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& bias = Tensor<T>(),
                 const Conv2dOptions& opt = {}) {
  detail::common_device<T>("conv2d", {&x, &w, &bias});
  PN_CHECK(x.defined() && w.defined(), "conv2d: input and weight must be defined");
  const detail::Conv2dPlan plan = detail::conv2d_plan(x.shape(), w.shape(), opt);
  detail::check_conv_bias("conv2d", bias, plan.cout, w);
  switch (plan.path) {
    case detail::Conv2dPath::Pointwise:
      return pointwise_conv2d(x, reshape(w, {w.size(2), w.size(3)}), bias);
    case detail::Conv2dPath::Depthwise:
      return depthwise_conv2d(x, reshape(w, {w.size(0), w.size(1), w.size(3)}), bias, opt);
    default:
      return detail::lowered_conv2d(x, w, bias, plan);
  }
}

}  // namespace patchnet
