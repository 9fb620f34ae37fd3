// The float32 matrix product with bfloat16 inputs (the bf16 precision policy,
// core/precision.hpp): the same BLIS loops as cpu/gemm_packed.hpp (run<Format>), with the
// packing rounding op(A) and op(B) to bf16 (to nearest even) and storing them as pairs along
// K (the products of two bf16 are exact in float32; the sums are float32). Two formats:
//
//   Bf16Amx    AMX tiles (Sapphire Rapids and later): a 32 x 32 block of C in four 16 x 16
//              float tiles, TDPBF16PS over 32-deep steps of K (16 x 16 x 32 multiply-adds
//              an instruction). About twelve times the float32 FMA rate on this VM.
//   Bf16Pairs  AVX512-BF16: VDPBF16PS, for each of 16 float32 lanes acc += a[2i+1] b[2i+1],
//              then acc += a[2i] b[2i], each rounded once. As many multiply-adds an
//              instruction as two FMAs: faster than float32 where the CPU issues it as fast
//              as an FMA (AMD Zen 4), half the rate on Sapphire Rapids, which has AMX.
//
// Built where the compiler targets them (-march=native on such a CPU). AMX also needs the
// kernel's permission (arch_prctl, asked once); without it, or with PATCHNET_NO_AMX=1, the
// AVX512-BF16 kernel runs. Without either, or with PATCHNET_NO_BF16=1,
// bf16_gemm_available() is false and cpu::gemm keeps float32, saying so once.
#pragma once

#include <cstdint>
#include <cstdlib>

#if defined(__AVX512F__) && defined(__AVX512BF16__)
#include <immintrin.h>
#define PATCHNET_HAVE_BF16_GEMM 1
#if defined(__AMX_TILE__) && defined(__AMX_BF16__) && defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#define PATCHNET_HAVE_AMX_GEMM 1
#endif
#endif

#include "patchnet/core/error.hpp"
#include "patchnet/cpu/gemm_packed.hpp"
#include "patchnet/math/bf16.hpp"

namespace patchnet::cpu {

// Whether this build has the bf16 kernel.
#ifdef PATCHNET_HAVE_BF16_GEMM
inline constexpr bool kBf16GemmBuilt = true;
#else
inline constexpr bool kBf16GemmBuilt = false;
#endif

// Off: cpu::gemm uses float32 even under the bf16 policy, as on a CPU without the
// instructions (PATCHNET_NO_BF16=1, or tests forcing the fallback).
inline bool& bf16_gemm_switched_off() {
  static bool off = [] {
    const char* v = std::getenv("PATCHNET_NO_BF16");
    return v && *v && *v != '0';
  }();
  return off;
}
inline bool bf16_gemm_available() { return kBf16GemmBuilt && !bf16_gemm_switched_off(); }

// The deepest K slab of the bf16 kernel (K splits into equal slabs of at most this).
inline constexpr int64_t kBf16SlabK = 512;

#ifdef PATCHNET_HAVE_BF16_GEMM
namespace gemm_packed_detail {

// bf16 pairs along K: a packed element is the 32-bit pair (k, k + 1) of one row of op(A) or
// one column of op(B); a slab of kc is (kc + 1) / 2 packed steps.
struct Bf16Pairs {
  using Packed = uint32_t;
  static constexpr int kMR = 14, kNR = 32;
  static constexpr int64_t kKC = kBf16SlabK, kMC = 24 * kMR;
  static int64_t depth(int64_t kc) { return (kc + 1) / 2; }

  // Pairs (k, k + 1) of 16 consecutive r at k (the second row zero past the slab).
  static __m512i pairs_of_rows(const float* row_k, const float* row_k1) {
    const __m512i lo = _mm512_cvtepu16_epi32(reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(_mm512_loadu_ps(row_k))));
    const __m512i hi =
        row_k1 ? _mm512_cvtepu16_epi32(reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(_mm512_loadu_ps(row_k1))))
               : _mm512_setzero_si512();
    return _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16));
  }

  // Packs rows [r0, r0 + rows) x K [p0, p0 + kc) of X (stored as `trans` says) into panels
  // of `width` rows: dst[kp * width + i] = pair (k = p0 + 2 kp, + 1) of row r0 + i. Vector
  // conversions where 16 values lie contiguous, scalar (the same rounding) at the edges.
  template <int width>
  static void pack(bool trans, const float* X, int64_t ld, int64_t r0, int64_t rows, int64_t p0, int64_t kc,
                   uint32_t* dst) {
    const int64_t steps = depth(kc), full = kc / 2;  // full: steps with both k and k + 1 in the slab
    if (trans) {                                     // the values of one k lie along r
      for (int64_t kp = 0; kp < steps; ++kp) {
        const int64_t k = p0 + 2 * kp;
        const bool second = kp < full;
        uint32_t* d = dst + kp * width;
        int64_t i = 0;
        for (; i + 16 <= rows; i += 16)
          _mm512_storeu_si512(d + i, pairs_of_rows(X + k * ld + r0 + i, second ? X + (k + 1) * ld + r0 + i : nullptr));
        for (; i < rows; ++i) d[i] = math::bf16_pair(X[k * ld + r0 + i], second ? X[(k + 1) * ld + r0 + i] : 0.0f);
      }
    } else {  // the pairs of one row lie along k: 16 pairs from 32 floats
      alignas(64) uint32_t t[16];
      for (int64_t i = 0; i < rows; ++i) {
        const float* x = X + (r0 + i) * ld + p0;
        int64_t kp = 0;
        for (; kp + 16 <= full; kp += 16) {
          const __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(x + 2 * kp + 16), _mm512_loadu_ps(x + 2 * kp));
          _mm512_store_si512(t, reinterpret_cast<__m512i>(v));
          for (int q = 0; q < 16; ++q) dst[(kp + q) * width + i] = t[q];
        }
        for (; kp < steps; ++kp) dst[kp * width + i] = math::bf16_pair(x[2 * kp], kp < full ? x[2 * kp + 1] : 0.0f);
      }
    }
    if (rows < width)
      for (int64_t kp = 0; kp < steps; ++kp)
        for (int64_t i = rows; i < width; ++i) dst[kp * width + i] = 0;
  }

  static void pack_a(bool trans, const float* A, int64_t lda, int64_t i0, int64_t mc, int64_t p0, int64_t kc,
                     uint32_t* dst) {
    for (int64_t r = 0; r < mc; r += kMR, dst += kMR * depth(kc))
      pack<kMR>(trans, A, lda, i0 + r, std::min<int64_t>(kMR, mc - r), p0, kc, dst);
  }
  // op(B) = B [K, N] is op(B)^T = B stored transposed: the columns of op(B) are its rows.
  static void pack_b_panel(bool trans, const float* B, int64_t ldb, int64_t p0, int64_t kc, int64_t j0, int64_t cols,
                           uint32_t* dst) {
    pack<kNR>(!trans, B, ldb, j0, cols, p0, kc, dst);
  }

  static void micro_kernel(int64_t kc, const uint32_t* __restrict a, const uint32_t* __restrict b, float* C,
                           int64_t ldc, int64_t rows, int64_t cols, float alpha, bool overwrite) {
    __m512 c0[kMR], c1[kMR];
#pragma GCC unroll 16
    for (int i = 0; i < kMR; ++i) c0[i] = c1[i] = _mm512_setzero_ps();
    const int64_t steps = depth(kc);
    for (int64_t kp = 0; kp < steps; ++kp, a += kMR, b += kNR) {
      const __m512bh b0 = reinterpret_cast<__m512bh>(_mm512_loadu_si512(b));
      const __m512bh b1 = reinterpret_cast<__m512bh>(_mm512_loadu_si512(b + 16));
#pragma GCC unroll 16
      for (int i = 0; i < kMR; ++i) {
        const __m512bh ai = reinterpret_cast<__m512bh>(_mm512_set1_epi32(static_cast<int>(a[i])));
        c0[i] = _mm512_dpbf16_ps(c0[i], ai, b0);
        c1[i] = _mm512_dpbf16_ps(c1[i], ai, b1);
      }
    }
    const __m512 va = _mm512_set1_ps(alpha);
    if (rows == kMR && cols == kNR) {
#pragma GCC unroll 16
      for (int i = 0; i < kMR; ++i) {
        float* c = C + i * ldc;
        const __m512 x0 = _mm512_mul_ps(va, c0[i]), x1 = _mm512_mul_ps(va, c1[i]);
        _mm512_storeu_ps(c, overwrite ? x0 : _mm512_add_ps(_mm512_loadu_ps(c), x0));
        _mm512_storeu_ps(c + 16, overwrite ? x1 : _mm512_add_ps(_mm512_loadu_ps(c + 16), x1));
      }
      return;
    }
    alignas(64) float tile[kMR][kNR];
    for (int i = 0; i < kMR; ++i) {
      _mm512_store_ps(tile[i], c0[i]);
      _mm512_store_ps(tile[i] + 16, c1[i]);
    }
    add_tile(&tile[0][0], kNR, C, ldc, rows, cols, alpha, overwrite);
  }
};

#ifdef PATCHNET_HAVE_AMX_GEMM
// Whether AMX may run: the kernel grants the tile data state once per process
// (ARCH_REQ_XCOMP_PERM for XTILEDATA); PATCHNET_NO_AMX=1 keeps the AVX512-BF16 kernel.
inline bool amx_usable() {
  static const bool ok = [] {
    const char* v = std::getenv("PATCHNET_NO_AMX");
    if (v && *v && *v != '0') return false;
    constexpr long kReqXcompPerm = 0x1023, kXtiledata = 18;
    return syscall(SYS_arch_prctl, kReqXcompPerm, kXtiledata) == 0;
  }();
  return ok;
}

// Every tile 16 rows of 64 bytes; loaded once per thread (the tile configuration is
// per-thread state).
inline void amx_configure_thread() {
  thread_local bool configured = false;
  if (configured) return;
  alignas(64) unsigned char cfg[64] = {};
  cfg[0] = 1;  // palette 1
  for (int t = 0; t < 8; ++t) {
    cfg[16 + 2 * t] = 64;  // bytes per row (little-endian uint16)
    cfg[48 + t] = 16;      // rows
  }
  _tile_loadconfig(cfg);
  configured = true;
}

// AMX: 32 x 32 blocks of C; K in steps of 32 (16 pairs), zero-padded. A panel: for each step,
// 32 rows of 16 pairs (one 64-byte tile row each); B panel: for each step, 16 rows of 32
// column pairs (Bf16Pairs' layout, two 16-column tiles side by side).
struct Bf16Amx {
  using Packed = uint32_t;
  static constexpr int kMR = 32, kNR = 32;
  static constexpr int64_t kKC = kBf16SlabK, kMC = 8 * kMR;
  static int64_t depth(int64_t kc) { return (kc + 31) / 32 * 16; }

  static void pack_a(bool trans, const float* A, int64_t lda, int64_t i0, int64_t mc, int64_t p0, int64_t kc,
                     uint32_t* dst) {
    const int64_t steps = (kc + 31) / 32, full = kc / 2, pairs = (kc + 1) / 2;
    const __m512i row_offsets = _mm512_mullo_epi32(
        _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0), _mm512_set1_epi32(16));
    for (int64_t r = 0; r < mc; r += kMR, dst += kMR * depth(kc)) {
      const int64_t rows = std::min<int64_t>(kMR, mc - r);
      for (int64_t kb = 0; kb < steps; ++kb) {
        uint32_t* d = dst + kb * kMR * 16;
        const bool whole = (kb + 1) * 16 <= full;  // all 16 pairs inside the slab
        int64_t m = 0;
        if (whole && !trans) {  // a row's 32 values along K: one conversion, one 64-byte row
          for (; m < rows; ++m) {
            const float* x = A + (i0 + r + m) * lda + p0 + kb * 32;
            _mm512_storeu_si512(d + m * 16, reinterpret_cast<__m512i>(
                                                _mm512_cvtne2ps_pbh(_mm512_loadu_ps(x + 16), _mm512_loadu_ps(x))));
          }
        } else if (whole) {  // 16 rows' values of one k lie together: pairs scattered to the rows
          for (; m + 16 <= rows; m += 16)
            for (int64_t q = 0; q < 16; ++q) {
              const int64_t k = p0 + kb * 32 + 2 * q;
              const float* x = A + k * lda + i0 + r + m;
              _mm512_i32scatter_epi32(d + m * 16 + q, row_offsets, Bf16Pairs::pairs_of_rows(x, x + lda), 4);
            }
        }
        for (; m < rows; ++m)  // the rest, scalar (the same rounding)
          for (int64_t q = 0; q < 16; ++q) {
            const int64_t kp = kb * 16 + q, i = i0 + r + m, k = p0 + 2 * kp;
            uint32_t v = 0;
            if (kp < pairs) {
              const float lo = trans ? A[k * lda + i] : A[i * lda + k];
              const float hi = kp < full ? (trans ? A[(k + 1) * lda + i] : A[i * lda + k + 1]) : 0.0f;
              v = math::bf16_pair(lo, hi);
            }
            d[m * 16 + q] = v;
          }
        for (m = rows; m < kMR; ++m)
          for (int64_t q = 0; q < 16; ++q) d[m * 16 + q] = 0;
      }
    }
  }

  static void pack_b_panel(bool trans, const float* B, int64_t ldb, int64_t p0, int64_t kc, int64_t j0, int64_t cols,
                           uint32_t* dst) {
    Bf16Pairs::pack<kNR>(!trans, B, ldb, j0, cols, p0, kc, dst);
    for (int64_t kp = Bf16Pairs::depth(kc); kp < depth(kc); ++kp)
      for (int j = 0; j < kNR; ++j) dst[kp * kNR + j] = 0;
  }

  static void micro_kernel(int64_t kc, const uint32_t* a, const uint32_t* b, float* C, int64_t ldc, int64_t rows,
                           int64_t cols, float alpha, bool overwrite) {
    amx_configure_thread();
    _tile_zero(4);
    _tile_zero(5);
    _tile_zero(6);
    _tile_zero(7);
    const int64_t steps = (kc + 31) / 32;
    for (int64_t kb = 0; kb < steps; ++kb, a += kMR * 16, b += 16 * kNR) {
      _tile_loadd(0, a, 64);            // rows 0-15
      _tile_loadd(1, a + 16 * 16, 64);  // rows 16-31
      _tile_loadd(2, b, 128);           // columns 0-15
      _tile_loadd(3, b + 16, 128);      // columns 16-31
      _tile_dpbf16ps(4, 0, 2);
      _tile_dpbf16ps(5, 0, 3);
      _tile_dpbf16ps(6, 1, 2);
      _tile_dpbf16ps(7, 1, 3);
    }
    alignas(64) float tile[kMR][kNR];
    _tile_stored(4, &tile[0][0], 128);
    _tile_stored(5, &tile[0][16], 128);
    _tile_stored(6, &tile[16][0], 128);
    _tile_stored(7, &tile[16][16], 128);
    const __m512 va = _mm512_set1_ps(alpha);
    if (cols == kNR) {
      for (int64_t i = 0; i < rows; ++i)
        for (int h = 0; h < 2; ++h) {
          float* c = C + i * ldc + 16 * h;
          const __m512 x = _mm512_mul_ps(va, _mm512_load_ps(&tile[i][16 * h]));
          _mm512_storeu_ps(c, overwrite ? x : _mm512_add_ps(_mm512_loadu_ps(c), x));
        }
      return;
    }
    add_tile(&tile[0][0], kNR, C, ldc, rows, cols, alpha, overwrite);
  }
};
#endif

}  // namespace gemm_packed_detail
#endif

// Whether the AMX kernel runs (built for it, permitted by the kernel, not switched off).
inline bool bf16_amx_available() {
#ifdef PATCHNET_HAVE_AMX_GEMM
  return gemm_packed_detail::amx_usable();
#else
  return false;
#endif
}

// cpu::gemm's contract (cpu/gemm.hpp) with op(A) and op(B) rounded to bf16: AMX where
// bf16_amx_available(), else AVX512-BF16. Only where bf16_gemm_available() (an Error
// elsewhere); the two kernels by name for tests and benchmarks.
inline void gemm_bf16_pairs(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                            int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
#ifdef PATCHNET_HAVE_BF16_GEMM
  gemm_packed_detail::run<gemm_packed_detail::Bf16Pairs>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C,
                                                         ldc);
#else
  (void)trans_a, (void)trans_b, (void)M, (void)N, (void)K, (void)alpha, (void)A, (void)lda, (void)B, (void)ldb;
  (void)beta, (void)C, (void)ldc;
  fail(
      "gemm_bf16_pairs: this build has no AVX512-BF16 kernel (it needs a compiler targeting AVX512-BF16, "
      "-march=native on such a CPU)");
#endif
}

inline void gemm_bf16_amx(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  PN_CHECK(bf16_amx_available(), "gemm_bf16_amx: no AMX here (not built for it, not permitted by the kernel, or ",
           "PATCHNET_NO_AMX)");
#ifdef PATCHNET_HAVE_AMX_GEMM
  gemm_packed_detail::run<gemm_packed_detail::Bf16Amx>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
#else
  (void)trans_a, (void)trans_b, (void)M, (void)N, (void)K, (void)alpha, (void)A, (void)lda, (void)B, (void)ldb;
  (void)beta, (void)C, (void)ldc;
#endif
}

inline void gemm_packed_bf16(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                             int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (bf16_amx_available()) return gemm_bf16_amx(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  gemm_bf16_pairs(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace patchnet::cpu
