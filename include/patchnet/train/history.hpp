// The per-epoch record of a run: what Keras' History holds, written as a CSV log (and
// kept in checkpoints, so a resumed run's log and curves cover the whole run).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "patchnet/core/error.hpp"

namespace patchnet::train {

struct EpochRecord {
  int64_t epoch = 0;  // 1-based, as Keras prints it
  double train_loss = NAN, train_acc = NAN, train_top5 = NAN;
  double val_loss = NAN, val_acc = NAN, val_top5 = NAN;
  double lr = NAN, images_per_s = NAN, seconds = NAN;
};

struct History {
  std::vector<EpochRecord> epochs;

  static const char* header() {
    return "epoch,train_loss,train_acc,train_top5,val_loss,val_acc,val_top5,lr,images_per_s,seconds";
  }
  // The log: rounded for reading, or `exact` (every digit, what checkpoints keep so a
  // resumed run's history equals the uninterrupted one's).
  std::string csv(bool exact = false) const {
    std::ostringstream os;
    os << header() << '\n';
    char buf[512];
    const char* fmt = exact ? "%lld,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g\n"
                            : "%lld,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.8g,%.1f,%.2f\n";
    for (const auto& e : epochs) {
      std::snprintf(buf, sizeof buf, fmt, static_cast<long long>(e.epoch), e.train_loss, e.train_acc, e.train_top5,
                    e.val_loss, e.val_acc, e.val_top5, e.lr, e.images_per_s, e.seconds);
      os << buf;
    }
    return os.str();
  }
  // Reads what csv() wrote (a checkpoint's copy of the log); `where` names the source.
  static History parse(const std::string& text, const std::string& where) {
    History h;
    std::istringstream is(text);
    std::string line;
    PN_CHECK(std::getline(is, line) && line == header(), where, ": history does not start with the CSV header");
    while (std::getline(is, line)) {
      if (line.empty()) continue;
      EpochRecord e;
      long long epoch = 0;
      const int n =
          std::sscanf(line.c_str(), "%lld,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf", &epoch, &e.train_loss, &e.train_acc,
                      &e.train_top5, &e.val_loss, &e.val_acc, &e.val_top5, &e.lr, &e.images_per_s, &e.seconds);
      PN_CHECK(n == 10, where, ": bad history line '", line, "'");
      e.epoch = epoch;
      h.epochs.push_back(e);
    }
    return h;
  }
};

}  // namespace patchnet::train
