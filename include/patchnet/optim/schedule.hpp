// Learning-rate schedules: functions of the step index, evaluated by the caller and passed
// to Optimizer::step(lr).
//
// The step index is the number of updates done before this one, i.e. Optimizer::steps()
// read before step(): 0 for the first update. That is what Keras passes to a
// LearningRateSchedule (`optimizer.iterations`, incremented after each update):
//
//   for (...) { ...backward...; opt.step(schedule(opt.steps())); opt.zero_grad(); }
//
// WarmupCosine is the ShiftViT example's WarmUpCosine:
//   cos_annealed = cos(pi * (step - warmup) / (total - warmup))
//   lr = 0.5 * lr_max * (1 + cos_annealed)
//   if warmup > 0 and step < warmup: lr = (lr_max - lr_start) / warmup * step + lr_start
//   if step > total: lr = 0
// with the seed's errors: total < warmup, and (when warmup > 0) lr_max < lr_start. The seed
// evaluates it in float32; this is double, so values differ from the seed's by float32
// rounding (~1e-7 relative). Where total == warmup the seed divides 0 by 0 at step == total
// (NaN); patchnet returns 0 there, the end of the cosine.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <numbers>

#include "patchnet/core/error.hpp"

namespace patchnet::optim {

// Any callable step -> learning rate.
using Schedule = std::function<double(int64_t)>;

struct ConstantLr {
  double lr;
  double operator()(int64_t step) const {
    PN_CHECK(step >= 0, "ConstantLr: step ", step, " must be >= 0");
    return lr;
  }
};

struct WarmupCosine {
  double lr_start, lr_max;
  int64_t warmup_steps, total_steps;

  // Throws patchnet::Error on the seed's invalid settings (and negative or non-finite ones).
  void validate() const {
    PN_CHECK(warmup_steps >= 0, "WarmupCosine: warmup_steps ", warmup_steps, " must be >= 0");
    PN_CHECK(total_steps >= warmup_steps, "WarmupCosine: total_steps ", total_steps,
             " must be larger or equal to warmup_steps ", warmup_steps);
    PN_CHECK(std::isfinite(lr_start) && std::isfinite(lr_max), "WarmupCosine: lr_start ", lr_start, " and lr_max ",
             lr_max, " must be finite");
    PN_CHECK(warmup_steps == 0 || lr_max >= lr_start, "WarmupCosine: lr_start ", lr_start,
             " must be smaller or equal to lr_max ", lr_max);
  }

  double operator()(int64_t step) const {
    validate();
    PN_CHECK(step >= 0, "WarmupCosine: step ", step, " must be >= 0");
    if (step > total_steps) return 0.0;
    if (warmup_steps > 0 && step < warmup_steps) {
      const double slope = (lr_max - lr_start) / static_cast<double>(warmup_steps);
      return slope * static_cast<double>(step) + lr_start;
    }
    if (total_steps == warmup_steps) return 0.0;
    const double frac = static_cast<double>(step - warmup_steps) / static_cast<double>(total_steps - warmup_steps);
    return 0.5 * lr_max * (1.0 + std::cos(std::numbers::pi * frac));
  }
};

}  // namespace patchnet::optim
