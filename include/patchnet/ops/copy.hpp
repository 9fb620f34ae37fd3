// Copies between layouts and devices: Tensor::contiguous, clone, to, copy_, fill_,
// to_vector. contiguous, clone and to are differentiable (the gradient passes through,
// moved back to the source device for to()); copy_ and fill_ write in place and are
// never recorded.
#pragma once

#include <vector>

#include "patchnet/autograd/node.hpp"
#include "patchnet/core/tensor.hpp"
#include "patchnet/cpu/strided.hpp"
#include "patchnet/cuda/copy.hpp"

namespace patchnet {
namespace detail {

template <class T>
cuda::StridedCopyParams copy_params(const Shape& shape, const Strides& src, const Strides& dst) {
  cuda::StridedCopyParams p;
  p.rank = shape.rank();
  for (int i = 0; i < shape.rank(); ++i) {
    p.shape[i] = shape[i];
    p.src_strides[i] = src[i];
    p.dst_strides[i] = dst[i];
  }
  return p;
}

// dst <- src, same shape, any strides and devices; not recorded.
template <class T>
void copy_values(const Tensor<T>& src, const Tensor<T>& dst) {
  PN_CHECK(src.shape() == dst.shape(), "copy_: source shape ", src.shape(), " differs from destination shape ",
           dst.shape());
  if (src.numel() == 0) return;
  const Device sd = src.device(), dd = dst.device();
  if (sd.is_cpu() && dd.is_cpu()) {
    cpu::strided_copy(src.data(), src.strides(), dst.data(), dst.strides(), src.shape());
    return;
  }
  if (sd == dd) {  // both on one GPU
    PN_CUDA("copy_",
            cuda::strided_copy(src.data(), dst.data(), copy_params<T>(src.shape(), src.strides(), dst.strides())));
    return;
  }
  PN_CHECK(sd.is_cpu() || dd.is_cpu(), "copy_: copies between two GPUs (", sd, " to ", dd,
           ") are not supported; go through the CPU");
  // Host <-> device: move packed bytes, then scatter into dst's layout if it is strided.
  const Tensor<T> s = src.contiguous();
  const Tensor<T> d = dst.is_contiguous() ? dst : Tensor<T>::empty(dst.shape(), dd);
  [[maybe_unused]] const std::size_t bytes = static_cast<std::size_t>(s.numel()) * sizeof(T);
  if (dd.is_cuda()) {
    PN_CUDA("copy_", cuda::copy_host_to_device(d.data(), s.data(), bytes, dd.index));
  } else {
    PN_CUDA("copy_", cuda::copy_device_to_host(d.data(), s.data(), bytes, sd.index));
  }
  if (!d.is_same(dst)) copy_values(d, dst);
}

}  // namespace detail

template <class T>
Tensor<T>& Tensor<T>::copy_(const Tensor<T>& src) {
  PN_CHECK(!(autograd::is_grad_enabled() && requires_grad()),
           "copy_: in-place write into a tensor that requires grad; do it inside a NoGrad scope");
  detail::copy_values(src, *this);
  return *this;
}

template <class T>
Tensor<T>& Tensor<T>::fill_(T value) {
  PN_CHECK(!(autograd::is_grad_enabled() && requires_grad()),
           "fill_: in-place write into a tensor that requires grad; do it inside a NoGrad scope");
  if (numel() == 0) return *this;
  if (is_cpu()) {
    T* base = data();
    cpu::for_each_row<1>(shape(), {strides()},
                         [&](const std::array<int64_t, 1>& off, int64_t n, const std::array<int64_t, 1>& st) {
                           for (int64_t i = 0; i < n; ++i) base[off[0] + i * st[0]] = value;
                         });
  } else if (is_contiguous()) {
    PN_CUDA("fill_", cuda::fill(data(), numel(), value));
  } else {
    detail::copy_values(Tensor<T>::full(shape(), value, device()), *this);
  }
  return *this;
}

template <class T>
std::vector<T> Tensor<T>::to_vector() const {
  std::vector<T> out(static_cast<std::size_t>(numel()));
  if (out.empty()) return out;
  if (is_cpu()) {  // straight into the vector, packed
    cpu::strided_copy(data(), strides(), out.data(), shape().contiguous_strides(), shape());
    return out;
  }
  Tensor<T> host = Tensor<T>::empty(shape());
  detail::copy_values(*this, host);
  std::copy(host.data(), host.data() + numel(), out.begin());
  return out;
}

template <class T>
Tensor<T> Tensor<T>::contiguous() const {
  if (is_contiguous()) return *this;
  Tensor<T> out = Tensor<T>::empty(shape(), device());
  detail::copy_values(*this, out);
  autograd::record<T>("contiguous", {*this}, {out},
                      [](const auto& g, const auto&) { return std::vector<Tensor<T>>{g[0]}; });
  return out;
}

template <class T>
Tensor<T> Tensor<T>::clone() const {
  Tensor<T> out = Tensor<T>::empty(shape(), device());
  detail::copy_values(*this, out);
  autograd::record<T>("clone", {*this}, {out}, [](const auto& g, const auto&) { return std::vector<Tensor<T>>{g[0]}; });
  return out;
}

template <class T>
Tensor<T>& Tensor<T>::move_to_(Device target) {
  PN_CHECK(is_leaf(), "move_to_: only leaf tensors move in place; this one was made by an op");
  if (device() == target) return *this;
  const Tensor<T> moved = detach().contiguous().to(target);
  TensorImpl<T>& impl = *impl_;
  impl.storage = moved.storage();
  impl.strides = moved.strides();
  impl.offset = moved.offset();
  impl.grad = nullptr;
  return *this;
}

template <class T>
Tensor<T> Tensor<T>::to(Device target) const {
  if (device() == target) return *this;
  Tensor<T> out = Tensor<T>::empty(shape(), target);
  detail::copy_values(*this, out);
  const Device source = device();
  autograd::record<T>("to", {*this}, {out},
                      [source](const auto& g, const auto&) { return std::vector<Tensor<T>>{g[0].to(source)}; });
  return out;
}

}  // namespace patchnet

namespace patchnet {

// The same values as another scalar type, on the same device (through the host for a GPU
// tensor). Not recorded by autograd.
template <class U, class T>
Tensor<U> to_dtype(const Tensor<T>& x) {
  const std::vector<T> v = x.to_vector();
  std::vector<U> u(v.size());
  for (size_t i = 0; i < v.size(); ++i) u[i] = static_cast<U>(v[i]);
  return Tensor<U>::from_vector(u, x.shape()).to(x.device());
}

}  // namespace patchnet
