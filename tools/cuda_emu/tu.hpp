// Test utilities shared by the emulation harnesses.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>
#include "emu.hpp"
inline std::mt19937 rng(12345);
inline int ri(int a, int b) { return std::uniform_int_distribution<int>(a, b)(rng); }
template <class T>
std::vector<T> rnd(int64_t n, double lo = -1, double hi = 1) {
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<T> v(n);
  for (auto& e : v) e = T(d(rng));
  return v;
}
template <class T>
std::vector<T> poison(int64_t n) {
  return std::vector<T>(n, std::numeric_limits<T>::quiet_NaN());
}
inline int fails = 0, checks = 0;
inline std::string g_case;
// |a - b| <= tol * (scale[i] or 1 + |b|); NaN must match NaN
template <class T>
bool cmp(const std::vector<T>& a, const std::vector<T>& b, const std::string& what, double tol,
         const std::vector<double>* scale = nullptr) {
  ++checks;
  if (a.size() != b.size()) {
    std::printf("FAIL SIZE %s [%s]\n", what.c_str(), g_case.c_str());
    ++fails;
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    const double x = double(a[i]), y = double(b[i]);
    if (std::isnan(x) && std::isnan(y)) continue;
    const double s = scale ? (*scale)[i] : 1 + std::abs(y);
    if (!(std::abs(x - y) <= tol * s)) {
      std::printf("FAIL %s at %zu/%zu: gpu %.17g cpu %.17g [%s]\n", what.c_str(), i, a.size(), x, y, g_case.c_str());
      ++fails;
      return false;
    }
  }
  return true;
}
template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b, const std::string& what) {
  ++checks;
  if (a.size() != b.size() || (!a.empty() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) != 0)) {
    std::printf("FAIL NONDETERMINISTIC %s [%s]\n", what.c_str(), g_case.c_str());
    ++fails;
    return false;
  }
  return true;
}
// A device buffer stand-in: n elements after `off` leading guard elements (off not a
// multiple of 16 bytes breaks the 16-byte alignment of p(): kernels' scalar paths), then
// n + 16 trailing ones, so an overrun by up to a whole buffer stays inside the allocation.
// guards_ok reports writes outside [p(), p() + n).
template <class T>
struct Guarded {
  static constexpr double kGuard = -7.25;
  std::vector<T> v;
  int64_t off, n;
  Guarded(const std::vector<T>& x, int64_t o) : v(o + 2 * x.size() + 16, T(kGuard)), off(o), n(x.size()) {
    std::copy(x.begin(), x.end(), v.begin() + o);
  }
  T* p() { return v.data() + off; }
  std::vector<T> get() const { return std::vector<T>(v.begin() + off, v.begin() + off + n); }
  bool guards_ok(const std::string& what) {
    ++checks;
    for (size_t i = 0; i < v.size(); ++i)
      if ((int64_t(i) < off || int64_t(i) >= off + n) && !(v[i] == T(kGuard))) {
        std::printf("FAIL GUARD %s: element %ld outside [%ld, %ld) written [%s]\n", what.c_str(), long(i) - long(off),
                    0L, long(n), g_case.c_str());
        ++fails;
        return false;
      }
    return true;
  }
};
template <class T>
std::vector<T> abs_of(const std::vector<T>& x) {
  std::vector<T> a(x.size());
  for (size_t i = 0; i < x.size(); ++i) a[i] = std::abs(x[i]);
  return a;
}
// 1 + s[i]: the per-element scale of cmp from a CPU result computed on |inputs|
template <class T>
std::vector<double> scale_of(const std::vector<T>& s) {
  std::vector<double> r(s.size());
  for (size_t i = 0; i < s.size(); ++i) r[i] = 1 + double(s[i]);
  return r;
}
inline int finish(const char* name) {
  std::printf("%s: %d checks, %d failures, %ld emulator errors, %ld launches, %ld barriers with exited threads\n", name,
              checks, fails, emu::g_errors, emu::g_launches, emu::g_exited_at_barrier);
  return fails || emu::g_errors;
}
