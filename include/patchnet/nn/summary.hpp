// summary(model, input_shape): a table like Keras' model.summary(): one row per layer
// that runs (leaf modules, and composites that show as one row, like Involution), with
// its state-dict name, type, output shape and parameter count, then the totals of
// trainable and non-trainable (buffer) parameters. It runs one forward pass on zeros of
// [1, ...input_shape] in eval mode without recording gradients, then restores the mode.
#pragma once

#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "patchnet/autograd/grad_mode.hpp"
#include "patchnet/nn/module.hpp"

namespace patchnet::nn {

struct SummaryRow {
  std::string name, type;
  Shape output;
  int64_t params = 0;
};

struct Summary {
  std::string model_name;
  std::vector<SummaryRow> rows;
  int64_t trainable = 0, non_trainable = 0;
  std::string str() const;
};

// 1234567 -> "1,234,567"
inline std::string with_commas(int64_t v) {
  std::string s = std::to_string(v < 0 ? -v : v), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return v < 0 ? "-" + out : out;
}

inline std::string Summary::str() const {
  size_t wname = 18, wshape = 14;
  std::vector<std::string> shapes;
  for (const auto& r : rows) {
    std::string s = "[N";
    for (int i = 1; i < r.output.rank(); ++i) s += ", " + std::to_string(r.output[i]);
    shapes.push_back(s + "]");
    wname = std::max(wname, r.name.size() + r.type.size() + 3);
    wshape = std::max(wshape, shapes.back().size());
  }
  std::ostringstream os;
  const std::string rule(wname + wshape + 16, '-');
  char buf[512];
  os << "Model: \"" << model_name << "\"\n" << rule << '\n';
  std::snprintf(buf, sizeof buf, "%-*s  %-*s  %12s\n", static_cast<int>(wname), "Layer (type)",
                static_cast<int>(wshape), "Output Shape", "Param #");
  os << buf << rule << '\n';
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string label = rows[i].name + " (" + rows[i].type + ")";
    std::snprintf(buf, sizeof buf, "%-*s  %-*s  %12s\n", static_cast<int>(wname), label.c_str(),
                  static_cast<int>(wshape), shapes[i].c_str(), with_commas(rows[i].params).c_str());
    os << buf;
  }
  os << rule << '\n';
  os << "Total params: " << with_commas(trainable + non_trainable) << '\n';
  os << "Trainable params: " << with_commas(trainable) << '\n';
  os << "Non-trainable params: " << with_commas(non_trainable) << '\n';
  return os.str();
}

namespace detail {
template <FloatingPoint T>
class SummaryRecorder : public CallObserver<T> {
 public:
  explicit SummaryRecorder(const Module<T>& root) { name_tree(root, ""); }
  bool enter(const Module<T>& m) override {
    const bool row = suppress_ == 0 && (m.children().empty() || m.summary_as_one_row());
    if (row) ++suppress_;
    return row;
  }
  void leave(const Module<T>& m, const Tensor<T>& out, bool recorded) override {
    if (!recorded) return;
    --suppress_;
    auto it = names_.find(&m);
    rows.push_back(
        {it != names_.end() ? it->second : "?", m.type_name(), out.shape(), m.num_trainable() + m.num_non_trainable()});
  }
  std::vector<SummaryRow> rows;

 private:
  void name_tree(const Module<T>& m, const std::string& name) {
    names_[&m] = name.empty() ? "(model)" : name;
    for (const auto& [child_name, child] : m.children())
      name_tree(*child, name.empty() ? child_name : name + "." + child_name);
  }
  std::map<const Module<T>*, std::string> names_;
  int suppress_ = 0;
};

// Restores the observer and the training mode however the forward pass ends.
template <FloatingPoint T>
struct SummaryScope {
  Module<T>& model;
  bool was_training;
  CallObserver<T>* previous;
  ~SummaryScope() {
    call_observer<T>() = previous;
    model.train(was_training);
  }
};
}  // namespace detail

// input_shape excludes the batch dimension: {32, 32, 3} for CIFAR-10 images.
template <FloatingPoint T>
Summary summary(Module<T>& model, const Shape& input_shape, const std::string& model_name = "model") {
  detail::SummaryRecorder<T> rec(model);
  Shape in{1};
  for (int64_t d : input_shape) in.push_back(d);
  {
    detail::SummaryScope<T> scope{model, model.is_training(), detail::call_observer<T>()};
    model.eval();
    NoGrad no_grad;
    detail::call_observer<T>() = &rec;
    model(Tensor<T>::zeros(in));
  }
  Summary s;
  s.model_name = model_name;
  s.rows = std::move(rec.rows);
  s.trainable = model.num_trainable();
  s.non_trainable = model.num_non_trainable();
  return s;
}

}  // namespace patchnet::nn
