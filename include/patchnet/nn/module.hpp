// Module: a layer or a model, built at run time (PyTorch's nn.Module, not dlib's
// networks-as-types). A module owns named parameters (trainable leaf tensors), buffers
// (state that is saved but not trained: BatchNorm's running statistics) and counters
// (int64 state such as num_batches_tracked), and named child modules. Names join with
// '.', so a model's named_parameters() are exactly the keys of the PyTorch state_dict
// of the same architecture ("blocks.3.0.fn.0.weight").
//
// Each parameter says how its patchnet layout maps to PyTorch's (TorchLayout), so a
// checkpoint stores PyTorch layouts whatever layout patchnet computes in (io/model.hpp).
//
// Calling a module goes through operator(), which also feeds the summary recorder
// (nn/summary.hpp); forward() is what a layer implements.
//
// Fusion: nn::Sequential asks each layer whether it computes itself and the layer before
// it as one op (forward_after); BatchNorm2d after a GELU does (ops::gelu_batch_norm).
// nn::Residual asks its child to add the residual in its last op (call_plus): a Sequential
// ending in GELU, BatchNorm2d does (ops::gelu_batch_norm_add). The model's structure,
// names and checkpoints stay those of the separate layers.
// set_fusion(false), or PATCHNET_FUSE=0 in the environment, runs every layer by itself.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "patchnet/core/tensor.hpp"

namespace patchnet::nn {

// How a parameter's patchnet layout maps to the layout PyTorch stores.
enum class TorchLayout {
  Same,       // identical (biases, norms)
  ConvHWIO,   // [KH, KW, Cin/g, Cout]  <->  OIHW [Cout, Cin/g, KH, KW]
  Depthwise,  // [KH, KW, C]            <->  [C, 1, KH, KW]
  Linear,     // [in, out]              <->  [out, in]
  Pointwise,  // [Cin, Cout]            <->  [Cout, Cin, 1, 1]
};

template <FloatingPoint T>
struct NamedTensor {
  std::string name;
  Tensor<T> tensor;
  TorchLayout layout = TorchLayout::Same;
};

struct NamedCounter {
  std::string name;
  int64_t* value;
};

template <FloatingPoint T>
class Module;

namespace detail {
inline std::atomic<bool>& fusion_flag() {
  static std::atomic<bool> on{[] {
    const char* v = std::getenv("PATCHNET_FUSE");
    return v == nullptr || std::strcmp(v, "0") != 0;
  }()};
  return on;
}
}  // namespace detail

// Whether nn::Sequential fuses neighbouring layers (default on; PATCHNET_FUSE=0 turns it off).
inline bool fusion_enabled() { return detail::fusion_flag().load(std::memory_order_relaxed); }
inline void set_fusion(bool on) { detail::fusion_flag().store(on, std::memory_order_relaxed); }

namespace detail {
// The summary recorder (nn/summary.hpp) hooks module calls through this interface.
template <FloatingPoint T>
struct CallObserver {
  virtual ~CallObserver() = default;
  // Returns true if the call is recorded as one row (then calls inside it are not).
  virtual bool enter(const Module<T>& m) = 0;
  virtual void leave(const Module<T>& m, const Tensor<T>& out, bool recorded) = 0;
  // Whether fused layers may run while observing (a summary needs every layer's output).
  virtual bool allows_fusion() const { return false; }
};
template <FloatingPoint T>
CallObserver<T>*& call_observer() {
  thread_local CallObserver<T>* obs = nullptr;
  return obs;
}
}  // namespace detail

// A shared handle to a layer, called like the layer: `conv(x)` and `conv->weight`, with no
// `(*conv)(x)` (libtorch's ModuleHolder). register_module returns one; nn::make builds one:
//   nn::Handle<nn::Linear<float>> fc = register_module("fc", nn::make<nn::Linear<float>>(cfg, gen));
// It is a std::shared_ptr<M>, so it goes wherever one does.
template <class M>
class Handle : public std::shared_ptr<M> {
 public:
  Handle() = default;
  Handle(std::nullptr_t) {}  // NOLINT(google-explicit-constructor)
  template <class U>
  requires std::is_convertible_v<U*, M*> Handle(std::shared_ptr<U> p)
      : std::shared_ptr<M>(std::move(p)) {}  // NOLINT(google-explicit-constructor)

  template <class... A>
  decltype(auto) operator()(A&&... args) const {
    PN_CHECK(this->get() != nullptr, "nn::Handle: the layer handle is empty (was it registered?)");
    return (*this->get())(std::forward<A>(args)...);
  }
};

// std::make_shared for layers, as a Handle.
template <class M, class... A>
Handle<M> make(A&&... args) {
  return Handle<M>(std::make_shared<M>(std::forward<A>(args)...));
}

template <FloatingPoint T>
class Module {
 public:
  using Ptr = Handle<Module<T>>;  // a std::shared_ptr that calls as the module

  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  virtual ~Module() = default;

  // The layer's computation. Call a module with operator(), not forward().
  virtual Tensor<T> forward(const Tensor<T>& x) = 0;
  // The class name shown in summaries ("Conv2d", "BatchNorm2d").
  virtual std::string type_name() const = 0;
  // A composite layer that a summary shows as one row (Keras shows its Involution layer
  // as one row although it holds convolutions and a BatchNorm).
  virtual bool summary_as_one_row() const { return false; }

  Tensor<T> operator()(const Tensor<T>& x) {
    return observed([&] { return forward(x); });
  }

  // ---- fusion with the layer before (nn::Sequential) ------------------------------------
  // A layer that can compute this(prev(x)) as one op says so here and does it in
  // forward_after; Sequential calls call_after, which returns nothing when it does not.
  // A layer that can also add a residual in the same op says so in adds_after; call_after
  // then passes one (Residual's add folded in, below), else `residual` is null.
  virtual bool fuses_after(const Module<T>& /*prev*/) const { return false; }
  virtual bool adds_after(const Module<T>& /*prev*/) const { return false; }
  virtual Tensor<T> forward_after(const Module<T>& /*prev*/, const Tensor<T>& x, const Tensor<T>* /*residual*/) {
    return forward(x);
  }
  std::optional<Tensor<T>> call_after(const Module<T>& prev, const Tensor<T>& x, const Tensor<T>* residual = nullptr) {
    if (!fusing() || !fuses_after(prev) || (residual && !adds_after(prev))) return std::nullopt;
    return observed([&] { return forward_after(prev, x, residual); });
  }

  // ---- the residual add folded in (nn::Residual) -----------------------------------------
  // this(x) + r as one op, for a module whose last op can add r as it writes its output
  // (a Sequential ending in GELU then BatchNorm2d); call_plus returns nothing when it cannot.
  virtual bool adds_residual() const { return false; }
  virtual Tensor<T> forward_plus(const Tensor<T>& x, const Tensor<T>& /*r*/) { return forward(x); }
  std::optional<Tensor<T>> call_plus(const Tensor<T>& x, const Tensor<T>& r) {
    if (!fusing() || !adds_residual()) return std::nullopt;
    return observed([&] { return forward_plus(x, r); });
  }

  // ---- mode ---------------------------------------------------------------------------
  void train(bool on = true) {
    training_ = on;
    for (auto& [name, child] : children_) child->train(on);
  }
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // ---- state ------------------------------------------------------------------------
  // Every parameter of this module and its children, in registration order, with
  // dotted names ("stem.0.weight").
  std::vector<NamedTensor<T>> named_parameters(const std::string& prefix = "") const {
    std::vector<NamedTensor<T>> out;
    collect(prefix, out, &Module::params_);
    return out;
  }
  std::vector<NamedTensor<T>> named_buffers(const std::string& prefix = "") const {
    std::vector<NamedTensor<T>> out;
    collect(prefix, out, &Module::buffers_);
    return out;
  }
  std::vector<NamedCounter> named_counters(const std::string& prefix = "") const {
    std::vector<NamedCounter> out;
    for (const auto& c : counters_) out.push_back({prefix + c.name, c.value});
    for (const auto& [name, child] : children_) {
      auto sub = child->named_counters(prefix + name + ".");
      out.insert(out.end(), sub.begin(), sub.end());
    }
    return out;
  }
  std::vector<Tensor<T>> parameters() const {
    std::vector<Tensor<T>> out;
    for (auto& p : named_parameters()) out.push_back(p.tensor);
    return out;
  }
  const std::vector<std::pair<std::string, Ptr>>& children() const { return children_; }

  // Moves every parameter and buffer to `device` in place: the layers' handles see the
  // moved tensors (their TensorImpl stays, its storage changes). Gradients are dropped.
  // An optimizer built before the move follows at its next step (optim/optimizer.hpp).
  void to(Device device) {
    for (auto& p : named_parameters()) p.tensor.move_to_(device);
    for (auto& b : named_buffers()) b.tensor.move_to_(device);
  }

  // Drops every parameter's gradient (the next backward writes fresh ones).
  void zero_grad() {
    for (auto& p : named_parameters()) p.tensor.zero_grad();
  }

  // Trainable parameter elements, and non-trainable ones (floating-point buffers, as
  // Keras counts BatchNorm's moving statistics), of this module and its children.
  int64_t num_trainable() const {
    int64_t n = 0;
    for (const auto& p : named_parameters()) n += p.tensor.numel();
    return n;
  }
  int64_t num_non_trainable() const {
    int64_t n = 0;
    for (const auto& b : named_buffers()) n += b.tensor.numel();
    return n;
  }

 protected:
  // Registers a parameter; it becomes a leaf that requires grad. Returns the handle
  // (layers keep a copy: both alias one tensor, so a checkpoint load reaches the layer).
  Tensor<T> register_parameter(const std::string& name, Tensor<T> t, TorchLayout layout = TorchLayout::Same) {
    check_new_name(name);
    t.set_requires_grad(true);
    params_.push_back({name, t, layout});
    return t;
  }
  Tensor<T> register_buffer(const std::string& name, Tensor<T> t) {
    check_new_name(name);
    buffers_.push_back({name, t, TorchLayout::Same});
    return t;
  }
  void register_counter(const std::string& name, int64_t* value) {
    check_new_name(name);
    counters_.push_back({name, value});
  }
  template <class M>
  Handle<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    check_new_name(name);
    PN_CHECK(m != nullptr, type_name(), ": child module '", name, "' is null");
    children_.emplace_back(name, m);
    m->train(training_);
    return m;
  }

 private:
  // Runs f as this module's call, seen by the summary recorder or profiler if one is on.
  template <class F>
  Tensor<T> observed(F&& f) {
    detail::CallObserver<T>* obs = detail::call_observer<T>();
    if (!obs) return f();
    const bool recorded = obs->enter(*this);
    Tensor<T> y = f();
    obs->leave(*this, y, recorded);
    return y;
  }
  // Fusion is on, and no observer (a summary) needs the layers one by one.
  static bool fusing() {
    detail::CallObserver<T>* obs = detail::call_observer<T>();
    return fusion_enabled() && (!obs || obs->allows_fusion());
  }

  void check_new_name(const std::string& name) const {
    PN_CHECK(!name.empty() && name.find('.') == std::string::npos, type_name(), ": name '", name,
             "' must be non-empty and contain no '.'");
    auto taken = [&](const auto& list) {
      for (const auto& e : list)
        if (e.name == name) return true;
      return false;
    };
    bool dup = taken(params_) || taken(buffers_) || taken(counters_);
    for (const auto& c : children_) dup = dup || c.first == name;
    PN_CHECK(!dup, type_name(), ": name '", name, "' is registered twice");
  }
  void collect(const std::string& prefix, std::vector<NamedTensor<T>>& out,
               std::vector<NamedTensor<T>> Module::*list) const {
    for (const auto& e : this->*list) out.push_back({prefix + e.name, e.tensor, e.layout});
    for (const auto& [name, child] : children_) child->collect(prefix + name + ".", out, list);
  }

  bool training_ = true;
  std::vector<NamedTensor<T>> params_, buffers_;
  std::vector<NamedCounter> counters_;
  std::vector<std::pair<std::string, Ptr>> children_;
};

}  // namespace patchnet::nn
