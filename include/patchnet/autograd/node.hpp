// The autograd graph: a Node per recorded op, Edges to the nodes (or leaves) that made
// its inputs, and record(), which every op calls after its forward.
//
// A node's backward closure gets the gradients of the op's outputs and returns one
// gradient per input (undefined where the input needs none). Closures must capture
// inputs and outputs through detach(): capturing an output's own handle would make a
// reference cycle (output -> node -> closure -> output) and leak the graph.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "patchnet/autograd/grad_mode.hpp"
#include "patchnet/core/device.hpp"
#include "patchnet/core/error.hpp"
#include "patchnet/core/fwd.hpp"
#include "patchnet/core/shape.hpp"

namespace patchnet::autograd {

template <class T>
struct Edge {
  std::shared_ptr<Node<T>> node;        // producer of the input, if it is not a leaf
  int output_nr = 0;                    // which output of node the input is
  std::shared_ptr<TensorImpl<T>> leaf;  // the input itself, if it is a leaf needing grad
  bool needed() const { return node != nullptr || leaf != nullptr; }
};

template <class T>
class Node {
 public:
  using Grads = std::vector<Tensor<T>>;
  // (gradients of the outputs, which inputs need a gradient) -> gradients of the inputs
  using BackwardFn = std::function<Grads(const Grads&, const std::vector<bool>&)>;

  struct Meta {
    Shape shape;
    Device device;
  };

  Node(std::string name, std::vector<Edge<T>> edges, std::vector<Meta> inputs, std::vector<Meta> outputs, BackwardFn fn)
      : name_(std::move(name)),
        edges_(std::move(edges)),
        inputs_(std::move(inputs)),
        outputs_(std::move(outputs)),
        fn_(std::move(fn)) {}

  const std::string& name() const { return name_; }
  const std::vector<Edge<T>>& edges() const { return edges_; }
  int num_outputs() const { return static_cast<int>(outputs_.size()); }
  bool released() const { return !fn_; }

  // Runs the backward closure. Missing output gradients are zeros; if all are missing the
  // inputs get none. Checks that each returned gradient has its input's shape.
  Grads apply(Grads grad_outputs) {
    PN_CHECK(fn_, "backward: the graph through '", name_, "' was already freed by an earlier ",
             "backward(); pass retain_graph=true to the first backward to go through it twice");
    grad_outputs.resize(outputs_.size());
    bool any = false;
    for (const auto& g : grad_outputs) any = any || g.defined();
    if (!any) return Grads(edges_.size());
    for (size_t k = 0; k < outputs_.size(); ++k)
      if (!grad_outputs[k].defined()) grad_outputs[k] = Tensor<T>::zeros(outputs_[k].shape, outputs_[k].device);
    std::vector<bool> needs(edges_.size());
    for (size_t i = 0; i < edges_.size(); ++i) needs[i] = edges_[i].needed();
    Grads gin = fn_(grad_outputs, needs);
    PN_CHECK(gin.size() == edges_.size(), "autograd: backward of ", name_, " returned ", gin.size(), " gradients for ",
             edges_.size(), " inputs");
    for (size_t i = 0; i < gin.size(); ++i) {
      if (!needs[i] || !gin[i].defined()) continue;
      PN_CHECK(gin[i].shape() == inputs_[i].shape, "autograd: backward of ", name_, " returned a gradient of shape ",
               gin[i].shape(), " for input ", i, " of shape ", inputs_[i].shape);
    }
    return gin;
  }

  // Frees the closure and what it saved; a later backward through this node throws.
  void release() { fn_ = nullptr; }

 private:
  std::string name_;
  std::vector<Edge<T>> edges_;
  std::vector<Meta> inputs_;
  std::vector<Meta> outputs_;
  BackwardFn fn_;
};

// True when grad mode is on and some input requires a gradient: then the op must record.
template <class T>
bool should_record(std::initializer_list<const Tensor<T>*> inputs) {
  if (!is_grad_enabled()) return false;
  for (const Tensor<T>* t : inputs)
    if (t && t->defined() && t->requires_grad()) return true;
  return false;
}
template <class T>
bool should_record(const std::vector<Tensor<T>>& inputs) {
  if (!is_grad_enabled()) return false;
  for (const auto& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

// Records an op: makes its node and sets it as grad_fn of each output. Does nothing when
// grad mode is off or no input requires a gradient. Undefined inputs (an absent bias)
// get no edge.
template <class T>
void record(std::string name, const std::vector<Tensor<T>>& inputs, const std::vector<Tensor<T>>& outputs,
            typename Node<T>::BackwardFn fn) {
  if (!should_record(inputs)) return;
  std::vector<Edge<T>> edges;
  std::vector<typename Node<T>::Meta> in_meta, out_meta;
  for (const auto& t : inputs) {
    Edge<T> e;
    if (t.defined()) {
      in_meta.push_back({t.shape(), t.device()});
      if (t.grad_fn()) {
        e.node = t.grad_fn();
        e.output_nr = t.output_nr();
      } else if (t.requires_grad()) {
        e.leaf = t.impl();
      }
    } else {
      in_meta.push_back({Shape{}, Device::cpu()});
    }
    edges.push_back(std::move(e));
  }
  for (const auto& t : outputs) out_meta.push_back({t.shape(), t.device()});
  auto node = std::make_shared<Node<T>>(std::move(name), std::move(edges), std::move(in_meta), std::move(out_meta),
                                        std::move(fn));
  for (size_t k = 0; k < outputs.size(); ++k) {
    outputs[k].impl()->grad_fn = node;
    outputs[k].impl()->output_nr = static_cast<int>(k);
  }
}

}  // namespace patchnet::autograd
