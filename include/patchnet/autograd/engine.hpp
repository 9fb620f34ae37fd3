// The backward engine: Tensor::backward walks the graph from a tensor in topological
// order, sums the gradients that reach each node, runs its closure, and accumulates
// into leaves' grad(). Unless retain_graph is set, each node frees its closure (and the
// tensors it saved) once it has run, so a second backward through it throws.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "patchnet/autograd/grad_mode.hpp"
#include "patchnet/autograd/node.hpp"
#include "patchnet/core/tensor.hpp"
#include "patchnet/cuda/copy.hpp"

namespace patchnet {
namespace autograd {

// a + b for two same-shape tensors on one device, as a new packed tensor. The engine's
// own sum, so it needs no op headers.
template <class T>
Tensor<T> add_gradients(const Tensor<T>& a, const Tensor<T>& b) {
  PN_CHECK(a.shape() == b.shape() && a.device() == b.device(), "backward: gradients of shape ", a.shape(), " on ",
           a.device(), " and ", b.shape(), " on ", b.device(), " cannot be summed");
  const Tensor<T> ac = a.contiguous(), bc = b.contiguous();
  Tensor<T> out = Tensor<T>::empty(a.shape(), a.device());
  const int64_t n = out.numel();
  if (out.is_cpu()) {
    const T *pa = ac.data(), *pb = bc.data();
    T* po = out.data();
    for (int64_t i = 0; i < n; ++i) po[i] = pa[i] + pb[i];
  } else {
    PN_CUDA("backward", cuda::add(ac.data(), bc.data(), out.data(), n));
  }
  return out;
}

template <class T>
void accumulate_into_leaf(TensorImpl<T>& leaf, const Tensor<T>& g, bool may_steal) {
  PN_CHECK(g.device() == leaf.storage->device(), "backward: gradient on ", g.device(), " for a leaf on ",
           leaf.storage->device());
  if (leaf.grad) {
    leaf.grad = add_gradients(Tensor<T>(leaf.grad), g).impl();
    return;
  }
  // The first gradient is taken over when nothing else holds it or its memory (PyTorch
  // steals it the same way); otherwise copied, since g may alias another leaf's gradient
  // (add's backward hands one tensor to both inputs) and in-place updates of one must not
  // change the other.
  const bool sole_owner = may_steal && g.impl().use_count() == 1 && g.storage().use_count() == 1;
  leaf.grad = (sole_owner ? g.detach() : g.detach().clone()).impl();
}

namespace detail {
// Backward seconds and calls per node name, collected while a profiler (nn/profile.hpp)
// points this at its table; null (the default) costs one branch per node.
using NodeTimes = std::map<std::string, std::pair<double, int64_t>>;
inline NodeTimes*& node_times() {
  thread_local NodeTimes* t = nullptr;
  return t;
}
}  // namespace detail

template <class T>
void run_backward(const Tensor<T>& root, const Tensor<T>& grad, bool retain_graph) {
  PN_CHECK(root.requires_grad(), "backward: the tensor does not require grad (no input of the ops that ",
           "made it has requires_grad set, or it was made under NoGrad)");
  PN_CHECK(grad.defined() && grad.shape() == root.shape(), "backward: gradient of shape ",
           grad.defined() ? grad.shape().str() : "undefined", " for a tensor of shape ", root.shape());
  PN_CHECK(grad.device() == root.device(), "backward: gradient on ", grad.device(), " for a tensor on ", root.device());
  NoGrad no_grad;  // backward computations are not themselves recorded
  if (root.is_leaf()) {
    accumulate_into_leaf(*root.impl(), grad, /*may_steal=*/false);  // the caller may keep grad
    return;
  }
  using NodePtr = std::shared_ptr<Node<T>>;
  const NodePtr& start = root.grad_fn();
  PN_CHECK(!start->released(), "backward: the graph of this tensor was already freed by an earlier ",
           "backward(); pass retain_graph=true to the first backward to go through it twice");

  // Count, for each node, how many edges lead into it from nodes reachable from start.
  std::unordered_map<Node<T>*, int> pending;
  std::vector<Node<T>*> stack{start.get()};
  pending[start.get()] = 0;
  while (!stack.empty()) {
    Node<T>* n = stack.back();
    stack.pop_back();
    for (const Edge<T>& e : n->edges()) {
      if (!e.node) continue;
      auto [it, fresh] = pending.try_emplace(e.node.get(), 0);
      ++it->second;
      if (fresh) stack.push_back(e.node.get());
    }
  }

  std::unordered_map<Node<T>*, std::vector<Tensor<T>>> buffers;
  buffers[start.get()].resize(static_cast<size_t>(start->num_outputs()));
  buffers[start.get()][static_cast<size_t>(root.output_nr())] = grad;
  std::vector<NodePtr> ready{start};
  while (!ready.empty()) {
    NodePtr node = std::move(ready.back());
    ready.pop_back();
    std::vector<Tensor<T>> gout = std::move(buffers[node.get()]);
    buffers.erase(node.get());
    detail::NodeTimes* times = detail::node_times();
    const auto t0 = times ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    std::vector<Tensor<T>> gin = node->apply(std::move(gout));
    const auto& edges = node->edges();
    for (size_t i = 0; i < edges.size(); ++i) {
      const Edge<T>& e = edges[i];
      if (e.leaf && gin[i].defined()) accumulate_into_leaf(*e.leaf, gin[i], /*may_steal=*/true);
      if (!e.node) continue;
      if (gin[i].defined()) {
        auto& slot = buffers[e.node.get()];
        slot.resize(static_cast<size_t>(e.node->num_outputs()));
        auto& acc = slot[static_cast<size_t>(e.output_nr)];
        acc = acc.defined() ? add_gradients(acc, gin[i]) : gin[i];
      }
      if (--pending[e.node.get()] == 0) ready.push_back(e.node);
    }
    if (!retain_graph) node->release();
    if (times) {  // the node's backward and the accumulation of what it returned
      auto& [seconds, calls] = (*times)[node->name()];
      seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      ++calls;
    }
  }
}

}  // namespace autograd

template <class T>
void Tensor<T>::backward(bool retain_graph) const {
  PN_CHECK(numel() == 1, "backward: a gradient can be created implicitly only for a tensor of one ",
           "element; this one has shape ", shape(), " (pass the output gradient explicitly)");
  autograd::run_backward(*this, Tensor<T>::ones(shape(), device()), retain_graph);
}

template <class T>
void Tensor<T>::backward(const Tensor<T>& grad, bool retain_graph) const {
  autograd::run_backward(*this, grad, retain_graph);
}

}  // namespace patchnet
