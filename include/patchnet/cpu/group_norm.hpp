// The kernels of group normalisation, on raw pointers: the parameter struct both devices
// share, the CPU kernels, and the declarations of the CUDA launchers that cuda/group_norm.cu
// defines (which includes this header: it holds nothing nvcc cannot compile, no Tensor and
// no Eigen). The op is ops/group_norm.hpp.
//
// CPU: each (image, group) pair is normalised over its HW * C / G values: sums in double,
// two passes (mean, then variance), the pairs in parallel. dgamma / dbeta are summed per
// image, then over the images in order, so no result depends on the thread count.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "patchnet/cpu/parallel.hpp"
#include "patchnet/cuda/launcher.hpp"
#include "patchnet/math/norm.hpp"

namespace patchnet::math {

// NHWC x viewed as [N, HW, C]: `groups` groups of C / groups consecutive channels, each
// (image, group) normalised over its HW * C / groups values with the layer norm formulas of
// math/norm.hpp.
struct GroupNormParams {
  int64_t N = 0, HW = 0, C = 0, groups = 1;
  double eps = 1e-5;
  PATCHNET_HD int64_t group_channels() const { return C / groups; }
  PATCHNET_HD int64_t group_size() const { return HW * (C / groups); }
};

}  // namespace patchnet::math

namespace patchnet::cpu {

// Per (n, g): mean[n * G + g], rstd = 1 / sqrt(biased var + eps); y = (x - mean) * rstd *
// gamma[c] + beta[c]. gamma and beta are [C] (the op passes ones / zeros without affine).
template <class T>
void group_norm_forward(const T* x, const math::GroupNormParams& p, const T* gamma, const T* beta, T* y, T* mean,
                        T* rstd) {
  const int64_t G = p.groups, Cg = p.group_channels(), C = p.C, HW = p.HW;
  const double inv = 1.0 / static_cast<double>(p.group_size());
  parallel_for(0, p.N * G, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t ng = lo; ng < hi; ++ng) {
      const int64_t c0 = (ng % G) * Cg, base = (ng / G) * HW * C + c0;
      const T* xp = x + base;
      double sum = 0, sq = 0;
      for (int64_t i = 0; i < HW; ++i)
        for (int64_t c = 0; c < Cg; ++c) sum += static_cast<double>(xp[i * C + c]);
      const double m = sum * inv;
      for (int64_t i = 0; i < HW; ++i)
        for (int64_t c = 0; c < Cg; ++c) {
          const double d = static_cast<double>(xp[i * C + c]) - m;
          sq += d * d;
        }
      const T mt = static_cast<T>(m), rs = static_cast<T>(math::norm_inv_std(sq * inv, p.eps));
      mean[ng] = mt;
      rstd[ng] = rs;
      T* yp = y + base;
      for (int64_t i = 0; i < HW; ++i)
        for (int64_t c = 0; c < Cg; ++c)
          yp[i * C + c] = math::layer_norm_apply(xp[i * C + c], mt, rs, gamma[c0 + c], beta[c0 + c]);
    }
  });
}

// Backward, per (n, g) with xhat = (x - mean) * rstd and gh = g * gamma:
//   dx = rstd * (gh - mean(gh) - xhat * mean(gh * xhat))     (means over the group's values)
//   dgamma[c] = sum_{n, hw} g * xhat,  dbeta[c] = sum_{n, hw} g
// Each output pointer may be null (not needed); those given are written, not accumulated.
template <class T>
void group_norm_backward(const T* g, const T* x, const math::GroupNormParams& p, const T* mean, const T* rstd,
                         const T* gamma, T* dx, T* dgamma, T* dbeta) {
  const int64_t G = p.groups, Cg = p.group_channels(), C = p.C, HW = p.HW;
  const bool params = dgamma || dbeta;
  std::vector<double> part(params ? static_cast<size_t>(2 * p.N * C) : 0);  // per image: dgamma[C], dbeta[C]
  const double inv = 1.0 / static_cast<double>(p.group_size());
  parallel_for(0, p.N * G, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t ng = lo; ng < hi; ++ng) {
      const int64_t n = ng / G, c0 = (ng % G) * Cg, base = n * HW * C + c0;
      const T* gp = g + base;
      const T* xp = x + base;
      const T m = mean[ng], rs = rstd[ng];
      if (dx) {
        double s1 = 0, s2 = 0;  // sum of gh, sum of gh * xhat
        for (int64_t i = 0; i < HW; ++i)
          for (int64_t c = 0; c < Cg; ++c) {
            const double gh = static_cast<double>(gp[i * C + c] * gamma[c0 + c]);
            s1 += gh;
            s2 += gh * static_cast<double>((xp[i * C + c] - m) * rs);
          }
        const T c1 = static_cast<T>(s1 * inv), c2 = static_cast<T>(s2 * inv);
        T* d = dx + base;
        for (int64_t i = 0; i < HW; ++i)
          for (int64_t c = 0; c < Cg; ++c)
            d[i * C + c] = math::layer_norm_dx(gp[i * C + c], gamma[c0 + c], xp[i * C + c], m, rs, c1, c2);
      }
      if (params) {
        double* pg = part.data() + 2 * n * C + c0;  // this (n, g) owns channels [c0, c0 + Cg) of image n
        double* pb = pg + C;
        std::fill(pg, pg + Cg, 0.0);
        std::fill(pb, pb + Cg, 0.0);
        for (int64_t i = 0; i < HW; ++i)
          for (int64_t c = 0; c < Cg; ++c) {
            pg[c] += static_cast<double>(gp[i * C + c]) * static_cast<double>((xp[i * C + c] - m) * rs);
            pb[c] += static_cast<double>(gp[i * C + c]);
          }
      }
    }
  });
  if (!params) return;
  for (int64_t c = 0; c < C; ++c) {
    double sg = 0, sb = 0;
    for (int64_t n = 0; n < p.N; ++n) {
      sg += part[static_cast<size_t>(2 * n * C + c)];
      sb += part[static_cast<size_t>(2 * n * C + C + c)];
    }
    if (dgamma) dgamma[c] = static_cast<T>(sg);
    if (dbeta) dbeta[c] = static_cast<T>(sb);
  }
}

}  // namespace patchnet::cpu

namespace patchnet::cuda {

namespace impl {
// cuda/group_norm.cu: per (image, group) mean / rstd ([N * G]) and y, as
// cpu::group_norm_forward. gamma and beta are required ([C]).
template <class T>
void group_norm_forward(const T* x, const T* gamma, const T* beta, T* y, T* mean, T* rstd,
                        const math::GroupNormParams& p, Stream s = {});
// dx (may be null) and gxhat = g * xhat (may be null), both NHWC like x; the op sums gxhat
// and g over N * H * W with column_sum for dgamma and dbeta.
template <class T>
void group_norm_backward(const T* g, const T* x, const T* mean, const T* rstd, const T* gamma, T* dx, T* gxhat,
                         const math::GroupNormParams& p, Stream s = {});
}  // namespace impl
PN_CUDA_LAUNCHER(group_norm_forward)
PN_CUDA_LAUNCHER(group_norm_backward)

}  // namespace patchnet::cuda
