// CPU kernels of the activations: GELU and ReLU (elementwise, forward and backward) and
// softmax / log_softmax over one axis. Raw pointers to packed arrays, no Tensor.
//
// The elementwise loops are plain indexed loops over math/activation.hpp's scalar
// functions; for float those are branch-free polynomials, so each loop vectorises.
//
// Softmax views the input as [outer, dim, inner] (dim = the softmax axis). With inner == 1
// (the last axis) each row is contiguous; otherwise a block of up to kSoftmaxBlock
// neighbouring inner positions is processed together, so every pass over `dim` reads
// contiguous vectors along the innermost axis (the channels of NHWC).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "patchnet/cpu/parallel.hpp"
#include "patchnet/math/activation.hpp"

namespace patchnet::cpu {

namespace detail {
inline constexpr int64_t kElementwiseGrain = 1 << 15;

template <class T, class F>
void map_unary(const T* x, T* y, int64_t n, F f) {
  parallel_for(0, n, kElementwiseGrain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) y[i] = f(x[i]);
  });
}

template <class T, class F>
void map_binary(const T* a, const T* b, T* y, int64_t n, F f) {
  parallel_for(0, n, kElementwiseGrain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) y[i] = f(a[i], b[i]);
  });
}
}  // namespace detail

// y = gelu(x) over n elements.
template <class T>
void gelu_forward(const T* x, T* y, int64_t n, bool tanh_approx) {
  if (tanh_approx) detail::map_unary(x, y, n, [](T v) { return math::gelu_tanh(v); });
  else detail::map_unary(x, y, n, [](T v) { return math::gelu(v); });
}

// gx = gy * gelu'(x) (writes gx).
template <class T>
void gelu_backward(const T* x, const T* gy, T* gx, int64_t n, bool tanh_approx) {
  if (tanh_approx) detail::map_binary(x, gy, gx, n, [](T v, T g) { return g * math::gelu_tanh_grad(v); });
  else detail::map_binary(x, gy, gx, n, [](T v, T g) { return g * math::gelu_grad(v); });
}

template <class T>
void relu_forward(const T* x, T* y, int64_t n) {
  detail::map_unary(x, y, n, [](T v) { return math::relu(v); });
}

// gx = gy where y > 0, else 0 (writes gx); y is relu's output.
template <class T>
void relu_backward(const T* y, const T* gy, T* gx, int64_t n) {
  detail::map_binary(y, gy, gx, n, [](T v, T g) { return math::relu_grad_from_output(v, g); });
}

// ---- softmax / log_softmax --------------------------------------------------------------

using math::SoftmaxParams;

inline constexpr int64_t kSoftmaxBlock = 256;

namespace detail {
// Calls f(o, c0, c1) for every (outer index, inner block [c0, c1)), in parallel.
template <class F>
void for_each_softmax_block(const SoftmaxParams& p, F&& f) {
  const int64_t blocks = (p.inner + kSoftmaxBlock - 1) / kSoftmaxBlock;
  const int64_t work = p.dim * std::min(p.inner, kSoftmaxBlock);
  parallel_for(0, p.outer * blocks, std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(work, 1)),
               [&](int64_t lo, int64_t hi) {
                 for (int64_t u = lo; u < hi; ++u) {
                   const int64_t o = u / blocks, c0 = (u % blocks) * kSoftmaxBlock;
                   f(o, c0, std::min(p.inner, c0 + kSoftmaxBlock));
                 }
               });
}
}  // namespace detail

// y = softmax(x) or log_softmax(x) along the axis: m = max x, s = sum exp(x - m),
// softmax = exp(x - m) / s, log_softmax = (x - m) - log s (x - m is exact near the
// maximum, so large inputs keep their precision).
template <class T>
void softmax_forward(const T* x, T* y, const SoftmaxParams& p) {
  const int64_t D = p.dim, I = p.inner;
  if (D == 0 || p.outer == 0 || I == 0) return;
  if (I == 1) {
    parallel_for(0, p.outer, std::max<int64_t>(1, (1 << 14) / D), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        const T* xr = x + r * D;
        T* yr = y + r * D;
        T m = -std::numeric_limits<T>::infinity();
        for (int64_t j = 0; j < D; ++j) m = std::max(m, xr[j]);
        T s = 0;
        if (p.log) {
          for (int64_t j = 0; j < D; ++j) s += std::exp(xr[j] - m);
          const T log_s = std::log(s);
          for (int64_t j = 0; j < D; ++j) yr[j] = (xr[j] - m) - log_s;
        } else {
          for (int64_t j = 0; j < D; ++j) s += (yr[j] = std::exp(xr[j] - m));
          const T inv = T(1) / s;
          for (int64_t j = 0; j < D; ++j) yr[j] *= inv;
        }
      }
    });
    return;
  }
  detail::for_each_softmax_block(p, [&](int64_t o, int64_t c0, int64_t c1) {
    T m[kSoftmaxBlock], s[kSoftmaxBlock];
    const int64_t B = c1 - c0;
    const T* xo = x + o * D * I + c0;
    T* yo = y + o * D * I + c0;
    for (int64_t c = 0; c < B; ++c) m[c] = xo[c];
    for (int64_t d = 1; d < D; ++d)
      for (int64_t c = 0; c < B; ++c) m[c] = std::max(m[c], xo[d * I + c]);
    for (int64_t c = 0; c < B; ++c) s[c] = 0;
    if (p.log) {
      for (int64_t d = 0; d < D; ++d)
        for (int64_t c = 0; c < B; ++c) s[c] += std::exp(xo[d * I + c] - m[c]);
      for (int64_t c = 0; c < B; ++c) s[c] = std::log(s[c]);
      for (int64_t d = 0; d < D; ++d)
        for (int64_t c = 0; c < B; ++c) yo[d * I + c] = (xo[d * I + c] - m[c]) - s[c];
    } else {
      for (int64_t d = 0; d < D; ++d)
        for (int64_t c = 0; c < B; ++c) s[c] += (yo[d * I + c] = std::exp(xo[d * I + c] - m[c]));
      for (int64_t c = 0; c < B; ++c) s[c] = T(1) / s[c];
      for (int64_t d = 0; d < D; ++d)
        for (int64_t c = 0; c < B; ++c) yo[d * I + c] *= s[c];
    }
  });
}

// Backward from the forward's output y and the output gradient g (writes gx):
// softmax: gx = y (g - sum_d g y); log_softmax: gx = g - exp(y) sum_d g.
template <class T>
void softmax_backward(const T* y, const T* g, T* gx, const SoftmaxParams& p) {
  const int64_t D = p.dim, I = p.inner;
  if (D == 0 || p.outer == 0 || I == 0) return;
  if (I == 1) {
    parallel_for(0, p.outer, std::max<int64_t>(1, (1 << 14) / D), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        const T *yr = y + r * D, *gr = g + r * D;
        T* out = gx + r * D;
        T dot = 0;
        if (p.log) {
          for (int64_t j = 0; j < D; ++j) dot += gr[j];
          for (int64_t j = 0; j < D; ++j) out[j] = gr[j] - std::exp(yr[j]) * dot;
        } else {
          for (int64_t j = 0; j < D; ++j) dot += gr[j] * yr[j];
          for (int64_t j = 0; j < D; ++j) out[j] = yr[j] * (gr[j] - dot);
        }
      }
    });
    return;
  }
  detail::for_each_softmax_block(p, [&](int64_t o, int64_t c0, int64_t c1) {
    T dot[kSoftmaxBlock];
    const int64_t B = c1 - c0, base = o * D * I + c0;
    const T *yo = y + base, *go = g + base;
    T* out = gx + base;
    for (int64_t c = 0; c < B; ++c) dot[c] = 0;
    if (p.log) {
      for (int64_t d = 0; d < D; ++d)
        for (int64_t c = 0; c < B; ++c) dot[c] += go[d * I + c];
      for (int64_t d = 0; d < D; ++d)
        for (int64_t c = 0; c < B; ++c) out[d * I + c] = go[d * I + c] - std::exp(yo[d * I + c]) * dot[c];
    } else {
      for (int64_t d = 0; d < D; ++d)
        for (int64_t c = 0; c < B; ++c) dot[c] += go[d * I + c] * yo[d * I + c];
      for (int64_t d = 0; d < D; ++d)
        for (int64_t c = 0; c < B; ++c) out[d * I + c] = yo[d * I + c] * (go[d * I + c] - dot[c]);
    }
  });
}

}  // namespace patchnet::cpu
