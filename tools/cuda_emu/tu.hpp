// Test utilities shared by the emulation harnesses.
#pragma once
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
std::vector<T> poison(int64_t n) { return std::vector<T>(n, std::numeric_limits<T>::quiet_NaN()); }
inline int fails = 0, checks = 0;
inline std::string g_case;
// |a - b| <= tol * (scale[i] or 1 + |b|); NaN must match NaN
template <class T>
bool cmp(const std::vector<T>& a, const std::vector<T>& b, const std::string& what, double tol,
         const std::vector<double>* scale = nullptr) {
  ++checks;
  if (a.size() != b.size()) { std::printf("FAIL SIZE %s [%s]\n", what.c_str(), g_case.c_str()); ++fails; return false; }
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
inline int finish(const char* name) {
  std::printf("%s: %d checks, %d failures, %ld emulator errors, %ld launches, %ld barriers with exited threads\n", name,
              checks, fails, emu::g_errors, emu::g_launches, emu::g_exited_at_barrier);
  return fails || emu::g_errors;
}
