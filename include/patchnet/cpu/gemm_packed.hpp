// patchnet's own float32 matrix product, C = alpha op(A) op(B) + beta C on row-major
// matrices, in the BLIS/GotoBLAS shape:
//
//   for each KC-deep slab of K:                                 (C accumulates slab by slab)
//     pack op(B)[slab, :] into NR-wide column panels            (each thread for itself)
//     for each MC-row block of the thread's share of M:
//       pack op(A)[block, slab] into MR-row panels
//       for each B panel, for each A panel: the MR x NR micro-kernel over the slab
//
// The micro-kernel keeps an MR x NR tile of C in registers (2 vectors a row) and reads one
// packed A column (MR scalars, broadcast) and one packed B row (NR floats) per step of k:
// 2*MR*NR FLOPs for MR + NR floats loaded, with the B panel (KC x NR, 32 KiB with AVX-512)
// in L1 and the A block (MC x KC) in L2. Packing makes every transpose case the same
// kernel, with zero padding at the edges. The vectors are GCC/Clang vector extensions: the
// same code is AVX-512 (MR 14, 28 accumulators of the 32 registers), AVX2 or SSE (MR 6)
// where the compiler targets it, so CI machines without AVX-512 test the same algorithm.
//
// Threads split M (never K; cpu::parallel_for over the MR-row panels), so each C element
// sums its products in the same order for any thread count: results do not depend on
// OMP_NUM_THREADS. Buffers are per thread and reused (no allocation in a training step
// after the first).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "patchnet/cpu/parallel.hpp"

namespace patchnet::cpu {
namespace gemm_packed_detail {

#if defined(__AVX512F__)
inline constexpr int kLanes = 16, kMR = 14;
#elif defined(__AVX__)
inline constexpr int kLanes = 8, kMR = 6;
#else
inline constexpr int kLanes = 4, kMR = 6;
#endif
inline constexpr int kNR = 2 * kLanes;
inline constexpr int64_t kKC = 256;
inline constexpr int64_t kMC = 24 * kMR;

typedef float Vec __attribute__((vector_size(kLanes * sizeof(float))));
typedef float VecU __attribute__((vector_size(kLanes * sizeof(float)), aligned(4), may_alias));

inline Vec load(const float* p) { return *reinterpret_cast<const VecU*>(p); }
inline void store(float* p, Vec v) { *reinterpret_cast<VecU*>(p) = v; }

// 64-byte aligned storage of E that only grows.
template <class E>
class BufferOf {
 public:
  E* get(int64_t n) {
    if (n > size_) {
      data_.assign(static_cast<size_t>(n + 64 / sizeof(E)), E{});
      size_ = n;
    }
    const auto addr = reinterpret_cast<std::uintptr_t>(data_.data());
    return data_.data() + ((64 - addr % 64) % 64) / sizeof(E);
  }

 private:
  std::vector<E> data_;
  int64_t size_ = 0;
};

// op(A)[i0 .. i0+mc, p0 .. p0+kc] as MR-row panels: panel r holds kc columns of MR floats.
inline void pack_a(bool trans, const float* A, int64_t lda, int64_t i0, int64_t mc, int64_t p0, int64_t kc,
                   float* dst) {
  for (int64_t r = 0; r < mc; r += kMR, dst += kMR * kc) {
    const int64_t rows = std::min<int64_t>(kMR, mc - r);
    if (trans) {  // A stored [K, M]: each k's MR values are contiguous
      for (int64_t k = 0; k < kc; ++k) {
        const float* src = A + (p0 + k) * lda + i0 + r;
        float* d = dst + k * kMR;
        if (rows == kMR) {  // a fixed count: vector moves, not a memcpy call
          for (int i = 0; i < kMR; ++i) d[i] = src[i];
          continue;
        }
        for (int64_t i = 0; i < rows; ++i) d[i] = src[i];
        for (int64_t i = rows; i < kMR; ++i) d[i] = 0.0f;
      }
    } else {  // A stored [M, K]: MR row streams, written interleaved
      for (int64_t k = 0; k < kc; ++k) {
        const float* src = A + (i0 + r) * lda + p0 + k;
        float* d = dst + k * kMR;
        for (int64_t i = 0; i < rows; ++i) d[i] = src[i * lda];
        for (int64_t i = rows; i < kMR; ++i) d[i] = 0.0f;
      }
    }
  }
}

// op(B)[p0 .. p0+kc, j0 .. j0+nc] as NR-column panels: panel c holds kc rows of NR floats.
inline void pack_b_panel(bool trans, const float* B, int64_t ldb, int64_t p0, int64_t kc, int64_t j0, int64_t cols,
                         float* dst) {
  if (!trans) {  // B stored [K, N]: each k's NR values are contiguous
    for (int64_t k = 0; k < kc; ++k) {
      const float* src = B + (p0 + k) * ldb + j0;
      float* d = dst + k * kNR;
      if (cols == kNR) {
        store(d, load(src));
        store(d + kLanes, load(src + kLanes));
      } else {
        for (int64_t j = 0; j < cols; ++j) d[j] = src[j];
        for (int64_t j = cols; j < kNR; ++j) d[j] = 0.0f;
      }
    }
    return;
  }
  for (int64_t k = 0; k < kc; ++k) {  // B stored [N, K]
    float* d = dst + k * kNR;
    for (int64_t j = 0; j < cols; ++j) d[j] = B[(j0 + j) * ldb + p0 + k];
    for (int64_t j = cols; j < kNR; ++j) d[j] = 0.0f;
  }
}

// A micro-kernel's partial tile into C: C[0 .. rows, 0 .. cols] (+)= alpha * tile (every
// kernel's edge path; `overwrite` ignores C's old contents).
inline void add_tile(const float* tile, int64_t tile_ld, float* C, int64_t ldc, int64_t rows, int64_t cols, float alpha,
                     bool overwrite) {
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      float& c = C[i * ldc + j];
      c = overwrite ? alpha * tile[i * tile_ld + j] : c + alpha * tile[i * tile_ld + j];
    }
}

// C[0 .. rows, 0 .. cols] (+)= alpha * (a panel x b panel) over kc; `overwrite` ignores C's
// old contents (the first slab when beta is 0).
inline void micro_kernel(int64_t kc, const float* __restrict a, const float* __restrict b, float* C, int64_t ldc,
                         int64_t rows, int64_t cols, float alpha, bool overwrite) {
  Vec c0[kMR], c1[kMR];
#pragma GCC unroll 16
  for (int i = 0; i < kMR; ++i) c0[i] = c1[i] = Vec{};
  for (int64_t k = 0; k < kc; ++k, a += kMR, b += kNR) {
    const Vec b0 = load(b), b1 = load(b + kLanes);
#pragma GCC unroll 16
    for (int i = 0; i < kMR; ++i) {
      c0[i] += a[i] * b0;
      c1[i] += a[i] * b1;
    }
  }
  if (rows == kMR && cols == kNR) {
#pragma GCC unroll 16
    for (int i = 0; i < kMR; ++i) {
      float* c = C + i * ldc;
      store(c, overwrite ? alpha * c0[i] : load(c) + alpha * c0[i]);
      store(c + kLanes, overwrite ? alpha * c1[i] : load(c + kLanes) + alpha * c1[i]);
    }
    return;
  }
  alignas(64) float tile[kMR][kNR];
  for (int i = 0; i < kMR; ++i) {
    store(tile[i], c0[i]);
    store(tile[i] + kLanes, c1[i]);
  }
  add_tile(&tile[0][0], kNR, C, ldc, rows, cols, alpha, overwrite);
}

// Per-thread packing buffers, one pair per packed element type.
template <class E>
BufferOf<E>& a_buffer() {
  thread_local BufferOf<E> b;
  return b;
}
template <class E>
BufferOf<E>& b_buffer() {
  thread_local BufferOf<E> b;
  return b;
}

// The float32 format of the driver below: panels of floats, one k per step.
struct F32 {
  using Packed = float;
  static constexpr int kMR = gemm_packed_detail::kMR, kNR = gemm_packed_detail::kNR;
  static constexpr int64_t kKC = gemm_packed_detail::kKC, kMC = gemm_packed_detail::kMC;
  static int64_t depth(int64_t kc) { return kc; }  // packed steps of a kc-deep slab
  static void pack_a(bool t, const float* A, int64_t lda, int64_t i0, int64_t mc, int64_t p0, int64_t kc, float* d) {
    gemm_packed_detail::pack_a(t, A, lda, i0, mc, p0, kc, d);
  }
  static void pack_b_panel(bool t, const float* B, int64_t ldb, int64_t p0, int64_t kc, int64_t j0, int64_t cols,
                           float* d) {
    gemm_packed_detail::pack_b_panel(t, B, ldb, p0, kc, j0, cols, d);
  }
  static void micro_kernel(int64_t kc, const float* a, const float* b, float* C, int64_t ldc, int64_t rows,
                           int64_t cols, float alpha, bool overwrite) {
    gemm_packed_detail::micro_kernel(kc, a, b, C, ldc, rows, cols, alpha, overwrite);
  }
};

// The BLIS loops around a format's packing and micro-kernel (F32 here; cpu/gemm_bf16.hpp's
// bf16 pairs): the contract of gemm_packed.
template <class Fmt>
void run(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
         const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  using P = typename Fmt::Packed;
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == 0.0f || (beta != 0.0f && beta != 1.0f)) {
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
    if (K <= 0 || alpha == 0.0f) return;
    beta = 1.0f;
  }
  const int64_t m_panels = (M + Fmt::kMR - 1) / Fmt::kMR, n_panels = (N + Fmt::kNR - 1) / Fmt::kNR;
  // K in equal slabs of at most kKC (288 is two of 144, not 256 and a thin 32).
  const int64_t slabs = (K + Fmt::kKC - 1) / Fmt::kKC, kc_max = (K + slabs - 1) / slabs;
  const int64_t depth_max = Fmt::depth(kc_max);
  // Below about a million multiply-adds a second thread costs more than it saves.
  const int64_t grain = M * N * K >= (int64_t{1} << 20) ? 1 : m_panels;

  // Each thread takes one contiguous run of MR-row panels (parallel_for's chunk), in blocks
  // of at most kMC rows, and packs each B slab for itself: the duplicated packing is K*N per
  // thread against (M/threads)*N*K multiply-adds, and in exchange the threads never wait for
  // each other.
  parallel_for(0, m_panels, grain, [&](int64_t panel_lo, int64_t panel_hi) {
    const int64_t lo = panel_lo * Fmt::kMR, hi = std::min(M, panel_hi * Fmt::kMR);
    P* packed_a = a_buffer<P>().get(Fmt::kMC * depth_max);
    P* packed_b = b_buffer<P>().get(n_panels * Fmt::kNR * depth_max);
    for (int64_t p0 = 0; p0 < K; p0 += kc_max) {
      const int64_t kc = std::min<int64_t>(kc_max, K - p0), depth = Fmt::depth(kc);
      const bool overwrite = p0 == 0 && beta == 0.0f;
      for (int64_t c = 0; c < n_panels; ++c)
        Fmt::pack_b_panel(trans_b, B, ldb, p0, kc, c * Fmt::kNR, std::min<int64_t>(Fmt::kNR, N - c * Fmt::kNR),
                          packed_b + c * Fmt::kNR * depth);
      for (int64_t i0 = lo; i0 < hi; i0 += Fmt::kMC) {
        const int64_t rows = std::min<int64_t>(Fmt::kMC, hi - i0);
        Fmt::pack_a(trans_a, A, lda, i0, rows, p0, kc, packed_a);
        for (int64_t c = 0; c < n_panels; ++c) {
          const int64_t j0 = c * Fmt::kNR, cols = std::min<int64_t>(Fmt::kNR, N - j0);
          for (int64_t r = 0; r < rows; r += Fmt::kMR)
            Fmt::micro_kernel(kc, packed_a + r * depth, packed_b + c * Fmt::kNR * depth, C + (i0 + r) * ldc + j0, ldc,
                              std::min<int64_t>(Fmt::kMR, rows - r), cols, alpha, overwrite);
        }
      }
    }
  });
}

}  // namespace gemm_packed_detail

// Same contract as cpu::gemm (cpu/gemm.hpp): op(A) [M, K], op(B) [K, N], C [M, N];
// beta == 0 ignores C's old contents (NaN included).
inline void gemm_packed(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                        int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  gemm_packed_detail::run<gemm_packed_detail::F32>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace patchnet::cpu
