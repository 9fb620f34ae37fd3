// Readable printing: std::cout << tensor shows dtype, shape, device, autograd state and
// the values as nested rows, eliding the middle of long dimensions (as PyTorch does
// past 1000 elements).
#pragma once

#include <iomanip>
#include <ostream>
#include <string>
#include <vector>

#include "patchnet/autograd/node.hpp"
#include "patchnet/core/tensor.hpp"

namespace patchnet {
namespace detail {

template <class T>
void print_values(std::ostream& os, const std::vector<T>& v, const Shape& shape, int dim, int64_t offset,
                  bool summarize, int indent) {
  constexpr int64_t kEdge = 3;
  const int64_t n = shape[dim];
  int64_t inner = 1;
  for (int i = dim + 1; i < shape.rank(); ++i) inner *= shape[i];
  os << '[';
  for (int64_t i = 0; i < n; ++i) {
    if (summarize && n > 2 * kEdge && i == kEdge) {
      os << (dim + 1 == shape.rank() ? "..., " : "...,\n" + std::string(static_cast<size_t>(indent + 1), ' '));
      i = n - kEdge;
    }
    if (dim + 1 == shape.rank()) {
      if constexpr (std::is_floating_point_v<T>) os << std::setprecision(4) << v[static_cast<size_t>(offset + i)];
      else os << +v[static_cast<size_t>(offset + i)];
    } else {
      print_values(os, v, shape, dim + 1, offset + i * inner, summarize, indent + 1);
    }
    if (i + 1 < n) os << (dim + 1 == shape.rank() ? ", " : ",\n" + std::string(static_cast<size_t>(indent + 1), ' '));
  }
  os << ']';
}

}  // namespace detail

template <class T>
std::ostream& operator<<(std::ostream& os, const Tensor<T>& t) {
  if (!t.defined()) return os << "Tensor(undefined)";
  os << "Tensor<" << dtype_name<T>() << ">" << t.shape() << " on " << t.device();
  if (t.grad_fn()) os << ", grad_fn=" << t.grad_fn()->name();
  else if (t.requires_grad()) os << ", requires_grad";
  os << '\n';
  const std::vector<T> v = t.to_vector();
  if (t.dim() == 0) {
    if constexpr (std::is_floating_point_v<T>) return os << std::setprecision(6) << v[0];
    else return os << +v[0];
  }
  if (t.numel() == 0) return os << "[]";
  const auto flags = os.flags();
  detail::print_values(os, v, t.shape(), 0, 0, t.numel() > 1000, 0);
  os.flags(flags);
  return os;
}

}  // namespace patchnet
