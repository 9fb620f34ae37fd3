// Whether ops record the autograd graph, per thread. NoGrad turns recording off in a
// scope (evaluation, optimizer updates); EnableGrad turns it back on inside one.
#pragma once

namespace patchnet {

namespace autograd {
inline bool& grad_mode_flag() {
  thread_local bool enabled = true;
  return enabled;
}
inline bool is_grad_enabled() { return grad_mode_flag(); }
}  // namespace autograd

class NoGrad {
 public:
  NoGrad() : prev_(autograd::grad_mode_flag()) { autograd::grad_mode_flag() = false; }
  ~NoGrad() { autograd::grad_mode_flag() = prev_; }
  NoGrad(const NoGrad&) = delete;
  NoGrad& operator=(const NoGrad&) = delete;

 private:
  bool prev_;
};

class EnableGrad {
 public:
  EnableGrad() : prev_(autograd::grad_mode_flag()) { autograd::grad_mode_flag() = true; }
  ~EnableGrad() { autograd::grad_mode_flag() = prev_; }
  EnableGrad(const EnableGrad&) = delete;
  EnableGrad& operator=(const EnableGrad&) = delete;

 private:
  bool prev_;
};

}  // namespace patchnet
