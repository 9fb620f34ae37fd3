// Classification losses and the top-k metric. Scores are [N, K] (N samples, K classes),
// labels a Tensor<int32_t> [N] with every value in [0, K), on the scores' device (move them
// with .to(); nothing moves implicitly). Losses return a rank-0 tensor on that device: the
// mean over the batch.
//
// CUDA (cuda/loss.cu): one warp per row writes the row's loss (double) and, for
// cross_entropy, lse; one block then adds the N row losses in a fixed order (no atomics,
// the same value on every run). Backward reads the output gradient on the device (no
// synchronisation): cross_entropy one thread per element, from_probs one warp per row.
// Label values on the GPU are not checked on the host (that would need a device-to-host
// copy each step): a label outside [0, K) makes its row's loss and gradient NaN.
// topk_correct on CUDA counts with a warp per row and an integer atomic add (exact and
// order independent), then copies the count to the host (that copy synchronises).
//
// cross_entropy(logits, labels) = mean_r -log softmax(logits_r)[label_r]
//   = mean_r (lse_r - x_r,label), lse = m + log sum exp(x - m), m = row max; fused and
//   stable for any finite logits (Keras SparseCategoricalCrossentropy(from_logits=True),
//   the ShiftViT seed's loss; PyTorch F.cross_entropy). Saves the logits and lse [N];
//   backward gx = g (softmax(x) - onehot(label)) / N, softmax recomputed from lse.
//
// cross_entropy_from_probs(probs, labels, eps) = mean_r -log clip(q_r, eps, 1 - eps),
//   q_r = p_r,label / sum_j p_r,j: Keras sparse_categorical_crossentropy with
//   from_logits=False on a softmax head (the ConvMixer seed's Dense(softmax) + loss
//   "sparse_categorical_crossentropy"), i.e. rows renormalised, then clipped by Keras'
//   epsilon 1e-7. Saves probs; backward g (1/S - [j == label] / p_label) / N per row, and
//   0 for the rows whose q was clipped (as clip's gradient is 0 outside its range).
//   probs must be non-negative with a positive row sum (a softmax output); not checked.
//   When the probabilities come from softmax(logits), cross_entropy(logits) is the same
//   loss without the clipping and the extra rounding, and is preferred.
//
// topk_correct(scores, labels, k): the number of rows whose label is among the k highest
//   scores; ties broken by class index (see cpu::topk_correct), so exactly k classes count
//   as "top k" in every row and k = 1 is Keras' argmax accuracy. topk_accuracy is that
//   count over N. Metrics: no gradient.
#pragma once

#include <cstdint>
#include <vector>

#include "patchnet/autograd/node.hpp"
#include "patchnet/core/tensor.hpp"
#include "patchnet/cpu/loss.hpp"
#include "patchnet/cuda/loss.hpp"
#include "patchnet/ops/dispatch.hpp"

namespace patchnet {
namespace detail {

// Checks scores [N, K] and labels [N] with values in [0, K); returns packed labels.
template <FloatingPoint T>
Tensor<int32_t> check_labels(const char* op, const char* what, const Tensor<T>& scores, const Tensor<int32_t>& labels) {
  check_rank(op, what, scores, 2);
  PN_CHECK(labels.defined(), op, ": labels are undefined");
  const int64_t N = scores.size(0), K = scores.size(1);
  PN_CHECK(N > 0 && K > 0, op, ": ", what, " ", scores.shape(), " is empty");
  PN_CHECK(labels.dim() == 1, op, ": labels ", labels.shape(), " must have rank 1 ([N]) for ", what, " ",
           scores.shape());
  PN_CHECK(labels.size(0) == N, op, ": labels ", labels.shape(), " vs ", what, " ", scores.shape(), ": ",
           labels.size(0), " labels for ", N, " rows");
  PN_CHECK(labels.device() == scores.device(), op, ": labels are on ", labels.device(), " but ", what, " on ",
           scores.device(), "; move them with .to() first");
  Tensor<int32_t> lc = labels.contiguous();
  if (lc.is_cuda()) return lc;  // values checked in the kernels (NaN rows), see above
  const int32_t* l = lc.data();
  for (int64_t r = 0; r < N; ++r)
    PN_CHECK(l[r] >= 0 && l[r] < K, op, ": label ", l[r], " in row ", r, " is outside [0, ", K, ") for ", what, " ",
             scores.shape());
  return lc;
}

inline double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

}  // namespace detail

template <FloatingPoint T>
Tensor<T> cross_entropy(const Tensor<T>& logits, const Tensor<int32_t>& labels) {
  const Tensor<int32_t> lc = detail::check_labels("cross_entropy", "logits", logits, labels);
  const int64_t N = logits.size(0), K = logits.size(1);
  const Device dev = logits.device();
  const Tensor<T> xc = logits.detach().contiguous();
  Tensor<T> lse = Tensor<T>::empty({N}, dev);
  Tensor<T> out;
  if (dev.is_cpu()) {
    std::vector<double> rows(static_cast<size_t>(N));
    cpu::cross_entropy_forward(xc.data(), lc.data(), N, K, lse.data(), rows.data());
    out = Tensor<T>::scalar(static_cast<T>(detail::mean_of(rows)));
  } else {
    Tensor<double> rows = Tensor<double>::empty({N}, dev);
    out = Tensor<T>::empty(Shape{}, dev);
    PN_CUDA("cross_entropy", cuda::cross_entropy_forward(xc.data(), lc.data(), N, K, lse.data(), rows.data()));
    PN_CUDA("cross_entropy", cuda::mean_of_rows(rows.data(), N, out.data()));
  }
  autograd::record<T>("cross_entropy", {logits}, {out}, [xc, lc, lse, N, K](const auto& g, const auto&) {
    Tensor<T> gx = Tensor<T>::empty(xc.shape(), xc.device());
    if (xc.is_cpu()) {
      const T scale = static_cast<T>(static_cast<double>(g[0].item()) / static_cast<double>(N));
      cpu::cross_entropy_backward(xc.data(), lc.data(), lse.data(), N, K, scale, gx.data());
    } else {
      const Tensor<T> gout = g[0].contiguous();
      PN_CUDA("cross_entropy",
              cuda::cross_entropy_backward(xc.data(), lc.data(), lse.data(), gout.data(), N, K, gx.data()));
    }
    return std::vector<Tensor<T>>{gx};
  });
  return out;
}

template <FloatingPoint T>
Tensor<T> cross_entropy_from_probs(const Tensor<T>& probs, const Tensor<int32_t>& labels, double eps = 1e-7) {
  const Tensor<int32_t> lc = detail::check_labels("cross_entropy_from_probs", "probs", probs, labels);
  PN_CHECK(eps >= 0.0 && eps < 0.5, "cross_entropy_from_probs: eps = ", eps, " is outside [0, 0.5)");
  const int64_t N = probs.size(0), K = probs.size(1);
  const Device dev = probs.device();
  const Tensor<T> pc = probs.detach().contiguous();
  Tensor<T> out;
  if (dev.is_cpu()) {
    std::vector<double> rows(static_cast<size_t>(N));
    cpu::cross_entropy_probs_forward(pc.data(), lc.data(), N, K, static_cast<T>(eps), rows.data());
    out = Tensor<T>::scalar(static_cast<T>(detail::mean_of(rows)));
  } else {
    Tensor<double> rows = Tensor<double>::empty({N}, dev);
    out = Tensor<T>::empty(Shape{}, dev);
    PN_CUDA("cross_entropy_from_probs",
            cuda::cross_entropy_probs_forward(pc.data(), lc.data(), N, K, static_cast<T>(eps), rows.data()));
    PN_CUDA("cross_entropy_from_probs", cuda::mean_of_rows(rows.data(), N, out.data()));
  }
  autograd::record<T>("cross_entropy_from_probs", {probs}, {out}, [pc, lc, eps, N, K](const auto& g, const auto&) {
    Tensor<T> gx = Tensor<T>::empty(pc.shape(), pc.device());
    if (pc.is_cpu()) {
      const T scale = static_cast<T>(static_cast<double>(g[0].item()) / static_cast<double>(N));
      cpu::cross_entropy_probs_backward(pc.data(), lc.data(), N, K, static_cast<T>(eps), scale, gx.data());
    } else {
      const Tensor<T> gout = g[0].contiguous();
      PN_CUDA("cross_entropy_from_probs", cuda::cross_entropy_probs_backward(pc.data(), lc.data(), gout.data(), N, K,
                                                                             static_cast<T>(eps), gx.data()));
    }
    return std::vector<Tensor<T>>{gx};
  });
  return out;
}

namespace detail {
template <FloatingPoint T>
int64_t topk_count(const char* op, const Tensor<T>& scores, const Tensor<int32_t>& labels, int64_t k) {
  const Tensor<int32_t> lc = check_labels(op, "scores", scores, labels);
  const int64_t K = scores.size(1);
  PN_CHECK(k >= 1 && k <= K, op, ": k = ", k, " is outside [1, ", K, "] for scores ", scores.shape());
  const Tensor<T> sc = scores.detach().contiguous();
  if (sc.is_cpu()) return cpu::topk_correct(sc.data(), lc.data(), scores.size(0), K, k);
  Tensor<int64_t> count = Tensor<int64_t>::empty({1}, sc.device());
  PN_CUDA(op, cuda::topk_correct(sc.data(), lc.data(), scores.size(0), K, k,
                                 reinterpret_cast<unsigned long long*>(count.data())));
  return count.item();
}
}  // namespace detail

template <FloatingPoint T>
int64_t topk_correct(const Tensor<T>& scores, const Tensor<int32_t>& labels, int64_t k = 1) {
  return detail::topk_count("topk_correct", scores, labels, k);
}

template <FloatingPoint T>
double topk_accuracy(const Tensor<T>& scores, const Tensor<int32_t>& labels, int64_t k = 1) {
  return static_cast<double>(detail::topk_count("topk_accuracy", scores, labels, k)) /
         static_cast<double>(scores.size(0));
}

}  // namespace patchnet
