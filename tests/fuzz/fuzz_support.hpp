// Shared by the libFuzzer harnesses (tools/fuzz.sh builds and runs them). A harness feeds
// the bytes to one parser; every patchnet::Error is an accepted outcome (the input was
// refused with a message), anything else (a crash, a sanitizer report, another exception
// type, a hang, a huge allocation) is a finding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <span>

#include "patchnet/core/error.hpp"

namespace patchnet::fuzz {

// Runs f; a patchnet::Error is fine, a foreign exception aborts (libFuzzer reports it).
template <class F>
void expect_only_patchnet_errors(F&& f) {
  try {
    f();
  } catch (const patchnet::Error&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "foreign exception escaped: %s\n", e.what());
    std::abort();
  }
}

}  // namespace patchnet::fuzz
