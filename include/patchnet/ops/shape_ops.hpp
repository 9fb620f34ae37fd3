// Shape ops: reshape, flatten, unsqueeze, squeeze, permute, transpose, slice, split,
// broadcast_to (views of the input's storage where possible) and concat (a copy).
//
// Backward: a view's gradient is the output gradient mapped back (reshaped, permuted
// back, scattered into zeros for a slice, summed over broadcast dimensions); concat's is
// a slice of the output gradient per input.
#pragma once

#include <numeric>
#include <vector>

#include "patchnet/autograd/node.hpp"
#include "patchnet/core/tensor.hpp"
#include "patchnet/ops/dispatch.hpp"

namespace patchnet {

template <class T>
Tensor<T> sum_to(const Tensor<T>& x, const Shape& shape);  // ops/reduce.hpp

namespace detail {
// Resolves one -1 in a reshape target against numel.
inline Shape infer_shape(const Shape& in, Shape target, const char* op) {
  int infer = -1;
  int64_t known = 1;
  for (int i = 0; i < target.rank(); ++i) {
    if (target[i] == -1) {
      PN_CHECK(infer < 0, op, ": more than one -1 in target shape ", target);
      infer = i;
    } else {
      PN_CHECK(target[i] >= 0, op, ": negative size in target shape ", target);
      known *= target[i];
    }
  }
  if (infer >= 0) {
    PN_CHECK(known > 0 && in.numel() % known == 0, op, ": cannot reshape ", in, " into ", target);
    target[infer] = in.numel() / known;
  }
  PN_CHECK(target.numel() == in.numel(), op, ": cannot reshape ", in, " (", in.numel(), " elements) into ", target,
           " (", target.numel(), " elements)");
  return target;
}
}  // namespace detail

// Same elements in a new shape (one size may be -1). A view when x is contiguous.
template <class T>
Tensor<T> reshape(const Tensor<T>& x, const Shape& target) {
  const Shape shape = detail::infer_shape(x.shape(), target, "reshape");
  if (shape == x.shape()) return x;
  const Tensor<T> src = x.contiguous();
  Tensor<T> out = make_view(src, shape, shape.contiguous_strides(), src.offset());
  const Shape in_shape = x.shape();
  autograd::record<T>("reshape", {src}, {out}, [in_shape](const auto& g, const auto&) {
    return std::vector<Tensor<T>>{reshape(g[0], in_shape)};
  });
  return out;
}

// Merges dimensions start..end (inclusive) into one.
template <class T>
Tensor<T> flatten(const Tensor<T>& x, int64_t start = 0, int64_t end = -1) {
  if (x.dim() == 0) return reshape(x, Shape{1});
  const int s = normalize_axis(start, x.dim(), "flatten"), e = normalize_axis(end, x.dim(), "flatten");
  PN_CHECK(s <= e, "flatten: start ", start, " is after end ", end, " for shape ", x.shape());
  Shape shape;
  for (int i = 0; i < s; ++i) shape.push_back(x.size(i));
  int64_t merged = 1;
  for (int i = s; i <= e; ++i) merged *= x.size(i);
  shape.push_back(merged);
  for (int i = e + 1; i < x.dim(); ++i) shape.push_back(x.size(i));
  return reshape(x, shape);
}

template <class T>
Tensor<T> unsqueeze(const Tensor<T>& x, int64_t axis) {
  const int a = normalize_axis(axis, x.dim() + 1, "unsqueeze");
  Shape shape = x.shape();
  shape.insert(a, 1);
  return reshape(x, shape);
}

// Removes dimension `axis`, which must have size 1.
template <class T>
Tensor<T> squeeze(const Tensor<T>& x, int64_t axis) {
  const int a = normalize_axis(axis, x.dim(), "squeeze");
  PN_CHECK(x.size(a) == 1, "squeeze: dimension ", a, " of ", x.shape(), " has size ", x.size(a), ", not 1");
  Shape shape = x.shape();
  shape.erase(a);
  return reshape(x, shape);
}

// Reorders dimensions: output dimension i is input dimension dims[i]. A view.
template <class T>
Tensor<T> permute(const Tensor<T>& x, const std::vector<int64_t>& dims) {
  PN_CHECK(static_cast<int>(dims.size()) == x.dim(), "permute: ", dims.size(), " dimensions given for shape ",
           x.shape());
  Shape shape, strides;
  std::vector<int64_t> inverse(dims.size(), -1);
  for (size_t i = 0; i < dims.size(); ++i) {
    const int d = normalize_axis(dims[i], x.dim(), "permute");
    PN_CHECK(inverse[static_cast<size_t>(d)] < 0, "permute: dimension ", d, " repeated for shape ", x.shape());
    inverse[static_cast<size_t>(d)] = static_cast<int64_t>(i);
    shape.push_back(x.size(d));
    strides.push_back(x.stride(d));
  }
  Tensor<T> out = make_view(x, shape, strides, x.offset());
  autograd::record<T>("permute", {x}, {out},
                      [inverse](const auto& g, const auto&) { return std::vector<Tensor<T>>{permute(g[0], inverse)}; });
  return out;
}

template <class T>
Tensor<T> transpose(const Tensor<T>& x, int64_t a, int64_t b) {
  std::vector<int64_t> dims(static_cast<size_t>(x.dim()));
  std::iota(dims.begin(), dims.end(), 0);
  std::swap(dims[static_cast<size_t>(normalize_axis(a, x.dim(), "transpose"))],
            dims[static_cast<size_t>(normalize_axis(b, x.dim(), "transpose"))]);
  return permute(x, dims);
}

// Elements start, start+step, ... below end along `axis` (Python slice rules: negative
// indices count from the end, bounds are clamped). A view.
template <class T>
Tensor<T> slice(const Tensor<T>& x, int64_t axis, int64_t start, int64_t end, int64_t step = 1) {
  const int a = normalize_axis(axis, x.dim(), "slice");
  PN_CHECK(step > 0, "slice: step ", step, " must be positive");
  const int64_t n = x.size(a);
  auto clamp = [n](int64_t i) { return i < 0 ? std::max<int64_t>(i + n, 0) : std::min(i, n); };
  const int64_t s = clamp(start), e = std::max(clamp(end), s);
  Shape shape = x.shape(), strides = x.strides();
  shape[a] = (e - s + step - 1) / step;
  strides[a] = x.stride(a) * step;
  Tensor<T> out = make_view(x, shape, strides, x.offset() + s * x.stride(a));
  const Shape in_shape = x.shape();
  autograd::record<T>("slice", {x}, {out}, [in_shape, a, s, e, step](const auto& g, const auto&) {
    Tensor<T> gx = Tensor<T>::zeros(in_shape, g[0].device());
    detail::copy_values(g[0], slice(gx, a, s, e, step));
    return std::vector<Tensor<T>>{gx};
  });
  return out;
}

// Splits along `axis` into pieces of the given sizes (views).
template <class T>
std::vector<Tensor<T>> split(const Tensor<T>& x, const std::vector<int64_t>& sizes, int64_t axis) {
  const int a = normalize_axis(axis, x.dim(), "split");
  int64_t total = 0;
  for (int64_t s : sizes) {
    PN_CHECK(s >= 0, "split: negative piece size ", s);
    total += s;
  }
  PN_CHECK(total == x.size(a), "split: sizes sum to ", total, " but dimension ", a, " of ", x.shape(), " is ",
           x.size(a));
  std::vector<Tensor<T>> out;
  int64_t at = 0;
  for (int64_t s : sizes) {
    out.push_back(slice(x, a, at, at + s));
    at += s;
  }
  return out;
}

// Splits along `axis` into `chunks` equal pieces; the size must divide evenly.
template <class T>
std::vector<Tensor<T>> split(const Tensor<T>& x, int64_t chunks, int64_t axis) {
  const int a = normalize_axis(axis, x.dim(), "split");
  PN_CHECK(chunks > 0 && x.size(a) % chunks == 0, "split: dimension ", a, " of ", x.shape(), " does not divide into ",
           chunks, " equal pieces");
  return split(x, std::vector<int64_t>(static_cast<size_t>(chunks), x.size(a) / chunks), a);
}

// Repeats size-1 (or missing leading) dimensions up to `shape` without copying.
template <class T>
Tensor<T> broadcast_to(const Tensor<T>& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  PN_CHECK(shape.rank() >= x.dim(), "broadcast_to: cannot broadcast ", x.shape(), " to ", shape);
  Shape strides;
  const int lead = shape.rank() - x.dim();
  for (int i = 0; i < shape.rank(); ++i) {
    const int j = i - lead;
    if (j < 0) {
      strides.push_back(0);
    } else {
      PN_CHECK(x.size(j) == shape[i] || x.size(j) == 1, "broadcast_to: cannot broadcast ", x.shape(), " to ", shape);
      strides.push_back(x.size(j) == shape[i] ? x.stride(j) : 0);
    }
  }
  Tensor<T> out = make_view(x, shape, strides, x.offset());
  const Shape in_shape = x.shape();
  autograd::record<T>("broadcast_to", {x}, {out}, [in_shape](const auto& g, const auto&) {
    return std::vector<Tensor<T>>{sum_to(g[0], in_shape)};
  });
  return out;
}

// Joins tensors along `axis`; all other dimensions must match.
template <class T>
Tensor<T> concat(const std::vector<Tensor<T>>& xs, int64_t axis) {
  PN_CHECK(!xs.empty(), "concat: no tensors given");
  const Shape& first = xs[0].shape();
  const int a = normalize_axis(axis, first.rank(), "concat");
  Shape shape = first;
  shape[a] = 0;
  std::vector<int64_t> sizes;
  for (const auto& x : xs) {
    PN_CHECK(x.dim() == first.rank(), "concat: shapes ", first, " and ", x.shape(), " differ in rank");
    PN_CHECK(x.device() == xs[0].device(), "concat: tensors on ", xs[0].device(), " and ", x.device());
    for (int i = 0; i < first.rank(); ++i)
      PN_CHECK(i == a || x.size(i) == first[i], "concat: shapes ", first, " and ", x.shape(), " differ outside axis ",
               a);
    shape[a] += x.size(a);
    sizes.push_back(x.size(a));
  }
  Tensor<T> out = Tensor<T>::empty(shape, xs[0].device());
  {
    NoGrad no_grad;
    int64_t at = 0;
    for (const auto& x : xs) {
      detail::copy_values(x, slice(out, a, at, at + x.size(a)));
      at += x.size(a);
    }
  }
  autograd::record<T>("concat", xs, {out}, [sizes, a](const auto& g, const auto&) { return split(g[0], sizes, a); });
  return out;
}

template <class T>
Tensor<T> concat(std::initializer_list<Tensor<T>> xs, int64_t axis) {
  return concat(std::vector<Tensor<T>>(xs), axis);
}

}  // namespace patchnet
