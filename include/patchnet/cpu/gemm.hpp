// The one CPU matrix product: C = alpha * op(A) op(B) + beta * C on row-major matrices
// with leading dimensions. Linear layers, pointwise and im2col convolutions all land here.
// float goes to patchnet's packed kernel (cpu/gemm_packed.hpp), or under the bf16 precision
// policy (core/precision.hpp) to its bf16 twin (cpu/gemm_bf16.hpp); double, which the
// gradient checks use, to Eigen (blocked, vectorised, multithreaded with OpenMP), as does
// float in gemm_eigen, kept as the reference the benchmarks compare against.
#pragma once

#include <Eigen/Core>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <type_traits>

#include "patchnet/core/precision.hpp"
#include "patchnet/cpu/gemm_bf16.hpp"
#include "patchnet/cpu/gemm_packed.hpp"

namespace patchnet::cpu {

// op(A) is [M, K]: A is stored [M, K] (lda >= K) or, with trans_a, [K, M] (lda >= M).
// op(B) is [K, N]: B is stored [K, N] (ldb >= N) or, with trans_b, [N, K] (ldb >= K).
// C is [M, N] (ldc >= N). beta == 0 ignores C's old contents (NaN included).
template <class T>
void gemm_eigen(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
                const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using CMap = Eigen::Map<const Mat, Eigen::Unaligned, Eigen::OuterStride<>>;
  using MMap = Eigen::Map<Mat, Eigen::Unaligned, Eigen::OuterStride<>>;
  MMap c(C, M, N, Eigen::OuterStride<>(ldc));
  if (M == 0 || N == 0) return;
  if (beta == T(0)) c.setZero();
  else if (beta != T(1)) c *= beta;
  if (K == 0) return;
  const CMap a(A, trans_a ? K : M, trans_a ? M : K, Eigen::OuterStride<>(lda));
  const CMap b(B, trans_b ? N : K, trans_b ? K : N, Eigen::OuterStride<>(ldb));
  if (!trans_a && !trans_b) c.noalias() += alpha * a * b;
  else if (trans_a && !trans_b) c.noalias() += alpha * a.transpose() * b;
  else if (!trans_a && trans_b) c.noalias() += alpha * a * b.transpose();
  else c.noalias() += alpha * a.transpose() * b.transpose();
}

// PATCHNET_GEMM=eigen in the environment sends float to Eigen too: for timing a whole step
// both ways in one session (docs/performance.md), and for ruling the kernel out.
inline bool float_gemm_uses_eigen() {
  static const bool eigen = [] {
    const char* v = std::getenv("PATCHNET_GEMM");
    return v && std::string_view(v) == "eigen";
  }();
  return eigen;
}

// Skinny products (the involution network's 1x1 convolutions to 1 and 9 channels, from 3
// and 1) would fill a thirty-second of the packed kernel's 14 x 32 tile with work: below 16
// in any dimension they stay on Eigen.
// A lower precision policy that the CPU cannot honour computes float32 and says so (once
// per policy).
inline bool cpu_bf16_products() {
  const MatmulPrecision p = matmul_precision();
  if (p == MatmulPrecision::FP32) return false;
  if (p == MatmulPrecision::BF16 && bf16_gemm_available()) return true;
  static std::atomic<bool> said[3] = {};
  if (!said[static_cast<int>(p)].exchange(true))
    std::fprintf(stderr, "patchnet: matmul precision %s: %s; CPU matrix products stay float32\n", to_string(p),
                 p == MatmulPrecision::TF32 ? "CPUs have no TF32"
                 : kBf16GemmBuilt           ? "the bf16 kernel is switched off (PATCHNET_NO_BF16)"
                                            : "this build has no bf16 kernel (it needs AVX512-BF16 and -march=native)");
  return false;
}

template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
          int64_t ldb, T beta, T* C, int64_t ldc) {
  if constexpr (std::is_same_v<T, float>)
    if (M >= 16 && N >= 16 && K >= 16 && !float_gemm_uses_eigen()) {
      if (cpu_bf16_products()) return gemm_packed_bf16(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
      return gemm_packed(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    }
  gemm_eigen<T>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace patchnet::cpu
