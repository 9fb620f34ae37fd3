// Scalar formulas of batch, layer and group normalisation, shared by the CPU loops
// (cpu/batch_norm.hpp, cpu/layer_norm.hpp, cpu/group_norm.hpp) and the CUDA kernels
// (cuda/batch_norm.cu, cuda/layer_norm.cu, cuda/group_norm.cu), so the two paths cannot
// drift. Each is written in the exact
// operation order the CPU loops used before, so moving them here changed no CPU bit.
#pragma once

#include <cmath>
#include <cstdint>

#include "patchnet/core/config.hpp"

namespace patchnet::math {

// 1 / sqrt(var + eps), in double (eps inside the sqrt, as Keras and PyTorch).
PATCHNET_HD inline double norm_inv_std(double var, double eps) {
#ifdef __CUDA_ARCH__
  return 1.0 / ::sqrt(var + eps);
#else
  return 1.0 / std::sqrt(var + eps);
#endif
}

// Chan et al.'s merge of (n_b, mean_b, M2_b) into (n_a, mean, M2), with the weights
// wb = n_b / (n_a + n_b) and wab = n_a n_b / (n_a + n_b) computed once by the caller.
PATCHNET_HD inline void chan_merge(double& mean, double& m2, double mean_b, double m2_b, double wb, double wab) {
  const double delta = mean_b - mean;
  mean += delta * wb;
  m2 += m2_b + delta * delta * wab;
}

// Running statistic update, Keras convention (momentum is the decay):
//   running = momentum * running + (1 - momentum) * batch * factor
// (factor: 1 for the mean, rows / (rows - 1) for PyTorch's unbiased running variance).
PATCHNET_HD inline double running_blend(double momentum, double running, double batch, double factor) {
  return momentum * running + (1.0 - momentum) * batch * factor;
}

// y = (x - center) * scale + shift: batch norm's per-channel affine map. Subtracting the
// center before scaling keeps the result accurate when |mean| >> std.
template <class T>
PATCHNET_HD inline T channel_affine(T x, T center, T scale, T shift) {
  return (x - center) * scale + shift;
}

// Batch norm's training-mode input gradient, dx = a (g - mg) - b (x - mean), with the
// per-channel coefficients of batch_norm_dx_coefs.
template <class T>
PATCHNET_HD inline T batch_norm_dx(T g, T x, T a, T mg, T b, T mean) {
  return a * (g - mg) - b * (x - mean);
}

// The coefficients of batch_norm_dx, in double, from gamma (1 when absent), inv_std, the
// sums sum_g = sum_r g and sum_gx = sum_r g (x - mean), and 1 / rows:
//   a = gamma inv_std,  mg = sum_g / rows,  b = a inv_std^2 sum_gx / rows.
template <class T>
PATCHNET_HD inline void batch_norm_dx_coefs(double gamma, double inv_std, double sum_g, double sum_gx, double inv_rows,
                                            T& a, T& mg, T& b) {
  const double ac = gamma * inv_std;
  a = static_cast<T>(ac);
  mg = static_cast<T>(sum_g * inv_rows);
  b = static_cast<T>(ac * inv_std * inv_std * sum_gx * inv_rows);
}

// Layer norm's output, y = (x - mean) * rstd * gamma + beta (all in T).
template <class T>
PATCHNET_HD inline T layer_norm_apply(T x, T mean, T rstd, T gamma, T beta) {
  return (x - mean) * rstd * gamma + beta;
}

// Layer norm's input gradient for one element, with c1 = mean_C(g gamma) and
// c2 = mean_C(g gamma xhat) of its row: dx = rstd (g gamma - c1 - (x - mean) rstd c2).
template <class T>
PATCHNET_HD inline T layer_norm_dx(T g, T gamma, T x, T mean, T rstd, T c1, T c2) {
  return rstd * (g * gamma - c1 - (x - mean) * rstd * c2);
}

}  // namespace patchnet::math
