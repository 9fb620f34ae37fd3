// What a run prints: on a terminal, a progress bar redrawn in place at most 10 times a
// second (step, loss, accuracy, images/s, time left); per epoch, one summary line in the
// manner of Keras' fit() log.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

#include <unistd.h>

#include "patchnet/train/history.hpp"

namespace patchnet::train {

// "1:05:03" or "4:07"
inline std::string clock_text(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<long long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
  return buf;
}

inline std::string epoch_line(const EpochRecord& e, int64_t epochs, bool top5) {
  char buf[512];
  int n = std::snprintf(buf, sizeof buf, "epoch %lld/%lld  loss %.4f  acc %.4f", static_cast<long long>(e.epoch),
                        static_cast<long long>(epochs), e.train_loss, e.train_acc);
  if (top5) n += std::snprintf(buf + n, sizeof buf - n, "  top5 %.4f", e.train_top5);
  if (!std::isnan(e.val_acc)) {
    n += std::snprintf(buf + n, sizeof buf - n, "  val_loss %.4f  val_acc %.4f", e.val_loss, e.val_acc);
    if (top5) n += std::snprintf(buf + n, sizeof buf - n, "  val_top5 %.4f", e.val_top5);
  }
  std::snprintf(buf + n, sizeof buf - n, "  lr %.3g  %.0f img/s  %.1f s", e.lr, e.images_per_s, e.seconds);
  return buf;
}

class ProgressBar {
 public:
  explicit ProgressBar(bool enabled = true) : enabled_(enabled && isatty(fileno(stderr))) {}
  bool enabled() const { return enabled_; }

  void start(int64_t epoch, int64_t epochs, int64_t steps) {
    epoch_ = epoch;
    epochs_ = epochs;
    steps_ = steps;
    last_ = {};
  }
  // done: steps finished in this epoch; rate: images/s; seconds_left: estimate.
  void update(int64_t done, double loss, double acc, double rate, double seconds_left) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (done < steps_ && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    constexpr int kWidth = 24;
    const int fill = steps_ > 0 ? static_cast<int>(kWidth * done / steps_) : kWidth;
    std::string bar(static_cast<size_t>(fill), '=');
    if (fill < kWidth) bar += '>';
    bar.resize(kWidth, ' ');
    std::fprintf(stderr, "\r\033[Kepoch %lld/%lld %5lld/%lld [%s] loss %.4f acc %.4f %6.0f img/s ETA %s",
                 static_cast<long long>(epoch_), static_cast<long long>(epochs_), static_cast<long long>(done),
                 static_cast<long long>(steps_), bar.c_str(), loss, acc, rate, clock_text(seconds_left).c_str());
    std::fflush(stderr);
  }
  void clear() {
    if (!enabled_) return;
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }

 private:
  bool enabled_;
  int64_t epoch_ = 0, epochs_ = 0, steps_ = 0;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace patchnet::train
