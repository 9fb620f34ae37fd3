// Scalar pieces of dropout and drop path shared by the CPU loops (cpu/dropout.hpp,
// ops/dropout.hpp) and the CUDA kernels (cuda/dropout.cu), so both devices keep the same
// elements for the same (seed, base): element / sample i is decided by word i % 4 of
// Philox block base + i / 4 (math/philox.hpp).
#pragma once

#include <cstdint>

#include "patchnet/core/config.hpp"
#include "patchnet/math/philox.hpp"

namespace patchnet::math {

// One dropout draw, as the CPU loop and the CUDA kernel both take it.
struct DropoutParams {
  uint64_t seed = 0;
  uint64_t base = 0;       // first Philox block of this draw
  uint32_t threshold = 0;  // keep when the word is below it (keep_threshold)
  double scale = 1.0;      // 1 / keep probability (rounded to T by the kernels)
};

// The multiplier of a value whose Philox word is `word`: scale (= 1 / keep) when kept,
// else 0. A multiply rather than a select, so a NaN input stays visible.
template <class T>
PATCHNET_HD inline T drop_factor(uint32_t word, uint32_t threshold, T scale) {
  return keep_word(word, threshold) ? scale : T(0);
}

// The factor of value i of the draw at (seed, base): dropout's element i, drop path's
// sample i.
template <class T>
PATCHNET_HD inline T dropout_factor(uint64_t seed, uint64_t base, uint64_t i, uint32_t threshold, T scale) {
  return drop_factor(philox_word(seed, base, i), threshold, scale);
}

}  // namespace patchnet::math
