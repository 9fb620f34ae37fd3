// CPU kernels of layer normalisation over the last dimension of a packed [rows, C]
// matrix. A row (C = 96 for ShiftViT) sits in L1, so each row is read from memory once and
// then revisited in cache: two-pass mean / variance, then the normalised output.
//
// Row sums accumulate in double under `omp simd reduction`: vectorised along the row
// without -ffast-math, in an order fixed at compile time. Column sums (dgamma, dbeta) use
// the fixed row groups of cpu/batch_norm.hpp, combined in group order, so every result is
// independent of the thread count.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "patchnet/cpu/batch_norm.hpp"
#include "patchnet/cpu/parallel.hpp"
#include "patchnet/math/norm.hpp"

namespace patchnet::cpu {

// Per row r: mean[r], rstd[r] = 1 / sqrt(biased var + eps), and
// y = (x - mean) * rstd * gamma + beta. gamma and beta are [C] (the op passes ones /
// zeros when the layer has none). Writes y, mean, rstd.
template <class T>
void layer_norm_forward(const T* x, ChannelRows s, const T* gamma, const T* beta, double eps, T* y, T* mean, T* rstd) {
  const int64_t C = s.channels;
  const double inv_c = 1.0 / static_cast<double>(C);
  parallel_for(0, s.rows, std::max<int64_t>(1, (int64_t{1} << 14) / C), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const T* p = x + r * C;
      double sum = 0, sq = 0;
      PATCHNET_OMP_SIMD(reduction(+ : sum))
      for (int64_t i = 0; i < C; ++i) sum += static_cast<double>(p[i]);
      const double m = sum * inv_c;
      PATCHNET_OMP_SIMD(reduction(+ : sq))
      for (int64_t i = 0; i < C; ++i) {
        const double d = static_cast<double>(p[i]) - m;
        sq += d * d;
      }
      const T mt = static_cast<T>(m), rs = static_cast<T>(math::norm_inv_std(sq * inv_c, eps));
      mean[r] = mt;
      rstd[r] = rs;
      T* q = y + r * C;
      for (int64_t i = 0; i < C; ++i) q[i] = math::layer_norm_apply(p[i], mt, rs, gamma[i], beta[i]);
    }
  });
}

// Backward, with xhat = (x - mean) * rstd and gh = g * gamma:
//   dx = rstd * (gh - mean_C(gh) - xhat * mean_C(gh * xhat))
//   dgamma = sum_r g * xhat,  dbeta = sum_r g
// Each output pointer may be null (not needed); those given are written, not accumulated.
template <class T>
void layer_norm_backward(const T* g, const T* x, ChannelRows s, const T* mean, const T* rstd, const T* gamma, T* dx,
                         T* dgamma, T* dbeta) {
  const int64_t rows = s.rows, C = s.channels;
  const bool params = dgamma || dbeta;
  const int64_t groups = detail::row_groups(s);
  std::vector<double> part(params ? static_cast<size_t>(2 * groups * C) : 0);  // per group: dgamma[C], dbeta[C]
  const double inv_c = 1.0 / static_cast<double>(C);
  parallel_for(0, groups, 1, [&](int64_t glo, int64_t ghi) {
    for (int64_t grp = glo; grp < ghi; ++grp) {
      double* pg = params ? part.data() + 2 * grp * C : nullptr;
      double* pb = params ? pg + C : nullptr;
      if (params) std::fill(pg, pg + 2 * C, 0.0);
      const int64_t r0 = detail::group_begin(grp, groups, rows), r1 = detail::group_begin(grp + 1, groups, rows);
      for (int64_t r = r0; r < r1; ++r) {
        const T* gp = g + r * C;
        const T* xp = x + r * C;
        const T m = mean[r], rs = rstd[r];
        if (dx) {
          double s1 = 0, s2 = 0;  // sum of gh, sum of gh * xhat
          PATCHNET_OMP_SIMD(reduction(+ : s1, s2))
          for (int64_t i = 0; i < C; ++i) {
            const double gh = static_cast<double>(gp[i] * gamma[i]);
            s1 += gh;
            s2 += gh * static_cast<double>((xp[i] - m) * rs);
          }
          const T c1 = static_cast<T>(s1 * inv_c), c2 = static_cast<T>(s2 * inv_c);
          T* d = dx + r * C;
          PATCHNET_OMP_SIMD()
          for (int64_t i = 0; i < C; ++i) d[i] = math::layer_norm_dx(gp[i], gamma[i], xp[i], m, rs, c1, c2);
        }
        if (params) {
          for (int64_t i = 0; i < C; ++i) {
            pg[i] += static_cast<double>(gp[i]) * static_cast<double>((xp[i] - m) * rs);
            pb[i] += static_cast<double>(gp[i]);
          }
        }
      }
    }
  });
  if (!params) return;
  std::vector<double> acc(static_cast<size_t>(2 * C), 0.0);
  for (int64_t grp = 0; grp < groups; ++grp)
    for (int64_t i = 0; i < 2 * C; ++i) acc[static_cast<size_t>(i)] += part[static_cast<size_t>(2 * grp * C + i)];
  for (int64_t i = 0; i < C; ++i) {
    if (dgamma) dgamma[i] = static_cast<T>(acc[static_cast<size_t>(i)]);
    if (dbeta) dbeta[i] = static_cast<T>(acc[static_cast<size_t>(C + i)]);
  }
}

}  // namespace patchnet::cpu
