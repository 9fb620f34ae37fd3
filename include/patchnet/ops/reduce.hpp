// Reductions: sum and mean over axes (keepdim optional), over all elements, and sum_to
// (the broadcasting adjoint: sums a gradient down to an input's shape).
//
// Backward: the output gradient broadcast back over the reduced axes (scaled by 1/count
// for mean).
#pragma once

#include <array>
#include <type_traits>
#include <vector>

#include "patchnet/autograd/node.hpp"
#include "patchnet/core/tensor.hpp"
#include "patchnet/cpu/reduce.hpp"
#include "patchnet/cuda/reduce.hpp"
#include "patchnet/math/reduce.hpp"
#include "patchnet/ops/dispatch.hpp"
#include "patchnet/ops/shape_ops.hpp"

namespace patchnet {

template <FloatingPoint T>
Tensor<T> mul(const Tensor<T>& x, std::type_identity_t<T> s);  // ops/elementwise.hpp

namespace detail {
inline std::array<bool, kMaxDims> reduce_mask(const Shape& shape, const std::vector<int64_t>& axes, const char* op) {
  std::array<bool, kMaxDims> mask{};
  for (int64_t a : axes) {
    const int i = normalize_axis(a, shape.rank(), op);
    PN_CHECK(!mask[static_cast<size_t>(i)], op, ": axis ", a, " repeated for shape ", shape);
    mask[static_cast<size_t>(i)] = true;
  }
  return mask;
}
inline Shape reduced_shape(const Shape& shape, const std::array<bool, kMaxDims>& mask, bool keepdim) {
  Shape out;
  for (int i = 0; i < shape.rank(); ++i) {
    if (!mask[static_cast<size_t>(i)]) out.push_back(shape[i]);
    else if (keepdim) out.push_back(1);
  }
  return out;
}
}  // namespace detail

// Sum over `axes` (all axes when empty... see sum(x) for that). keepdim keeps them as 1.
template <FloatingPoint T>
Tensor<T> sum(const Tensor<T>& x, const std::vector<int64_t>& axes, bool keepdim = false) {
  const auto mask = detail::reduce_mask(x.shape(), axes, "sum");
  const Shape out_shape = detail::reduced_shape(x.shape(), mask, keepdim);
  Tensor<T> out = Tensor<T>::empty(out_shape, x.device());
  const Tensor<T> xc = x.contiguous();
  math::SumParams p;
  p.rank = x.dim();
  for (int i = 0; i < x.dim(); ++i) {
    p.shape[i] = x.size(i);
    p.reduce[i] = mask[static_cast<size_t>(i)];
  }
  if (x.is_cpu()) {
    cpu::sum_axes(xc.data(), p, out.data());
  } else {
    const int64_t ws = PN_CUDA("sum", cuda::sum_axes_workspace(p));
    Tensor<T> workspace = ws > 0 ? Tensor<T>::empty({ws}, x.device()) : Tensor<T>();
    cuda::sum_axes(xc.data(), out.data(), ws > 0 ? workspace.data() : nullptr, p);
  }
  const Shape in_shape = x.shape(), kept = detail::reduced_shape(x.shape(), mask, true);
  autograd::record<T>("sum", {x}, {out}, [in_shape, kept](const auto& g, const auto&) {
    return std::vector<Tensor<T>>{broadcast_to(reshape(g[0], kept), in_shape).contiguous()};
  });
  return out;
}

// Sum of all elements, as a rank-0 tensor.
template <FloatingPoint T>
Tensor<T> sum(const Tensor<T>& x) {
  std::vector<int64_t> axes(static_cast<size_t>(x.dim()));
  for (int i = 0; i < x.dim(); ++i) axes[static_cast<size_t>(i)] = i;
  return sum(x, axes);
}

template <FloatingPoint T>
Tensor<T> mean(const Tensor<T>& x, const std::vector<int64_t>& axes, bool keepdim = false) {
  const auto mask = detail::reduce_mask(x.shape(), axes, "mean");
  int64_t count = 1;
  for (int i = 0; i < x.dim(); ++i)
    if (mask[static_cast<size_t>(i)]) count *= x.size(i);
  PN_CHECK(count > 0, "mean: reducing ", x.shape(), " over empty axes");
  return mul(sum(x, axes, keepdim), static_cast<T>(1.0 / static_cast<double>(count)));
}

template <FloatingPoint T>
Tensor<T> mean(const Tensor<T>& x) {
  PN_CHECK(x.numel() > 0, "mean: tensor of shape ", x.shape(), " is empty");
  return mul(sum(x), static_cast<T>(1.0 / static_cast<double>(x.numel())));
}

// Sums x down to `shape` over the dimensions that broadcasting added or expanded; the
// adjoint of broadcast_to.
template <class T>
Tensor<T> sum_to(const Tensor<T>& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  const int lead = x.dim() - shape.rank();
  PN_CHECK(lead >= 0, "sum_to: cannot sum ", x.shape(), " to ", shape);
  std::vector<int64_t> axes;
  for (int i = 0; i < x.dim(); ++i) {
    if (i < lead) {
      axes.push_back(i);
      continue;
    }
    const int64_t want = shape[i - lead];
    PN_CHECK(want == x.size(i) || want == 1, "sum_to: cannot sum ", x.shape(), " to ", shape);
    if (want == 1 && x.size(i) != 1) axes.push_back(i);
  }
  return reshape(sum(x, axes), shape);
}

}  // namespace patchnet
