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
#include <type_traits>

#if defined(__AVX512F__) && defined(__BMI2__)
#include <immintrin.h>
#endif

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
#if defined(__AVX512F__) && defined(__BMI2__)
#define PATCHNET_DROPOUT_AVX512 1
// philox_lanes with AVX-512 intrinsics: the 32x32 -> 64-bit products as vpmuludq on even
// and odd lanes (the compiler otherwise widens to 64-bit vpmullq, 3 uops each), then y for
// the group's 64 elements in registers. Same words, same mask, 4-5x faster (measured in
// docs/performance.md).
inline void philox_words_avx512(uint64_t seed, uint64_t first, __m512i w[4]) {
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const uint32_t lo = static_cast<uint32_t>(first), hi = static_cast<uint32_t>(first >> 32);
  __m512i c0 = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(lo)), lane);
  const __mmask16 carry = _mm512_cmplt_epu32_mask(c0, _mm512_set1_epi32(static_cast<int>(lo)));
  __m512i c1 = _mm512_mask_add_epi32(_mm512_set1_epi32(static_cast<int>(hi)), carry,
                                     _mm512_set1_epi32(static_cast<int>(hi)), _mm512_set1_epi32(1));
  __m512i c2 = _mm512_setzero_si512(), c3 = _mm512_setzero_si512();
  const __m512i m0 = _mm512_set1_epi64(0xD2511F53u), m1 = _mm512_set1_epi64(0xCD9E8D57u);
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  // lo / hi words of m * c for 16 lanes of c.
  const auto mul = [](__m512i c, __m512i m, __m512i& plo, __m512i& phi) {
    const __m512i even = _mm512_mul_epu32(c, m), odd = _mm512_mul_epu32(_mm512_srli_epi64(c, 32), m);
    plo = _mm512_mask_shuffle_epi32(even, 0xAAAA, odd, _MM_PERM_CDAB);
    phi = _mm512_mask_shuffle_epi32(odd, 0x5555, even, _MM_PERM_CDAB);
  };
  for (int round = 0; round < 10; ++round) {
    __m512i p0lo, p0hi, p1lo, p1hi;
    mul(c0, m0, p0lo, p0hi);
    mul(c2, m1, p1lo, p1hi);
    const __m512i n0 = _mm512_xor_si512(_mm512_xor_si512(p1hi, c1), _mm512_set1_epi32(static_cast<int>(k0)));
    const __m512i n2 = _mm512_xor_si512(_mm512_xor_si512(p0hi, c3), _mm512_set1_epi32(static_cast<int>(k1)));
    c1 = p1lo;
    c3 = p0lo;
    c0 = n0;
    c2 = n2;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  w[0] = c0;
  w[1] = c1;
  w[2] = c2;
  w[3] = c3;
}

// The keep bits of the group's 64 elements in element order: element 4j + k is word k of
// block j.
inline uint64_t keep_bits_avx512(const __m512i w[4], uint32_t threshold) {
  const __m512i t = _mm512_set1_epi32(static_cast<int>(threshold));
  uint64_t bits = 0;
  for (int k = 0; k < 4; ++k) bits |= _pdep_u64(_mm512_cmplt_epu32_mask(w[k], t), 0x1111111111111111ull << k);
  return bits;
}

template <class T>
void apply_group_avx512(const T* x, T* y, uint64_t keep, T scale) {
  if constexpr (std::is_same_v<T, float>) {
    const __m512 s = _mm512_set1_ps(scale);
    for (int v = 0; v < 4; ++v)  // a multiply by scale or 0, not a select: NaN stays NaN
      _mm512_storeu_ps(y + 16 * v, _mm512_mul_ps(_mm512_loadu_ps(x + 16 * v),
                                                 _mm512_maskz_mov_ps(static_cast<__mmask16>(keep >> (16 * v)), s)));
  } else {
    const __m512d s = _mm512_set1_pd(scale);
    for (int v = 0; v < 8; ++v)
      _mm512_storeu_pd(y + 8 * v, _mm512_mul_pd(_mm512_loadu_pd(x + 8 * v),
                                                _mm512_maskz_mov_pd(static_cast<__mmask8>(keep >> (8 * v)), s)));
  }
}
#endif

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
#ifdef PATCHNET_DROPOUT_AVX512
    __m512i w[4];
    for (int64_t g = lo; g < hi; ++g) {
      detail::philox_words_avx512(seed, base + static_cast<uint64_t>(g) * detail::kPhiloxLanes, w);
      detail::apply_group_avx512(x + g * kGroup, y + g * kGroup, detail::keep_bits_avx512(w, thr), scale);
    }
#else
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
#endif
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
