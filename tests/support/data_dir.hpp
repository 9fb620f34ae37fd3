// Tests that need a data set on disk (the CIFAR-10 mini set of ../shared/data) and what
// happens without it. A missing set is a skip that CTest reports as skipped (the line
// "PATCHNET_SKIPPED" matches the suite's SKIP_REGULAR_EXPRESSION), never a silent pass; with
// CI=true in the environment it is a failure instead, so CI cannot go green untested.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include <doctest/doctest.h>

namespace patchnet::test {

// The CIFAR-10 mini set: $PATCHNET_DATA_DIR/cifar10-mini when set (the device machine has no
// ../shared), else the build's default beside the checkout.
inline std::string mini_cifar10_root() {
  const char* env = std::getenv("PATCHNET_DATA_DIR");
  return std::string(env && *env ? env : PATCHNET_DATA_DIR) + "/cifar10-mini";
}

inline bool running_in_ci() {
  const char* ci = std::getenv("CI");
  return ci && (std::string_view(ci) == "true" || std::string_view(ci) == "1");
}

// True when `file` exists. Otherwise reports the test as skipped (fails it under CI=true)
// and returns false: the caller returns at once.
inline bool have_data(const std::filesystem::path& file) {
  if (std::filesystem::exists(file)) return true;
  if (running_in_ci())
    FAIL_CHECK("CI=true and the test data is missing: ", file.string(),
               " (put ../shared/data beside the checkout or set PATCHNET_DATA_DIR)");
  else
    MESSAGE("PATCHNET_SKIPPED: no test data at ", file.string(),
            " (see ../shared/data/README.md, or set PATCHNET_DATA_DIR)");
  return false;
}

}  // namespace patchnet::test
