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
// Both, with a batch shard on gen (data parallel, Generator::set_batch_shard) and an input
//   of the shard's rows: the global batch's draw is reserved and this rank takes the part
//   of its rows (dropout: elements first * row .. of the global draw, row = numel / rows;
//   drop path: samples first ..), so N ranks keep exactly what one process keeps.
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
// Dropout of packed x into packed y whose elements start `skip` (0..3) words into the
// draw's first Philox block (a rank's share of a global draw): the kernels start at a
// block boundary, so then the values go through buffers with `skip` leading slots.
template <class T>
void dropout_tensor(const Tensor<T>& x, const Tensor<T>& y, const math::DropoutParams& dp, int64_t skip) {
  const int64_t n = x.numel();
  const Device device = x.device();
  if (skip == 0) return dropout_run(x.data(), y.data(), n, dp, device);
  auto flat = [n](const Tensor<T>& t, int64_t at) { return make_view(t, Shape{n}, Strides{1}, at); };
  const Tensor<T> in = Tensor<T>::zeros({n + skip}, device), out = Tensor<T>::empty({n + skip}, device);
  flat(in, skip).copy_(flat(x, x.offset()));
  dropout_run(in.data(), out.data(), n + skip, dp, device);
  flat(y, y.offset()).copy_(flat(out, skip));
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
  int64_t skip = 0;  // words of the first Philox block before this tensor's first element
  if (const auto& sh = gen.batch_shard(); sh.global > 0 && x.dim() >= 1 && x.size(0) == sh.rows && sh.rows > 0) {
    const auto row = static_cast<uint64_t>(n / sh.rows), start = static_cast<uint64_t>(sh.first) * row;
    dp.base = gen.reserve(math::philox_blocks(static_cast<uint64_t>(sh.global) * row)) + start / 4;
    skip = static_cast<int64_t>(start % 4);
  } else {
    dp.base = gen.reserve(math::philox_blocks(static_cast<uint64_t>(n)));
  }
  dp.threshold = math::keep_threshold(1.0 - p);
  dp.scale = 1.0 / (1.0 - p);
  const Tensor<T> xc = x.detach().contiguous();
  Tensor<T> y = Tensor<T>::empty(x.shape(), x.device());
  detail::dropout_tensor(xc, y, dp, skip);
  autograd::record<T>("dropout", {x}, {y}, [dp, skip](const auto& g, const auto&) {
    const Tensor<T> gc = g[0].contiguous();
    Tensor<T> gx = Tensor<T>::empty(gc.shape(), gc.device());
    detail::dropout_tensor(gc, gx, dp, skip);
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
  const auto& sh = gen.batch_shard();
  const bool shard = sh.global > 0 && N == sh.rows && N > 0;  // this rank's samples of a global draw
  const uint64_t seed = gen.seed(), first = shard ? static_cast<uint64_t>(sh.first) : 0;
  const uint64_t base = gen.reserve(math::philox_blocks(static_cast<uint64_t>(shard ? sh.global : N)));
  const uint32_t threshold = math::keep_threshold(1.0 - p);
  const T scale = static_cast<T>(1.0 / (1.0 - p));
  Tensor<T> factor = Tensor<T>::empty({N}, x.device());
  if (x.is_cpu() || shard) {  // a shard's N factors are made on the host (N is a batch share)
    Tensor<T> f = x.is_cpu() ? factor : Tensor<T>::empty({N});
    for (int64_t i = 0; i < N; ++i)
      f.data()[i] = math::dropout_factor(seed, base, first + static_cast<uint64_t>(i), threshold, scale);
    if (!x.is_cpu()) factor.copy_(f);
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
