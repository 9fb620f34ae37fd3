// CPU kernels of batch normalisation on a packed [rows, C] matrix (an NHWC tensor seen as
// rows = N*H*W pixels of C channels). Every inner loop runs along C, the contiguous
// dimension, so it vectorises; statistics and gradient sums accumulate in double.
//
// Reductions over rows are split into row groups whose number depends only on the size
// (never on the thread count); each group writes its own partial and the partials are
// combined in group order, so results are bitwise identical on any number of threads.
//
// Each kernel takes a transform `pre` applied to x as it is read (Identity: batch norm;
// GeluPre: GELU then batch norm in one pass, ops::gelu_batch_norm), so the fused op
// never writes the activation to memory and computes exactly what the two ops compute.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "patchnet/cpu/parallel.hpp"
#include "patchnet/math/activation.hpp"
#include "patchnet/math/norm.hpp"

namespace patchnet::cpu {

struct ChannelRows {
  int64_t rows = 0, channels = 0;
};

// y = (x - center[c]) * scale[c] + shift[c]. Subtracting the center before scaling keeps
// the float result accurate when |mean| >> std (x * scale + shift would cancel).
template <class T>
struct ChannelAffine {
  const T* center = nullptr;
  const T* scale = nullptr;
  const T* shift = nullptr;
};

// The transforms of x the kernels can fuse: v -> pre(v), and its derivative pre.grad(v).
struct Identity {
  static constexpr bool kIdentity = true;
  template <class T>
  T operator()(T v) const {
    return v;
  }
};
template <bool Tanh>
struct GeluPre {
  static constexpr bool kIdentity = false;
  template <class T>
  T operator()(T v) const {
    if constexpr (Tanh) return math::gelu_tanh(v);
    else return math::gelu(v);
  }
  template <class T>
  T grad(T v) const {
    if constexpr (Tanh) return math::gelu_tanh_grad(v);
    else return math::gelu_grad(v);
  }
};

namespace detail {
// Row groups: about 32K elements each (small inputs stay on one thread), at most 64.
inline int64_t row_groups(ChannelRows s) {
  const int64_t groups = s.rows * s.channels / (int64_t{1} << 15);
  return std::clamp<int64_t>(groups, 1, std::min<int64_t>(64, std::max<int64_t>(s.rows, 1)));
}
inline int64_t group_begin(int64_t group, int64_t groups, int64_t rows) { return group * rows / groups; }

// f(r) for every row, rows split over threads (about 32K elements a task).
template <class F>
void for_each_row(ChannelRows s, F&& f) {
  parallel_for(0, s.rows, std::max<int64_t>(1, (int64_t{1} << 15) / std::max<int64_t>(s.channels, 1)),
               [&](int64_t lo, int64_t hi) {
                 for (int64_t r = lo; r < hi; ++r) f(r);
               });
}
}  // namespace detail

// Per-channel mean and biased variance over the rows. Each group walks its rows in blocks
// small enough to stay in L1: a block's mean, then its sum of squared deviations from that
// mean (the second pass reads cache, not memory), merged into the group's running
// (mean, M2) with Chan et al.'s update; groups merge the same way. This is the two-pass
// algorithm's accuracy (no E[x^2] - E[x]^2 cancellation) at the cost of one read of x.
// The statistics are those of pre(x); a non-identity pre is applied once per element, its
// block of values kept in an L1 buffer for the second pass.
template <class T, class Pre = Identity>
void batch_norm_stats(const T* x, ChannelRows s, double* mean, double* var, Pre pre = {}) {
  const int64_t rows = s.rows, C = s.channels;
  const int64_t groups = detail::row_groups(s);
  const int64_t block = std::max<int64_t>(4, 4096 / std::max<int64_t>(C, 1));
  std::vector<double> part(static_cast<size_t>(2 * groups * C));  // per group: mean[C], M2[C]
  parallel_for(0, groups, 1, [&](int64_t glo, int64_t ghi) {
    std::vector<double> scratch(static_cast<size_t>(2 * C));
    double* bmean = scratch.data();
    double* bm2 = bmean + C;
    std::vector<T> values(Pre::kIdentity ? 0 : static_cast<size_t>(block * C));
    for (int64_t grp = glo; grp < ghi; ++grp) {
      double* gmean = part.data() + 2 * grp * C;
      double* gm2 = gmean + C;
      std::fill(gmean, gmean + 2 * C, 0.0);
      const int64_t r0 = detail::group_begin(grp, groups, rows), r1 = detail::group_begin(grp + 1, groups, rows);
      int64_t n = 0;
      for (int64_t b = r0; b < r1; b += block) {
        const int64_t nb = std::min(block, r1 - b);
        std::fill(bmean, bmean + 2 * C, 0.0);
        const T* blk = x + b * C;  // the block's values of pre(x)
        if constexpr (!Pre::kIdentity) {
          T* v = values.data();
          for (int64_t i = 0; i < nb * C; ++i) v[i] = pre(blk[i]);
          blk = v;
        }
        for (int64_t r = 0; r < nb; ++r) {
          const T* p = blk + r * C;
          for (int64_t c = 0; c < C; ++c) bmean[c] += static_cast<double>(p[c]);
        }
        const double inv_nb = 1.0 / static_cast<double>(nb);
        for (int64_t c = 0; c < C; ++c) bmean[c] *= inv_nb;
        for (int64_t r = 0; r < nb; ++r) {
          const T* p = blk + r * C;
          for (int64_t c = 0; c < C; ++c) {
            const double d = static_cast<double>(p[c]) - bmean[c];
            bm2[c] += d * d;
          }
        }
        // Chan: merging (n, mean_a, M2_a) with (nb, mean_b, M2_b).
        const double na = static_cast<double>(n), nbd = static_cast<double>(nb), nn = na + nbd;
        const double wb = nbd / nn, wab = na * nbd / nn;
        for (int64_t c = 0; c < C; ++c) math::chan_merge(gmean[c], gm2[c], bmean[c], bm2[c], wb, wab);
        n += nb;
      }
    }
  });
  std::vector<double> m2(static_cast<size_t>(C), 0.0);
  std::fill(mean, mean + C, 0.0);
  int64_t n = 0;
  for (int64_t grp = 0; grp < groups; ++grp) {
    const double* gmean = part.data() + 2 * grp * C;
    const double* gm2 = gmean + C;
    const int64_t nb = detail::group_begin(grp + 1, groups, rows) - detail::group_begin(grp, groups, rows);
    const double na = static_cast<double>(n), nbd = static_cast<double>(nb), nn = na + nbd;
    for (int64_t c = 0; c < C; ++c) {
      const double delta = gmean[c] - mean[c];
      mean[c] += delta * nbd / nn;
      m2[static_cast<size_t>(c)] += gm2[c] + delta * delta * na * nbd / nn;
    }
    n += nb;
  }
  for (int64_t c = 0; c < C; ++c) var[c] = m2[static_cast<size_t>(c)] / static_cast<double>(rows);
}

// y = (pre(x) - center[c]) * scale[c] + shift[c] (+ residual, when given: a residual add
// folded into the same pass), row-parallel. y may alias x or residual.
template <class T, class Pre = Identity>
void channel_affine(const T* x, ChannelRows s, ChannelAffine<T> a, T* y, Pre pre = {}, const T* residual = nullptr) {
  const int64_t C = s.channels;
  const T* center = a.center;
  const T* scale = a.scale;
  const T* shift = a.shift;
  detail::for_each_row(s, [&](int64_t r) {
    const T* p = x + r * C;
    T* q = y + r * C;
    if (residual) {
      const T* add = residual + r * C;
      for (int64_t c = 0; c < C; ++c) q[c] = math::channel_affine(pre(p[c]), center[c], scale[c], shift[c]) + add[c];
    } else {
      for (int64_t c = 0; c < C; ++c) q[c] = math::channel_affine(pre(p[c]), center[c], scale[c], shift[c]);
    }
  });
}

// The sums behind every batch-norm gradient, in double:
//   sum_g[c] = sum_r g[r,c],   sum_gx[c] = sum_r g[r,c] * (pre(x[r,c]) - mean[c]).
// dbeta = sum_g and dgamma = sum_gx * inv_std.
template <class T, class Pre = Identity>
void batch_norm_backward_sums(const T* g, const T* x, ChannelRows s, const T* mean, double* sum_g, double* sum_gx,
                              Pre pre = {}) {
  const int64_t rows = s.rows, C = s.channels;
  const int64_t groups = detail::row_groups(s);
  std::vector<double> part(static_cast<size_t>(2 * groups * C));  // per group: sum_g[C], sum_gx[C]
  parallel_for(0, groups, 1, [&](int64_t glo, int64_t ghi) {
    for (int64_t grp = glo; grp < ghi; ++grp) {
      double* sg = part.data() + 2 * grp * C;
      double* sgx = sg + C;
      std::fill(sg, sg + 2 * C, 0.0);
      const int64_t r0 = detail::group_begin(grp, groups, rows), r1 = detail::group_begin(grp + 1, groups, rows);
      for (int64_t r = r0; r < r1; ++r) {
        const T* gp = g + r * C;
        const T* xp = x + r * C;
        for (int64_t c = 0; c < C; ++c) {
          const double gv = static_cast<double>(gp[c]);
          sg[c] += gv;
          sgx[c] += gv * (static_cast<double>(pre(xp[c])) - static_cast<double>(mean[c]));
        }
      }
    }
  });
  std::fill(sum_g, sum_g + C, 0.0);
  std::fill(sum_gx, sum_gx + C, 0.0);
  for (int64_t grp = 0; grp < groups; ++grp) {
    const double* sg = part.data() + 2 * grp * C;
    for (int64_t c = 0; c < C; ++c) {
      sum_g[c] += sg[c];
      sum_gx[c] += sg[C + c];
    }
  }
}

// Training-mode input gradient, with the batch statistics' dependence on x:
//   dx = gamma * inv_std * (g - mean_r(g) - xhat * mean_r(g * xhat)),  xhat = (x - mean) * inv_std
// written as dx = a (g - mg) - b (x - mean) with per-channel a = gamma inv_std,
// mg = sum_g / rows, b = a inv_std^2 sum_gx / rows. gamma == nullptr means 1. Writes dx.
// With a fused pre, x is the pre-activation: dx = pre'(x) * (the above at pre(x)).
// stat_rows: the rows the statistics and sums are over, when not s.rows (sync batch norm).
template <class T, class Pre = Identity>
void batch_norm_backward_input(const T* g, const T* x, ChannelRows s, const T* mean, const T* inv_std, const T* gamma,
                               const double* sum_g, const double* sum_gx, T* dx, Pre pre = {}, int64_t stat_rows = 0) {
  const int64_t C = s.channels;
  std::vector<T> coef(static_cast<size_t>(3 * C));
  T* a = coef.data();
  T* mg = a + C;
  T* b = mg + C;
  const double inv_rows = 1.0 / static_cast<double>(stat_rows > 0 ? stat_rows : s.rows);
  for (int64_t c = 0; c < C; ++c)
    math::batch_norm_dx_coefs(gamma ? static_cast<double>(gamma[c]) : 1.0, static_cast<double>(inv_std[c]), sum_g[c],
                              sum_gx[c], inv_rows, a[c], mg[c], b[c]);
  detail::for_each_row(s, [&](int64_t r) {
    const T* gp = g + r * C;
    const T* xp = x + r * C;
    T* d = dx + r * C;
    if constexpr (Pre::kIdentity) {
      for (int64_t c = 0; c < C; ++c) d[c] = math::batch_norm_dx(gp[c], xp[c], a[c], mg[c], b[c], mean[c]);
    } else {
      for (int64_t c = 0; c < C; ++c)
        d[c] = math::batch_norm_dx(gp[c], pre(xp[c]), a[c], mg[c], b[c], mean[c]) * pre.grad(xp[c]);
    }
  });
}

// Eval-mode input gradient of a fused pre (the statistics are constants):
// dx = g * a[c] * pre'(x), a = gamma inv_std.
template <class T, class Pre>
void batch_norm_backward_eval(const T* g, const T* x, ChannelRows s, const T* a, T* dx, Pre pre) {
  const int64_t C = s.channels;
  detail::for_each_row(s, [&](int64_t r) {
    const T* gp = g + r * C;
    const T* xp = x + r * C;
    T* d = dx + r * C;
    for (int64_t c = 0; c < C; ++c) d[c] = gp[c] * a[c] * pre.grad(xp[c]);
  });
}

}  // namespace patchnet::cpu
