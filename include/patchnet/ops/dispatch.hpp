// Helpers every op uses to check its inputs' devices and ranks. The device rule: all
// tensors of one op live on one device; nothing moves implicitly.
#pragma once

#include <initializer_list>

#include "patchnet/core/tensor.hpp"

namespace patchnet::detail {

// The device of the defined tensors; throws naming the op if they differ.
template <class T>
Device common_device(const char* op, std::initializer_list<const Tensor<T>*> tensors) {
  const Tensor<T>* first = nullptr;
  for (const Tensor<T>* t : tensors) {
    if (!t || !t->defined()) continue;
    if (!first) {
      first = t;
      continue;
    }
    PN_CHECK(t->device() == first->device(), op, ": tensors are on different devices (", first->device(), " and ",
             t->device(), "); move them with .to() first");
  }
  PN_CHECK(first != nullptr, op, ": no defined input tensor");
  return first->device();
}

// Throws naming the op unless the tensor has the expected rank.
template <class T>
void check_rank(const char* op, const char* what, const Tensor<T>& t, int rank) {
  PN_CHECK(t.defined(), op, ": ", what, " is undefined");
  PN_CHECK(t.dim() == rank, op, ": ", what, " ", t.shape(), " must have rank ", rank);
}

}  // namespace patchnet::detail
