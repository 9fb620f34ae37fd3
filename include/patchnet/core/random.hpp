// Seeded, counter-based random numbers (Philox4x32-10, see math/philox.hpp).
//
// A Generator is a seed and a counter. Each draw reserves a range of Philox blocks and
// advances the counter past it, so the same seed gives the same sequence of draws, and
// element i of a draw does not depend on how the work is split (CPU threads, CUDA
// blocks). The counter is saved in checkpoints so a resumed run continues its stream.
#pragma once

#include <cmath>
#include <cstdint>

#include "patchnet/core/tensor.hpp"
#include "patchnet/cpu/parallel.hpp"
#include "patchnet/math/philox.hpp"

namespace patchnet {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : seed_(seed) {}
  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }
  void manual_seed(uint64_t seed) {
    seed_ = seed;
    offset_ = 0;
  }
  void set_offset(uint64_t offset) { offset_ = offset; }
  // Reserves `blocks` Philox blocks; returns the first.
  uint64_t reserve(uint64_t blocks) {
    const uint64_t base = offset_;
    offset_ += blocks;
    return base;
  }

  // Data parallel: this process holds rows [first, first + rows) of a global batch of
  // `global` rows. A mask op (ops/dropout.hpp) whose input has `rows` rows in dimension 0
  // then reserves the global batch's draw and keeps its own rows' part of it, so N ranks
  // drop what one process drops and the counter moves as one process's does. The Trainer
  // sets it for each training step; global == 0 (the default): off.
  struct BatchShard {
    int64_t first = 0, rows = 0, global = 0;
  };
  void set_batch_shard(BatchShard s) { shard_ = s; }
  const BatchShard& batch_shard() const { return shard_; }

 private:
  uint64_t seed_ = 0;
  uint64_t offset_ = 0;
  BatchShard shard_;
};

// The process-wide generator used where none is passed.
inline Generator& default_generator() {
  static Generator g(0);
  return g;
}
inline void manual_seed(uint64_t seed) { default_generator().manual_seed(seed); }

namespace detail {
template <class T, class F>
Tensor<T> generate(const Shape& shape, F&& value_at) {
  Tensor<T> t = Tensor<T>::empty(shape);
  T* p = t.data();
  cpu::parallel_for(0, t.numel(), 1 << 14, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) p[i] = static_cast<T>(value_at(static_cast<uint64_t>(i)));
  });
  return t;
}
}  // namespace detail

// Uniform in [lo, hi). Values are drawn in double, so float and double tensors from the
// same generator state agree to float rounding. The scaling is an explicit fma, as nvcc
// writes it: whether the compiler fuses `lo + (hi - lo) * u` depends on the target CPU
// and the vector width, and the same seed must give the same bits on every machine.
template <FloatingPoint T>
Tensor<T> rand(const Shape& shape, Generator& gen, double lo = 0.0, double hi = 1.0) {
  const uint64_t seed = gen.seed(), base = gen.reserve(math::philox_blocks(shape.numel(), 2));
  return detail::generate<T>(shape,
                             [=](uint64_t i) { return std::fma(hi - lo, math::philox_uniform(seed, base, i), lo); });
}

// Normal(mean, std) by the Box-Muller transform.
template <FloatingPoint T>
Tensor<T> randn(const Shape& shape, Generator& gen, double mean = 0.0, double std = 1.0) {
  const uint64_t seed = gen.seed(), base = gen.reserve(math::philox_blocks(shape.numel(), 4));
  return detail::generate<T>(shape, [=](uint64_t i) {
    const double u1 = 1.0 - math::philox_uniform(seed, base, 2 * i);  // (0, 1]
    const double u2 = math::philox_uniform(seed, base, 2 * i + 1);
    return std::fma(std * std::sqrt(-2.0 * std::log(u1)), std::cos(6.283185307179586 * u2), mean);
  });
}

// Normal(mean, std) redrawn until within [lo, hi] standard deviations of the mean. The
// default +-2 is Keras' TruncatedNormal; timm's trunc_normal_ bounds are absolute values
// (nn/init.hpp converts).
template <FloatingPoint T>
Tensor<T> truncated_normal(const Shape& shape, Generator& gen, double mean = 0.0, double std = 1.0, double lo = -2.0,
                           double hi = 2.0) {
  PN_CHECK(lo < hi && hi > -8.0 && lo < 8.0, "truncated_normal: bounds [", lo, ", ", hi,
           "] (in standard deviations) leave too little mass to sample from");
  const uint64_t seed = gen.seed(), base = gen.reserve(math::philox_blocks(shape.numel(), 4));
  return detail::generate<T>(shape, [=](uint64_t i) {
    for (uint32_t attempt = 0;; ++attempt) {
      const double u1 = 1.0 - math::philox_uniform(seed, base, 2 * i, attempt);
      const double u2 = math::philox_uniform(seed, base, 2 * i + 1, attempt);
      const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
      if (z >= lo && z <= hi) return mean + std * z;
    }
  });
}

// 1 with probability p, else 0.
template <FloatingPoint T>
Tensor<T> bernoulli(const Shape& shape, double p, Generator& gen) {
  PN_CHECK(p >= 0.0 && p <= 1.0, "bernoulli: probability ", p, " is outside [0, 1]");
  const uint64_t seed = gen.seed(), base = gen.reserve(math::philox_blocks(shape.numel()));
  const uint32_t threshold = math::keep_threshold(p);
  return detail::generate<T>(shape,
                             [=](uint64_t i) { return math::philox_keep(seed, base, i, threshold) ? 1.0 : 0.0; });
}

}  // namespace patchnet
