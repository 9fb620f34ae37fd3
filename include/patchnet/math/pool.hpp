// Window index arithmetic of 2-d pooling, shared by the CPU kernels (cpu/pool.hpp) and the
// CUDA kernels (cuda/pool.cu). Along one axis, output o's window starts at input index
// i0 = o * stride - pad (negative inside the padding) and spans k taps.
#pragma once

#include <cstdint>

#include "patchnet/core/config.hpp"

namespace patchnet::math {

// The window of output o: start i0 and its valid (in-image) taps k in [k0, k1).
struct PoolSpan {
  int64_t i0, k0, k1;
};
PATCHNET_HD inline PoolSpan pool_span(int64_t o, int64_t stride, int64_t pad, int64_t k, int64_t in) {
  const int64_t i0 = o * stride - pad;
  const int64_t k0 = i0 < 0 ? -i0 : 0;
  const int64_t k1 = in - i0 < k ? in - i0 : k;
  return {i0, k0, k1};
}

// The outputs whose windows contain input index i: o in [lo, hi) (empty when lo >= hi).
// Used by gather-style backward kernels, one thread per input element.
struct OutRange {
  int64_t lo, hi;
};
PATCHNET_HD inline OutRange pool_outputs_of(int64_t i, int64_t stride, int64_t pad, int64_t k, int64_t out) {
  // o * stride - pad <= i < o * stride - pad + k
  const int64_t first = i + pad - k + 1;  // o * stride >= first
  const int64_t lo = first <= 0 ? 0 : (first + stride - 1) / stride;
  const int64_t last = (i + pad) / stride;  // i + pad >= 0 for every input index
  const int64_t hi = last + 1 < out ? last + 1 : out;
  return {lo, hi};
}

}  // namespace patchnet::math
