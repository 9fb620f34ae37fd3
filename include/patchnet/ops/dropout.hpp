// Dropout and drop path (stochastic depth): random masks with inverted scaling, drawn
// from a Generator (core/random.hpp), so a seed fixes every mask of a run.
//
// dropout(x, p, training, gen): element i is kept with probability keep = 1 - p and
//   scaled by 1/keep, else zeroed: y = x * m / keep (PyTorch nn.Dropout, Keras Dropout;
//   the ShiftViT MLP's dropout). The draw reserves philox_blocks(numel) blocks of gen and
//   keeps i iff math::philox_keep(seed, base, i, keep_threshold(keep)), the test of
//   bernoulli(), so CPU and CUDA masks, and float and double masks, agree for one seed.
//   Saves (seed, base); backward regenerates the mask: gx = g * m / keep.
// drop_path(x, p, training, gen): one keep decision per sample (dimension 0), draw of
//   philox_blocks(N) blocks, kept samples scaled by 1/keep: the ShiftViT seed's DropPath,
//   floor(keep + U[0,1)) per sample, i.e. kept with probability keep. Saves the N factors
//   (0 or 1/keep, a tensor on x's device); backward gx = g * factor[n].
//
// Both: p must lie in [0, 1) (p = 1 would keep nothing and scale by 1/0). In eval
// (!training) or with p == 0 they return x itself, draw nothing from gen, and record
// nothing. Layout: any packed tensor (drop_path: dimension 0 is the batch).
// The generator is advanced on the host by the same amount on either device, and the keep
// test is math/dropout.hpp's on both, so a seed gives bit-identical masks on CPU and CUDA.
// CUDA (cuda/dropout.cu): dropout is one thread per Philox block (4 elements), no mask in
// memory, forward and backward the same kernel; drop path computes its N factors on the
// device, then scales rows, one thread per element. No atomics.
#pragma once

#include <cstdint>
#include <vector>

#include "patchnet/autograd/node.hpp"
#include "patchnet/core/random.hpp"
#include "patchnet/core/tensor.hpp"
#include "patchnet/cpu/dropout.hpp"
#include "patchnet/cuda/dropout.hpp"
#include "patchnet/math/dropout.hpp"
#include "patchnet/math/philox.hpp"
#include "patchnet/ops/dispatch.hpp"

namespace patchnet {
namespace detail {
inline void check_drop_probability(const char* op, double p) {
  PN_CHECK(p >= 0.0 && p < 1.0, op, ": drop probability p = ", p, " is outside [0, 1)",
           p == 1.0 ? " (p = 1 would drop every element and scale by 1 / 0)" : "");
}
}  // namespace detail

namespace detail {
template <class T>
void dropout_run(const T* x, T* y, int64_t n, const math::DropoutParams& dp, Device device) {
  if (device.is_cpu()) {
    cpu::dropout_apply(x, y, n, dp);
  } else {
    PN_CUDA("dropout", cuda::dropout_apply(x, y, n, dp));
  }
}
template <class T>
void scale_rows_run(const T* x, const T* factor, T* y, int64_t rows, int64_t row_len, Device device) {
  if (device.is_cpu()) cpu::scale_rows(x, factor, y, rows, row_len);
  else PN_CUDA("drop_path", cuda::scale_rows(x, factor, y, rows, row_len));
}
}  // namespace detail

template <FloatingPoint T>
Tensor<T> dropout(const Tensor<T>& x, double p, bool training, Generator& gen) {
  PN_CHECK(x.defined(), "dropout: input is undefined");
  detail::check_drop_probability("dropout", p);
  if (!training || p == 0.0) return x;
  const int64_t n = x.numel();
  math::DropoutParams dp;
  dp.seed = gen.seed();
  dp.base = gen.reserve(math::philox_blocks(static_cast<uint64_t>(n)));
  dp.threshold = math::keep_threshold(1.0 - p);
  dp.scale = 1.0 / (1.0 - p);
  const Tensor<T> xc = x.detach().contiguous();
  Tensor<T> y = Tensor<T>::empty(x.shape(), x.device());
  detail::dropout_run(xc.data(), y.data(), n, dp, x.device());
  autograd::record<T>("dropout", {x}, {y}, [dp](const auto& g, const auto&) {
    const Tensor<T> gc = g[0].contiguous();
    Tensor<T> gx = Tensor<T>::empty(gc.shape(), gc.device());
    detail::dropout_run(gc.data(), gx.data(), gc.numel(), dp, gc.device());
    return std::vector<Tensor<T>>{gx};
  });
  return y;
}

template <FloatingPoint T>
Tensor<T> drop_path(const Tensor<T>& x, double p, bool training, Generator& gen) {
  PN_CHECK(x.defined(), "drop_path: input is undefined");
  PN_CHECK(x.dim() >= 1, "drop_path: input ", x.shape(), " has no batch dimension");
  detail::check_drop_probability("drop_path", p);
  if (!training || p == 0.0) return x;
  const int64_t N = x.size(0), row = N > 0 ? x.numel() / N : 0;
  const uint64_t seed = gen.seed(), base = gen.reserve(math::philox_blocks(static_cast<uint64_t>(N)));
  const uint32_t threshold = math::keep_threshold(1.0 - p);
  const T scale = static_cast<T>(1.0 / (1.0 - p));
  Tensor<T> factor = Tensor<T>::empty({N}, x.device());
  if (x.is_cpu()) {
    T* f = factor.data();
    for (int64_t i = 0; i < N; ++i) f[i] = math::dropout_factor(seed, base, static_cast<uint64_t>(i), threshold, scale);
  } else {
    PN_CUDA("drop_path", cuda::drop_path_factors(factor.data(), N, seed, base, threshold, scale));
  }
  const Tensor<T> xc = x.detach().contiguous();
  Tensor<T> y = Tensor<T>::empty(x.shape(), x.device());
  detail::scale_rows_run(xc.data(), factor.data(), y.data(), N, row, x.device());
  autograd::record<T>("drop_path", {x}, {y}, [factor, N](const auto& g, const auto&) {
    const Tensor<T> gc = g[0].contiguous();
    Tensor<T> gx = Tensor<T>::empty(gc.shape(), gc.device());
    detail::scale_rows_run(gc.data(), factor.data(), gx.data(), N, N > 0 ? gc.numel() / N : 0, gc.device());
    return std::vector<Tensor<T>>{gx};
  });
  return y;
}

}  // namespace patchnet
