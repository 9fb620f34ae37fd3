// CUDA launchers of batch normalisation (cuda/batch_norm.cu) and layer normalisation
// (cuda/layer_norm.cu), float and double. All activations are packed [rows, C] (NHWC seen
// as rows = N*H*W pixels of C channels); per-channel vectors are packed [C] unless a
// stride is given. Backward launchers write their outputs (no accumulation); any output
// pointer may be null when that gradient is not needed.
//
// Column reductions (batch statistics, dgamma / dbeta) are deterministic: each block sums
// its row group into a per-block partial in `work` (double), and a second kernel adds the
// partials of each channel in a fixed order. No atomics.
#pragma once

#include <algorithm>
#include <cstdint>

#include "patchnet/cuda/launcher.hpp"
#include "patchnet/math/norm.hpp"

namespace patchnet::cuda {

// Row groups of the column reductions: about 1024 blocks in all (a channel tile is 32
// threads x 4 channels), at least 16 rows per group. Depends only on the size, so the
// summation order, and with it the result, never changes from run to run.
inline int64_t norm_row_groups(int64_t rows, int64_t C) {
  const int64_t tiles = std::max<int64_t>(1, (C + 127) / 128);
  const int64_t by_blocks = std::max<int64_t>(1, 1024 / tiles);
  const int64_t by_rows = (rows + 15) / 16;
  return std::max<int64_t>(1, std::min(by_blocks, by_rows));
}
// Doubles of `work` that batch_norm_forward (training), batch_norm_backward and
// layer_norm_backward (for dgamma / dbeta) need: two partial sums per group and channel,
// and 3 C more for synchronised batch norm's per-channel figures.
inline int64_t norm_workspace(int64_t rows, int64_t C) { return 2 * norm_row_groups(rows, C) * C + 3 * C; }

// Synchronised batch norm (training over several processes, ops/batch_norm.hpp): the
// launchers hand this rank's per-channel figures (double, on the host) to a merge function,
// which combines them over the ranks and returns the rows over all ranks; the launcher goes
// on with the result. Null functions: this process alone.
struct BatchNormSync {
  // Forward: mean and biased variance of this rank's `rows` rows in, every rank's out.
  int64_t (*merge_stats)(void* ctx, double* mean, double* var, int64_t C, int64_t rows) = nullptr;
  // Backward: this rank's sum_r g and sum_r g (x - mean) in, every rank's out.
  int64_t (*merge_sums)(void* ctx, double* sum_g, double* sum_gx, int64_t C, int64_t rows) = nullptr;
  void* ctx = nullptr;
};

struct BatchNormParams {
  int64_t rows = 0, channels = 0;
  double eps = 1e-3;
  double momentum = 0.99;  // Keras convention: running = momentum * running + (1 - momentum) * batch
  bool training = true;
  bool unbiased_running_var = false;
  BatchNormSync sync;  // training only
};

namespace impl {
// Training: batch mean / biased var per channel (double; shifted sums, see the .cu), and
// running_mean / running_var updated in place when not null (strides in elements).
// Eval: mean / var read from the running buffers. Then, per channel, stats = [mean,
// inv_std, inv_std * gamma] ([3, C], T), and y = (x - mean) * stats[2] + beta.
// gamma / beta may be null (1 / 0). work: norm_workspace(rows, C) doubles (training only).
template <class T>
void batch_norm_forward(const T* x, const T* gamma, const T* beta, T* running_mean, int64_t running_mean_stride,
                        T* running_var, int64_t running_var_stride, double* work, T* stats, T* y,
                        const BatchNormParams& p, Stream s = {});

// With p.sync, the statistics are every rank's: this rank's mean and var go through
// merge_stats (a wait for the device and two small copies), and the running buffers take
// the merged figures, unbiased by the rows over all ranks.
//
// Backward from forward's x and stats. dbeta = sum_r g, dgamma = sum_r g (x - mean) * inv_std;
// dx: training a (g - mg) - b (x - mean) (math/norm.hpp), eval g * gamma * inv_std. With
// p.sync (training), dx takes every rank's sums (merge_sums), dgamma and dbeta this rank's.
// work: norm_workspace(rows, C) doubles, unless only dx is wanted in eval; coef: [3, C] T
// scratch when dx is wanted.
template <class T>
void batch_norm_backward(const T* g, const T* x, const T* gamma, const T* stats, double* work, T* coef, T* dx,
                         T* dgamma, T* dbeta, const BatchNormParams& p, Stream s = {});
}  // namespace impl
PN_CUDA_LAUNCHER(batch_norm_forward)
PN_CUDA_LAUNCHER(batch_norm_backward)

struct LayerNormParams {
  int64_t rows = 0, channels = 0;
  double eps = 1e-5;
};

namespace impl {
// Per row: mean, rstd = 1 / sqrt(biased var + eps) (both written, [rows]), and
// y = (x - mean) * rstd * gamma + beta. gamma and beta are required ([C]).
template <class T>
void layer_norm_forward(const T* x, const T* gamma, const T* beta, T* y, T* mean, T* rstd, const LayerNormParams& p,
                        Stream s = {});

// dx per row; dgamma = sum_r g xhat, dbeta = sum_r g. work: norm_workspace(rows, C)
// doubles when dgamma or dbeta is wanted.
template <class T>
void layer_norm_backward(const T* g, const T* x, const T* mean, const T* rstd, const T* gamma, double* work, T* dx,
                         T* dgamma, T* dbeta, const LayerNormParams& p, Stream s = {});
}  // namespace impl
PN_CUDA_LAUNCHER(layer_norm_forward)
PN_CUDA_LAUNCHER(layer_norm_backward)

}  // namespace patchnet::cuda
