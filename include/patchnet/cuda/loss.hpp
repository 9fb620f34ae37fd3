// CUDA launchers of the classification losses and the top-k count (cuda/loss.cu), float
// and double. Scores are packed [N, K], labels N int32 on the device. Labels outside
// [0, K) cannot be reported without a device-to-host copy, so they make that row's loss
// (and gradient) NaN instead, which the mean carries to the result.
#pragma once

#include <cstdint>

#include "patchnet/cuda/launcher.hpp"

namespace patchnet::cuda {

namespace impl {
// Per row r: lse[r] = m + log sum exp(x - m), rows[r] = (m - x_label) + log sum (double).
template <class T>
void cross_entropy_forward(const T* logits, const int32_t* labels, int64_t N, int64_t K, T* lse, double* rows,
                           Stream s = {});
// gx = (gout / N) (exp(x - lse) - onehot(label)); gout is the device scalar output
// gradient (read on the device: no synchronisation).
template <class T>
void cross_entropy_backward(const T* logits, const int32_t* labels, const T* lse, const T* gout, int64_t N, int64_t K,
                            T* gx, Stream s = {});

// Per row r: rows[r] = -log clip(p_label / sum p, eps, 1 - eps) (double).
template <class T>
void cross_entropy_probs_forward(const T* probs, const int32_t* labels, int64_t N, int64_t K, T eps, double* rows,
                                 Stream s = {});
// gx = (gout / N) (1/S - [j == label] / p_label) per row; 0 for clipped rows.
template <class T>
void cross_entropy_probs_backward(const T* probs, const int32_t* labels, const T* gout, int64_t N, int64_t K, T eps,
                                  T* gx, Stream s = {});

// out[0] = T(sum_r rows[r] / N): one block, a fixed summation order (deterministic).
template <class T>
void mean_of_rows(const double* rows, int64_t N, T* out, Stream s = {});

// Rows whose label ranks among the k highest scores (ties by class index, as
// cpu::topk_correct). `count` is one device uint64 it zeroes and then fills; the sum is of
// integers, so the atomics in it do not make the result order dependent.
template <class T>
void topk_correct(const T* scores, const int32_t* labels, int64_t N, int64_t K, int64_t k, unsigned long long* count,
                  Stream s = {});
}  // namespace impl
PN_CUDA_LAUNCHER(cross_entropy_forward)
PN_CUDA_LAUNCHER(cross_entropy_backward)
PN_CUDA_LAUNCHER(cross_entropy_probs_forward)
PN_CUDA_LAUNCHER(cross_entropy_probs_backward)
PN_CUDA_LAUNCHER(mean_of_rows)
PN_CUDA_LAUNCHER(topk_correct)

}  // namespace patchnet::cuda
