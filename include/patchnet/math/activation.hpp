// Scalar functions of the activations: GELU (exact and tanh form), ReLU, and their
// derivatives. The CPU loops (cpu/activation.hpp) and the CUDA kernels
// (cuda/activation.cu) both call these, so the two sides cannot drift.
//
//   gelu(x)       = x Phi(x) = 0.5 x (1 + erf(x / sqrt 2))
//   gelu'(x)      = Phi(x) + x phi(x),          phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
//   gelu_tanh(x)  = 0.5 x (1 + tanh(u)),        u = sqrt(2/pi) (x + 0.044715 x^3)
//                 = x s,                        s = sigmoid(2u) = 1 / (1 + exp(-2u))
//   gelu_tanh'(x) = s + 2 x s (1 - s) u'(x),    u'(x) = sqrt(2/pi) (1 + 3 * 0.044715 x^2)
//   relu(x)       = max(x, 0) (NaN propagates), relu'(x) = [x > 0]  (0 at x == 0, as PyTorch)
//
// Elementary functions: on a GPU the device's erf/exp/tanh. On the CPU, double uses the
// C library; float uses erf_poly / exp_poly below, branch-free polynomials the compiler
// vectorises (glibc's scalar erff is ~50x slower than a 16-lane AVX-512 polynomial, and
// GELU runs on every ConvMixer activation). Measured against double std::erf/std::exp
// over the whole float range: erf_poly abs error <= 3.4e-7, exp_poly rel error <= 8.3e-8
// (a few ulp), well inside the float-vs-double tolerance of the tests.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "patchnet/core/config.hpp"

namespace patchnet::math {

// softmax / log_softmax over one axis of a packed tensor viewed as [outer, dim, inner],
// as the CPU loop and the CUDA kernel both take it.
struct SoftmaxParams {
  int64_t outer = 1;  // product of the dimensions before the axis
  int64_t dim = 1;    // length of the axis
  int64_t inner = 1;  // product of the dimensions after it (1: the last axis)
  bool log = false;   // log_softmax
};

inline constexpr double kSqrtHalf = 0.70710678118654752440;     // 1 / sqrt(2)
inline constexpr double kInvSqrt2Pi = 0.39894228040143267794;   // 1 / sqrt(2 pi)
inline constexpr double kSqrt2OverPi = 0.79788456080286535588;  // sqrt(2 / pi)
inline constexpr double kGeluTanhCoef = 0.044715;

// erf for float as a rational function of x on [-4, 4] (erf is +-1 in float outside):
// the approximation of Eigen's generic_fast_erf_float and XLA. Host only.
inline float erf_poly(float x) {
  x = std::min(std::max(x, -4.0f), 4.0f);
  const float x2 = x * x;
  float p = -2.72614225801306e-10f;
  p = p * x2 + 2.77068142495902e-08f;
  p = p * x2 + -2.10102402082508e-06f;
  p = p * x2 + -5.69250639462346e-05f;
  p = p * x2 + -7.34990630326855e-04f;
  p = p * x2 + -2.95459980854025e-03f;
  p = p * x2 + -1.60960333262415e-02f;
  float q = -1.45660718464996e-05f;
  q = q * x2 + -2.13374055278905e-04f;
  q = q * x2 + -1.68282697438203e-03f;
  q = q * x2 + -7.37332916720468e-03f;
  q = q * x2 + -1.42647390514189e-02f;
  return std::min(std::max(x * p / q, -1.0f), 1.0f);  // the clamp keeps 1 + erf >= 0
}

// exp for float (Cephes expf): x = n ln2 + r with |r| <= ln2/2, a degree-7 polynomial in
// r, and 2^n put into the exponent bits. The input is clamped to [-87, 88] so 2^n stays a
// normal float: exp of anything below -87 comes out ~1.6e-38 instead of 0, above 88 as
// 1.65e38 instead of inf, and NaN as exp(-87) (no float-to-int conversion of NaN); all
// harmless where it is used: 1 / (1 + exp(.)) and x * exp(.), where x carries any NaN.
// Host only.
inline float exp_poly(float x) {
  x = std::min(88.0f, std::max(-87.0f, x));
  // Round x / ln2 to an integer with the 1.5 * 2^23 trick (exact without -ffast-math).
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;  // ln2 split in two parts
  float y = 1.9875691500e-4f;
  y = y * r + 1.3981999507e-3f;
  y = y * r + 8.3334519073e-3f;
  y = y * r + 4.1665795894e-2f;
  y = y * r + 1.6666665459e-1f;
  y = y * r + 5.0000001201e-1f;
  y = y * r * r + r + 1.0f;
  return y * std::bit_cast<float>((static_cast<int32_t>(n) + 127) << 23);
}

template <class T>
PATCHNET_HD inline T erf_of(T x) {
#ifdef __CUDA_ARCH__
  if constexpr (std::is_same_v<T, float>) return erff(x);
  else return erf(x);
#else
  if constexpr (std::is_same_v<T, float>) return erf_poly(x);
  else return std::erf(x);
#endif
}

template <class T>
PATCHNET_HD inline T exp_of(T x) {
#ifdef __CUDA_ARCH__
  if constexpr (std::is_same_v<T, float>) return expf(x);
  else return exp(x);
#else
  if constexpr (std::is_same_v<T, float>) return exp_poly(x);
  else return std::exp(x);
#endif
}

// ---- GELU, exact (erf) form ----------------------------------------------------------
template <class T>
PATCHNET_HD inline T gelu(T x) {
  return T(0.5) * x * (T(1) + erf_of(x * T(kSqrtHalf)));
}

template <class T>
PATCHNET_HD inline T gelu_grad(T x) {
  const T cdf = T(0.5) * (T(1) + erf_of(x * T(kSqrtHalf)));
  const T pdf = T(kInvSqrt2Pi) * exp_of(T(-0.5) * x * x);
  return cdf + x * pdf;
}

// ---- GELU, tanh approximation ---------------------------------------------------------
// Written with sigmoid(2u) = 0.5 (1 + tanh u): one exp, no cancellation for large |x|.
template <class T>
PATCHNET_HD inline T gelu_tanh_sigmoid(T x) {
  const T u = T(kSqrt2OverPi) * (x + T(kGeluTanhCoef) * x * x * x);
  return T(1) / (T(1) + exp_of(T(-2) * u));
}

template <class T>
PATCHNET_HD inline T gelu_tanh(T x) {
  return x * gelu_tanh_sigmoid(x);
}

template <class T>
PATCHNET_HD inline T gelu_tanh_grad(T x) {
  const T s = gelu_tanh_sigmoid(x);
  const T du = T(kSqrt2OverPi) * (T(1) + T(3 * kGeluTanhCoef) * x * x);
  return s + T(2) * x * s * (T(1) - s) * du;
}

// ---- ReLU -----------------------------------------------------------------------------
template <class T>
PATCHNET_HD inline T relu(T x) {
  return x < T(0) ? T(0) : x;  // NaN < 0 is false: NaN propagates, as in PyTorch
}

// Gradient of relu given its output y: y > 0 exactly where x > 0.
template <class T>
PATCHNET_HD inline T relu_grad_from_output(T y, T gy) {
  return y > T(0) ? gy : T(0);
}

}  // namespace patchnet::math
