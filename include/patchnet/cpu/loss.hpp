// CPU kernels of the classification losses and the top-k metric, over row-major [N, K]
// scores with N int32 labels already checked to lie in [0, K). Raw pointers, no Tensor.
//
// Each forward writes one loss per row (in double); the op sums them in row order, so
// the result does not depend on the thread count.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "patchnet/cpu/parallel.hpp"

namespace patchnet::cpu {

namespace detail {
inline int64_t loss_row_grain(int64_t K) { return std::max<int64_t>(1, (1 << 13) / std::max<int64_t>(K, 1)); }
}  // namespace detail

// Per row r: lse[r] = m + log sum_j exp(x_j - m) with m = max_j x_j, and
// loss[r] = lse[r] - x_label, evaluated as (m - x_label) + log(sum): no cancellation
// between two large numbers when the logits are large (+-1e4).
template <class T>
void cross_entropy_forward(const T* logits, const int32_t* labels, int64_t N, int64_t K, T* lse, double* loss) {
  parallel_for(0, N, detail::loss_row_grain(K), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const T* x = logits + r * K;
      T m = -std::numeric_limits<T>::infinity();
      for (int64_t j = 0; j < K; ++j) m = std::max(m, x[j]);
      T s = 0;
      for (int64_t j = 0; j < K; ++j) s += std::exp(x[j] - m);
      const T log_s = std::log(s);
      lse[r] = m + log_s;
      loss[r] = static_cast<double>((m - x[labels[r]]) + log_s);
    }
  });
}

// gx = scale * (softmax(x) - onehot(label)), softmax recomputed as exp(x - lse); scale is
// the output gradient over N. Writes gx. (Lambdas capture by value where a T is captured:
// a T& could alias the T stores and is reloaded on every iteration.)
template <class T>
void cross_entropy_backward(const T* logits, const int32_t* labels, const T* lse, int64_t N, int64_t K, T scale,
                            T* gx) {
  parallel_for(0, N, detail::loss_row_grain(K), [=](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const T* x = logits + r * K;
      T* g = gx + r * K;
      for (int64_t j = 0; j < K; ++j) g[j] = scale * std::exp(x[j] - lse[r]);
      g[labels[r]] -= scale;
    }
  });
}

// Cross-entropy of probabilities, per row: q = p_label / sum_j p_j, clipped to
// [eps, 1 - eps]; loss[r] = -log q.
template <class T>
void cross_entropy_probs_forward(const T* probs, const int32_t* labels, int64_t N, int64_t K, T eps, double* loss) {
  parallel_for(0, N, detail::loss_row_grain(K), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const T* p = probs + r * K;
      T s = 0;
      for (int64_t j = 0; j < K; ++j) s += p[j];
      const T q = std::clamp(p[labels[r]] / s, eps, T(1) - eps);
      loss[r] = -std::log(static_cast<double>(q));
    }
  });
}

// d(-log(p_l / S))/dp_j = 1/S - [j == l] / p_l, times scale; the whole row's gradient is
// 0 where q = p_l / S was clipped (outside [eps, 1 - eps]). Writes gx.
template <class T>
void cross_entropy_probs_backward(const T* probs, const int32_t* labels, int64_t N, int64_t K, T eps, T scale, T* gx) {
  parallel_for(0, N, detail::loss_row_grain(K), [=](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const T* p = probs + r * K;
      T* g = gx + r * K;
      T s = 0;
      for (int64_t j = 0; j < K; ++j) s += p[j];
      const T pl = p[labels[r]], q = pl / s;
      const bool clipped = q < eps || q > T(1) - eps;
      const T common = clipped ? T(0) : scale / s;
      for (int64_t j = 0; j < K; ++j) g[j] = common;
      if (!clipped) g[labels[r]] -= scale / pl;
    }
  });
}

// Rows whose label ranks among the k highest scores. Ties are broken by class index, as
// a stable descending sort would: the label's rank is the number of classes scoring
// higher, plus those scoring the same with a smaller index. For k = 1 this is
// argmax == label with argmax taking the first maximum (Keras' "accuracy"). A NaN or
// infinite label score counts as wrong. Serial: N*K comparisons are far below a thread
// start-up even for a whole test set.
template <class T>
int64_t topk_correct(const T* scores, const int32_t* labels, int64_t N, int64_t K, int64_t k) {
  int64_t correct = 0;
  for (int64_t r = 0; r < N; ++r) {
    const T* s = scores + r * K;
    const int64_t l = labels[r];
    const T v = s[l];
    if (!std::isfinite(v)) continue;
    int64_t rank = 0;
    for (int64_t j = 0; j < l; ++j) rank += s[j] >= v;
    for (int64_t j = l + 1; j < K; ++j) rank += s[j] > v;
    correct += rank < k;
  }
  return correct;
}

}  // namespace patchnet::cpu
