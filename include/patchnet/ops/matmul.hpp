// Matrix products: matmul (2-d, batched 3-d, and [..., K] x [K, N]) and linear.
//
// linear(x, w, b) = x w + b over the last dimension of x, with w stored [in, out] (the
// Keras layout; a 1x1 convolution's HWIO weight [1, 1, in, out] is the same matrix).
// Checkpoints convert to PyTorch's [out, in]. Backward: dx = g w^T, dw = x^T g (rows of
// every leading dimension summed), db = sum of g's rows.
#pragma once

#include <vector>

#include "patchnet/autograd/node.hpp"
#include "patchnet/core/tensor.hpp"
#include "patchnet/cpu/gemm.hpp"
#include "patchnet/cuda/blas.hpp"
#include "patchnet/ops/dispatch.hpp"
#include "patchnet/ops/elementwise.hpp"
#include "patchnet/ops/reduce.hpp"
#include "patchnet/ops/shape_ops.hpp"

namespace patchnet {
namespace detail {

// Row-major GEMM on whichever device the pointers live on.
template <FloatingPoint T>
void gemm(Device dev, bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
          int64_t ldb, T beta, T* C, int64_t ldc) {
  if (dev.is_cpu()) cpu::gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  else PN_CUDA("gemm", cuda::gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, dev.index));
}

// The rows of a [..., K] tensor seen as [rows, K]: the product of all sizes but the last
// (explicit, as reshape's -1 cannot be resolved when K is 0).
inline int64_t leading_rows(const Shape& s) {
  int64_t rows = 1;
  for (int i = 0; i + 1 < s.rank(); ++i) rows *= s[i];
  return rows;
}

// [M, K] x [K, N] (either transposed) into a new [M, N] tensor, no autograd.
template <FloatingPoint T>
Tensor<T> mm(const Tensor<T>& a, bool ta, const Tensor<T>& b, bool tb) {
  const Tensor<T> ac = a.contiguous(), bc = b.contiguous();
  const int64_t M = ta ? a.size(1) : a.size(0), K = ta ? a.size(0) : a.size(1);
  const int64_t N = tb ? b.size(0) : b.size(1);
  Tensor<T> out = Tensor<T>::empty({M, N}, a.device());
  gemm<T>(a.device(), ta, tb, M, N, K, T(1), ac.data(), a.size(1), bc.data(), b.size(1), T(0), out.data(), N);
  return out;
}

}  // namespace detail

// a [M, K] x b [K, N]; a [..., M, K] x b [K, N]; or a [B, M, K] x b [B, K, N].
template <FloatingPoint T>
Tensor<T> matmul(const Tensor<T>& a, const Tensor<T>& b) {
  const Device dev = detail::common_device<T>("matmul", {&a, &b});
  PN_CHECK(a.dim() >= 2 && (b.dim() == 2 || (b.dim() == 3 && a.dim() == 3)), "matmul: shapes ", a.shape(), " and ",
           b.shape(), " are not [.., M, K] x [K, N] or [B, M, K] x [B, K, N]");
  PN_CHECK(a.size(-1) == b.size(-2), "matmul: inner dimensions differ: ", a.shape(), " x ", b.shape());
  if (b.dim() == 2) {
    Shape out_shape = a.shape();
    out_shape[out_shape.rank() - 1] = b.size(1);
    const int64_t rows = detail::leading_rows(a.shape());
    const Tensor<T> a2 = reshape(a.detach(), {rows, a.size(-1)});
    Tensor<T> out = reshape(detail::mm(a2, false, b, false), out_shape).detach();
    auto backward = [ad = a.detach(), bd = b.detach(), rows](const auto& g, const auto& needs) {
      const Tensor<T> g2 = reshape(g[0], {rows, bd.size(1)});
      Tensor<T> ga, gb;
      if (needs[0]) ga = reshape(detail::mm(g2, false, bd, true), ad.shape());
      if (needs[1]) gb = detail::mm(reshape(ad, {rows, ad.size(-1)}), true, g2, false);
      return std::vector<Tensor<T>>{ga, gb};
    };
    autograd::record<T>("matmul", {a, b}, {out}, backward);
    return out;
  }
  PN_CHECK(a.size(0) == b.size(0), "matmul: batch sizes differ: ", a.shape(), " x ", b.shape());
  const int64_t B = a.size(0), M = a.size(1), K = a.size(2), N = b.size(2);
  const Tensor<T> ac = a.contiguous().detach(), bc = b.contiguous().detach();
  Tensor<T> out = Tensor<T>::empty({B, M, N}, dev);
  for (int64_t i = 0; i < B; ++i)
    detail::gemm<T>(dev, false, false, M, N, K, T(1), ac.data() + i * M * K, K, bc.data() + i * K * N, N, T(0),
                    out.data() + i * M * N, N);
  autograd::record<T>("matmul", {a, b}, {out}, [ac, bc](const auto& g, const auto& needs) {
    const Tensor<T> gc = g[0].contiguous();
    const int64_t B = ac.size(0), M = ac.size(1), K = ac.size(2), N = bc.size(2);
    const Device dev = gc.device();
    Tensor<T> ga, gb;
    if (needs[0]) {
      ga = Tensor<T>::empty(ac.shape(), dev);
      for (int64_t i = 0; i < B; ++i)
        detail::gemm<T>(dev, false, true, M, K, N, T(1), gc.data() + i * M * N, N, bc.data() + i * K * N, N, T(0),
                        ga.data() + i * M * K, K);
    }
    if (needs[1]) {
      gb = Tensor<T>::empty(bc.shape(), dev);
      for (int64_t i = 0; i < B; ++i)
        detail::gemm<T>(dev, true, false, K, N, M, T(1), ac.data() + i * M * K, K, gc.data() + i * M * N, N, T(0),
                        gb.data() + i * K * N, N);
    }
    return std::vector<Tensor<T>>{ga, gb};
  });
  return out;
}

namespace detail {
// x [..., in] w [in, out] + bias, recorded under `name`; the body of linear and
// pointwise_conv2d (a 1x1 convolution over NHWC is the same product). Checks belong to
// the callers.
template <FloatingPoint T>
Tensor<T> affine(const char* name, const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& bias) {
  const Device dev = x.device();
  const int64_t in = w.size(0), outf = w.size(1);
  const Tensor<T> xc = x.contiguous().detach(), wc = w.contiguous().detach();
  const int64_t rows = leading_rows(x.shape());
  Shape out_shape = x.shape();
  out_shape[out_shape.rank() - 1] = outf;
  Tensor<T> out = Tensor<T>::empty(out_shape, dev);
  T beta = T(0);
  if (bias.defined()) {  // start from the broadcast bias, then accumulate x w on top
    copy_values(broadcast_to(bias.detach(), {rows, outf}), reshape(out, {rows, outf}));
    beta = T(1);
  }
  gemm<T>(dev, false, false, rows, outf, in, T(1), xc.data(), in, wc.data(), outf, beta, out.data(), outf);
  autograd::record<T>(name, {x, w, bias}, {out}, [xc, wc, rows](const auto& g, const auto& needs) {
    const int64_t in = wc.size(0), outf = wc.size(1);
    const Tensor<T> g2 = reshape(g[0].contiguous(), {rows, outf});
    Tensor<T> gx, gw, gb;
    if (needs[0]) gx = reshape(mm(g2, false, wc, true), xc.shape());
    if (needs[1]) gw = mm(reshape(xc, {rows, in}), true, g2, false);
    if (needs[2]) gb = sum(g2, {0});
    return std::vector<Tensor<T>>{gx, gw, gb};
  });
  return out;
}
}  // namespace detail

// y = x w + bias over the last dimension: x [..., in], w [in, out], bias [out] or undefined.
template <FloatingPoint T>
Tensor<T> linear(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& bias = Tensor<T>()) {
  detail::common_device<T>("linear", {&x, &w, &bias});
  PN_CHECK(x.defined() && x.dim() >= 1, "linear: input must have at least one dimension");
  detail::check_rank("linear", "weight", w, 2);
  PN_CHECK(x.size(-1) == w.size(0), "linear: input ", x.shape(), " has ", x.size(-1), " features but weight ",
           w.shape(), " expects ", w.size(0), " ([in, out] layout)");
  PN_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == w.size(1)), "linear: bias ",
           bias.defined() ? bias.shape().str() : "", " does not match weight ", w.shape());
  return detail::affine("linear", x, w, bias);
}

}  // namespace patchnet
