// Tensor<T>: a handle to a strided view of shared storage, with its autograd record.
//
// Copying a Tensor copies the handle (both alias one TensorImpl, as in PyTorch); views
// (reshape, permute, slice, broadcast_to) make a new TensorImpl over the same Storage.
// Images are NHWC. Element (i0, i1, ...) lives at data()[sum_k i_k * strides[k]], where
// data() already includes the view's offset into the storage.
//
// Members that need ops or the autograd engine (contiguous, clone, to, copy_, backward)
// are defined in ops/copy.hpp and autograd/engine.hpp, included at the end of this file.
#pragma once

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "patchnet/core/device.hpp"
#include "patchnet/core/dtype.hpp"
#include "patchnet/core/error.hpp"
#include "patchnet/core/fwd.hpp"
#include "patchnet/core/shape.hpp"
#include "patchnet/core/storage.hpp"

namespace patchnet {

template <class T>
struct TensorImpl {
  std::shared_ptr<Storage<T>> storage;
  Shape shape;
  Strides strides;
  int64_t offset = 0;  // in elements, into storage

  // Autograd record. A leaf has no grad_fn; requires_grad is set by the user on leaves.
  bool requires_grad = false;
  std::shared_ptr<autograd::Node<T>> grad_fn;  // the op that produced this tensor
  int output_nr = 0;                           // which of grad_fn's outputs it is
  std::shared_ptr<TensorImpl<T>> grad;         // accumulated gradient of a leaf
};

template <class T>
class Tensor {
 public:
  using value_type = T;

  Tensor() = default;  // undefined: defined() is false
  explicit Tensor(std::shared_ptr<TensorImpl<T>> impl) : impl_(std::move(impl)) {}

  // ---- factories --------------------------------------------------------------------
  static Tensor empty(const Shape& shape, Device device = Device::cpu()) {
    for (int64_t d : shape) PN_CHECK(d >= 0, "Tensor::empty: negative size in shape ", shape);
    auto impl = std::make_shared<TensorImpl<T>>();
    impl->storage = Storage<T>::allocate(static_cast<std::size_t>(shape.numel()), device);
    impl->shape = shape;
    impl->strides = shape.contiguous_strides();
    return Tensor(std::move(impl));
  }
  static Tensor full(const Shape& shape, T value, Device device = Device::cpu()) {
    Tensor t = empty(shape, device);
    t.fill_(value);
    return t;
  }
  static Tensor zeros(const Shape& shape, Device device = Device::cpu()) { return full(shape, T(0), device); }
  static Tensor ones(const Shape& shape, Device device = Device::cpu()) { return full(shape, T(1), device); }
  static Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.device()); }
  static Tensor scalar(T value, Device device = Device::cpu()) { return full(Shape{}, value, device); }
  // Copies values (row-major) into a new CPU tensor of the given shape.
  static Tensor from_vector(std::span<const T> values, const Shape& shape) {
    PN_CHECK(static_cast<int64_t>(values.size()) == shape.numel(), "Tensor::from_vector: ", values.size(),
             " values do not fill shape ", shape, " (", shape.numel(), " elements)");
    Tensor t = empty(shape);
    std::copy(values.begin(), values.end(), t.data());
    return t;
  }
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape) {
    return from_vector(std::span<const T>(values), shape);
  }
  static Tensor from_vector(std::initializer_list<T> values, const Shape& shape) {
    return from_vector(std::span<const T>(values.begin(), values.size()), shape);
  }
  // 0, 1, ..., n-1 as a rank-1 CPU tensor.
  static Tensor arange(int64_t n) {
    Tensor t = empty(Shape{n});
    for (int64_t i = 0; i < n; ++i) t.data()[i] = static_cast<T>(i);
    return t;
  }

  // ---- metadata ---------------------------------------------------------------------
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return checked().shape; }
  const Strides& strides() const { return checked().strides; }
  int dim() const { return shape().rank(); }
  int64_t size(int64_t axis) const { return shape()[normalize_axis(axis, dim(), "Tensor::size")]; }
  int64_t stride(int64_t axis) const { return strides()[normalize_axis(axis, dim(), "Tensor::stride")]; }
  int64_t numel() const { return shape().numel(); }
  int64_t offset() const { return checked().offset; }
  Device device() const { return checked().storage->device(); }
  bool is_cpu() const { return device().is_cpu(); }
  bool is_cuda() const { return device().is_cuda(); }
  bool is_contiguous() const {
    const auto& s = checked();
    int64_t expected = 1;
    for (int i = s.shape.rank() - 1; i >= 0; --i) {
      if (s.shape[i] == 1) continue;
      if (s.strides[i] != expected) return false;
      expected *= s.shape[i];
    }
    return true;
  }
  // Pointer to element (0, 0, ...) of this view. The handle is shared, so const does not
  // make the data read-only (as with PyTorch's data_ptr).
  T* data() const {
    const auto& s = checked();
    return s.storage->data() + s.offset;
  }
  const std::shared_ptr<Storage<T>>& storage() const { return checked().storage; }
  const std::shared_ptr<TensorImpl<T>>& impl() const { return impl_; }
  bool is_same(const Tensor& o) const { return impl_ == o.impl_; }
  bool shares_storage(const Tensor& o) const { return storage() == o.storage(); }

  // ---- element access (CPU) ---------------------------------------------------------
  T& at(std::initializer_list<int64_t> index) const {
    PN_CHECK(is_cpu(), "Tensor::at: tensor is on ", device(), "; copy it to the CPU first");
    PN_CHECK(static_cast<int>(index.size()) == dim(), "Tensor::at: ", index.size(), " indices for a tensor of shape ",
             shape());
    int64_t off = 0;
    int k = 0;
    for (int64_t i : index) {
      PN_CHECK(i >= 0 && i < shape()[k], "Tensor::at: index ", i, " out of range for dimension ", k, " of shape ",
               shape());
      off += i * strides()[k++];
    }
    return data()[off];
  }
  // The single value of a one-element tensor (copied from the GPU if needed).
  T item() const {
    PN_CHECK(numel() == 1, "Tensor::item: tensor of shape ", shape(), " has ", numel(), " elements, not 1");
    return to_vector()[0];
  }
  // All values in row-major order, as a host vector.
  std::vector<T> to_vector() const;

  // ---- copies and views (defined in ops/copy.hpp) -----------------------------------
  Tensor contiguous() const;       // this if already contiguous, else a packed copy
  Tensor clone() const;            // always a new packed copy (differentiable)
  Tensor to(Device device) const;  // copy to a device (differentiable); this if already there
  Tensor detach() const {          // same data, no autograd history
    auto impl = std::make_shared<TensorImpl<T>>();
    impl->storage = checked().storage;
    impl->shape = shape();
    impl->strides = strides();
    impl->offset = offset();
    return Tensor(std::move(impl));
  }

  // ---- in-place (never recorded by autograd) ----------------------------------------
  Tensor& fill_(T value);
  Tensor& zero_() { return fill_(T(0)); }
  Tensor& copy_(const Tensor& src);  // same shape; src may be on another device
  // Moves the values to `device` in place: every handle of this tensor (a layer's, an
  // optimizer's) sees them there. Packs a view; drops the gradient. Leaves only.
  Tensor& move_to_(Device device);

  // ---- autograd ---------------------------------------------------------------------
  bool requires_grad() const { return checked().requires_grad || checked().grad_fn != nullptr; }
  // Marks a leaf as needing a gradient. Tensors made by ops inherit it from their inputs.
  Tensor& set_requires_grad(bool on = true) {
    PN_CHECK(is_leaf(), "set_requires_grad: only leaf tensors can be marked; this tensor was made by ",
             "an op (detach() it first)");
    impl_->requires_grad = on;
    return *this;
  }
  bool is_leaf() const { return checked().grad_fn == nullptr; }
  const std::shared_ptr<autograd::Node<T>>& grad_fn() const { return checked().grad_fn; }
  int output_nr() const { return checked().output_nr; }
  // Accumulated gradient; undefined until a backward reaches this leaf.
  Tensor grad() const { return checked().grad ? Tensor(checked().grad) : Tensor(); }
  void set_grad(const Tensor& g) { checked().grad = g.defined() ? g.impl() : nullptr; }
  void zero_grad() { checked().grad = nullptr; }
  // Reverse-mode differentiation from this tensor (defined in autograd/engine.hpp).
  // Without an explicit gradient the tensor must hold one element.
  void backward(bool retain_graph = false) const;
  void backward(const Tensor& grad, bool retain_graph = false) const;

 private:
  TensorImpl<T>& checked() const {
    PN_CHECK(impl_ != nullptr, "Tensor: use of an undefined tensor");
    return *impl_;
  }
  std::shared_ptr<TensorImpl<T>> impl_;
};

// A view of base's storage with its own shape, strides and offset (no autograd record).
template <class T>
Tensor<T> make_view(const Tensor<T>& base, const Shape& shape, const Strides& strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl<T>>();
  impl->storage = base.storage();
  impl->shape = shape;
  impl->strides = strides;
  impl->offset = offset;
  return Tensor<T>(std::move(impl));
}

}  // namespace patchnet

#include "patchnet/ops/copy.hpp"
#include "patchnet/autograd/engine.hpp"
