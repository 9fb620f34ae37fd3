// Shared test helpers: seeded random inputs, assert_close-style comparisons, and a check
// that an expression throws patchnet::Error with a given text.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

// Core headers only: each test includes the op headers it tests, so a half-edited op
// header breaks only its own tests while work is in progress.
#include "patchnet/autograd/gradcheck.hpp"
#include "patchnet/core/print.hpp"
#include "patchnet/core/random.hpp"
#include "patchnet/core/tensor.hpp"
#include "patchnet/ops/copy.hpp"
#include "patchnet/ops/elementwise.hpp"
#include "patchnet/ops/reduce.hpp"
#include "patchnet/ops/shape_ops.hpp"

namespace patchnet::test {

// FNV-1a: a seed from a name that is the same in every build.
inline uint64_t seed_of(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

template <class T>
Tensor<T> uniform(const Shape& shape, uint64_t seed, double lo = -1.0, double hi = 1.0) {
  Generator g(seed);
  return rand<T>(shape, g, lo, hi);
}

// PyTorch assert_close defaults: float32 rtol 1.3e-6 atol 1e-5, float64 rtol 1e-7 atol 1e-7.
template <class T>
constexpr double default_rtol() {
  return sizeof(T) == 4 ? 1.3e-6 : 1e-7;
}
template <class T>
constexpr double default_atol() {
  return sizeof(T) == 4 ? 1e-5 : 1e-7;
}

// Elementwise |actual - expected| <= atol + rtol * |expected|, NaN never close. Reports
// the worst element and how many fail.
template <class T, class U>
void check_close(const Tensor<T>& actual, const Tensor<U>& expected, double rtol, double atol,
                 const std::string& what = "") {
  REQUIRE_MESSAGE(actual.shape() == expected.shape(), what, ": shape ", actual.shape().str(), " vs expected ",
                  expected.shape().str());
  const std::vector<T> a = actual.to_vector();
  const std::vector<U> e = expected.to_vector();
  int64_t bad = 0, worst = -1;
  double worst_excess = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double av = static_cast<double>(a[i]), ev = static_cast<double>(e[i]);
    const double diff = std::abs(av - ev), tol = atol + rtol * std::abs(ev);
    if (!(diff <= tol)) {  // true for NaN too
      ++bad;
      const double excess = std::isnan(diff) ? INFINITY : diff - tol;
      if (worst < 0 || excess > worst_excess) {
        worst = static_cast<int64_t>(i);
        worst_excess = excess;
      }
    }
  }
  std::ostringstream msg;
  if (bad) {
    msg << what << ": " << bad << " of " << a.size() << " elements differ; worst at flat index " << worst << ": "
        << static_cast<double>(a[static_cast<size_t>(worst)]) << " vs expected "
        << static_cast<double>(e[static_cast<size_t>(worst)]) << " (rtol " << rtol << ", atol " << atol << ")";
  }
  CHECK_MESSAGE(bad == 0, msg.str());
}

template <class T, class U>
void check_close(const Tensor<T>& actual, const Tensor<U>& expected, const std::string& what = "") {
  check_close(actual, expected, default_rtol<T>(), default_atol<T>(), what);
}

}  // namespace patchnet::test

// Checks that expr throws patchnet::Error whose message contains `text`.
#define CHECK_THROWS_PN(expr, text)                                                                         \
  do {                                                                                                      \
    bool pn_threw_ = false;                                                                                 \
    try {                                                                                                   \
      (void)(expr);                                                                                         \
    } catch (const ::patchnet::Error& pn_e_) {                                                              \
      pn_threw_ = true;                                                                                     \
      const std::string pn_msg_ = pn_e_.what();                                                             \
      CHECK_MESSAGE(pn_msg_.find(text) != std::string::npos, "message '", pn_msg_, "' lacks '", text, "'"); \
    }                                                                                                       \
    CHECK_MESSAGE(pn_threw_, #expr " did not throw patchnet::Error");                                       \
  } while (0)
