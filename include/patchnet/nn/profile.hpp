// Where a training step's time goes, on the CPU: forward seconds per layer type and backward
// seconds per autograd node, while a Profiler is alive on this thread.
//
//   nn::Profiler<float> prof;
//   for (int i = 0; i < 5; ++i) step();          // forward, loss, backward, optimizer
//   std::cout << prof.table();
//
// Forward times are exclusive: a layer's child layers are taken out of its time, so a
// container keeps only its own work (Residual: the add; Sequential: nearly nothing), and
// the leaves' rows add up to the forward pass. Ops called outside any layer (the loss) are
// in no forward row. Backward rows are the nodes' names (ops/*.hpp: "conv2d", "gelu", ...),
// each including the accumulation of the gradients it returned. Fused layers run fused
// (a GELU before a BatchNorm2d is timed in the BatchNorm2d row; backward "gelu_batch_norm").
// On CUDA the kernels run
// asynchronously, so the times there are of queueing the work, not of running it.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "patchnet/autograd/engine.hpp"
#include "patchnet/nn/module.hpp"

namespace patchnet::nn {

template <FloatingPoint T>
class Profiler : public detail::CallObserver<T> {
 public:
  struct Row {
    std::string name;
    double seconds = 0;
    int64_t calls = 0;
  };

  Profiler() : previous_(detail::call_observer<T>()), previous_times_(autograd::detail::node_times()) {
    PN_CHECK(previous_ == nullptr, "nn::Profiler: another call observer (a summary or a profiler) is active");
    detail::call_observer<T>() = this;
    autograd::detail::node_times() = &backward_;
  }
  ~Profiler() override {
    detail::call_observer<T>() = previous_;
    autograd::detail::node_times() = previous_times_;
  }
  Profiler(const Profiler&) = delete;
  Profiler& operator=(const Profiler&) = delete;

  bool allows_fusion() const override { return true; }
  bool enter(const Module<T>&) override {
    stack_.push_back({Clock::now(), 0.0});
    return false;
  }
  void leave(const Module<T>& m, const Tensor<T>&, bool) override {
    const Frame f = stack_.back();
    stack_.pop_back();
    const double elapsed = std::chrono::duration<double>(Clock::now() - f.start).count();
    auto& [seconds, calls] = forward_[m.type_name()];
    seconds += elapsed - f.children;
    ++calls;
    if (!stack_.empty()) stack_.back().children += elapsed;
  }

  // Rows by time, longest first.
  std::vector<Row> forward() const { return sorted(forward_); }
  std::vector<Row> backward() const { return sorted(backward_); }
  void reset() {
    forward_.clear();
    backward_.clear();
  }

  // Both lists as text, with each row's share of its pass; times and calls are per step
  // over `steps` steps.
  std::string table(int64_t steps = 1) const {
    const double n = static_cast<double>(std::max<int64_t>(steps, 1));
    std::string out;
    for (const auto& [title, rows] :
         {std::pair{"forward, by layer", forward()}, std::pair{"backward, by op", backward()}}) {
      double total = 0;
      for (const Row& r : rows) total += r.seconds;
      char line[160];
      std::snprintf(line, sizeof line, "%-28s %10.2f ms  (per step)\n", title, 1e3 * total / n);
      out += line;
      for (const Row& r : rows) {
        std::snprintf(line, sizeof line, "  %-26s %10.2f ms %5.1f%%  %6lld calls\n", r.name.c_str(),
                      1e3 * r.seconds / n, total > 0 ? 100.0 * r.seconds / total : 0.0,
                      static_cast<long long>(static_cast<double>(r.calls) / n));
        out += line;
      }
    }
    return out;
  }

 private:
  using Clock = std::chrono::steady_clock;
  struct Frame {
    Clock::time_point start;
    double children;
  };

  static std::vector<Row> sorted(const autograd::detail::NodeTimes& m) {
    std::vector<Row> rows;
    for (const auto& [name, sc] : m) rows.push_back({name, sc.first, sc.second});
    std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.seconds > b.seconds; });
    return rows;
  }

  detail::CallObserver<T>* previous_;
  autograd::detail::NodeTimes* previous_times_;
  std::vector<Frame> stack_;
  autograd::detail::NodeTimes forward_, backward_;
};

}  // namespace patchnet::nn
