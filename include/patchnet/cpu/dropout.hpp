// CPU kernels of dropout and drop path. Raw pointers to packed arrays, no Tensor.
//
// Dropout's keep decision for element i is math::philox_keep(seed, base, i, threshold):
// word i % 4 of Philox block base + i / 4. Rather than one Philox evaluation per element
// (philox_keep computes a whole 4-word block to use one word), the kernel evaluates
// kLanes consecutive blocks at once in structure-of-arrays form, so the ten rounds
// vectorise across blocks (16 lanes of AVX-512), and uses all four words of each block.
// The mask is not stored: backward regenerates it from (seed, base), which costs less
// than writing and reading a mask; the CUDA kernel (cuda/dropout.cu) does the same, one
// Philox block per thread.
#pragma once

#include <algorithm>
#include <cstdint>

#include "patchnet/cpu/parallel.hpp"
#include "patchnet/math/dropout.hpp"
#include "patchnet/math/philox.hpp"

namespace patchnet::cpu {

using math::DropoutParams;

namespace detail {
inline constexpr int kPhiloxLanes = 16;

// The four words of blocks first .. first + kPhiloxLanes - 1: w[k][j] is word k of
// block first + j. The same computation as math::philox4x32 with philox_word's counter
// (block low, block high, 0, 0) and key (seed low, seed high).
struct PhiloxLanes {
  alignas(64) uint32_t w[4][kPhiloxLanes];
};

inline void philox_lanes(uint64_t seed, uint64_t first, PhiloxLanes& s) {
  uint32_t* __restrict c0 = s.w[0];
  uint32_t* __restrict c1 = s.w[1];
  uint32_t* __restrict c2 = s.w[2];
  uint32_t* __restrict c3 = s.w[3];
  const uint32_t lo = static_cast<uint32_t>(first), hi = static_cast<uint32_t>(first >> 32);
  for (uint32_t j = 0; j < kPhiloxLanes; ++j) {  // the 64-bit counter first + j, in 32-bit lanes
    c0[j] = lo + j;
    c1[j] = hi + (c0[j] < lo);
    c2[j] = 0;
    c3[j] = 0;
  }
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    for (int j = 0; j < kPhiloxLanes; ++j) {
      const uint64_t p0 = static_cast<uint64_t>(0xD2511F53u) * c0[j];
      const uint64_t p1 = static_cast<uint64_t>(0xCD9E8D57u) * c2[j];
      const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1[j] ^ k0;
      const uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3[j] ^ k1;
      c1[j] = static_cast<uint32_t>(p1);
      c3[j] = static_cast<uint32_t>(p0);
      c0[j] = n0;
      c2[j] = n2;
    }
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
}
}  // namespace detail

// y[i] = x[i] * scale where element i is kept, else x[i] * 0 (a multiply, not a select,
// so a NaN or inf input stays visible as in PyTorch). Forward (x -> y) and backward
// (gy -> gx) are the same map. Writes y.
template <class T>
void dropout_apply(const T* x, T* y, int64_t n, const DropoutParams& p) {
  constexpr int64_t kGroup = 4 * detail::kPhiloxLanes;  // elements per philox_lanes call
  const T scale = static_cast<T>(p.scale);
  const uint32_t thr = p.threshold;
  if (thr == 0xFFFFFFFFu) {  // math::philox_keep keeps everything (keep probability ~1)
    parallel_for(0, n, 1 << 15, [=](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) y[i] = x[i] * scale;
    });
    return;
  }
  const int64_t groups = n / kGroup;
  const uint64_t seed = p.seed, base = p.base;
  // Captured by value (here and above): a captured T& (scale) may alias the T stores,
  // which keeps the compiler from vectorising (measured 3x slower).
  parallel_for(0, groups, std::max<int64_t>(1, (1 << 15) / kGroup), [=](int64_t lo, int64_t hi) {
    detail::PhiloxLanes s;
    for (int64_t g = lo; g < hi; ++g) {
      detail::philox_lanes(seed, base + static_cast<uint64_t>(g) * detail::kPhiloxLanes, s);
      const T* __restrict xg = x + g * kGroup;
      T* __restrict yg = y + g * kGroup;
      // Written out per word: a loop over the 4 words does not vectorise across blocks.
      for (int j = 0; j < detail::kPhiloxLanes; ++j) {
        yg[4 * j + 0] = xg[4 * j + 0] * (s.w[0][j] < thr ? scale : T(0));
        yg[4 * j + 1] = xg[4 * j + 1] * (s.w[1][j] < thr ? scale : T(0));
        yg[4 * j + 2] = xg[4 * j + 2] * (s.w[2][j] < thr ? scale : T(0));
        yg[4 * j + 3] = xg[4 * j + 3] * (s.w[3][j] < thr ? scale : T(0));
      }
    }
  });
  for (int64_t i = groups * kGroup; i < n; ++i)  // the last < 64 elements
    y[i] = x[i] * math::dropout_factor(p.seed, p.base, static_cast<uint64_t>(i), thr, scale);
}

// y[r, :] = x[r, :] * factor[r] over rows of row_len elements (drop path: factor is 0 or
// 1 / keep per sample). Forward and backward are the same map. Writes y.
template <class T>
void scale_rows(const T* x, const T* factor, T* y, int64_t rows, int64_t row_len) {
  parallel_for(0, rows * row_len, 1 << 15, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo / row_len; r * row_len < hi; ++r) {
      const int64_t b = std::max(lo, r * row_len), e = std::min(hi, (r + 1) * row_len);
      const T f = factor[r];
      for (int64_t i = b; i < e; ++i) y[i] = x[i] * f;
    }
  });
}

}  // namespace patchnet::cpu
