// Forward declarations, so headers that only use Tensor inside templates need not
// include tensor.hpp (which includes them back for its out-of-line members).
#pragma once

namespace patchnet {
template <class T>
class Tensor;
template <class T>
struct TensorImpl;
namespace autograd {
template <class T>
class Node;
}
}  // namespace patchnet
