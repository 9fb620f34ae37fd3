// The precision of float32 matrix products and convolutions, a process-wide policy like
// PyTorch's torch.set_float32_matmul_precision. Tensors stay float32; under a lower
// precision the products round their inputs and accumulate in float32:
//
//   fp32  exact float32 products (the default)
//   tf32  inputs rounded to TF32 (10 mantissa bits): cuBLAS on GPUs with TF32 tensor cores;
//         the CPU has no TF32 and computes float32 (saying so once)
//   bf16  inputs rounded to bfloat16 (7 mantissa bits): on the CPU the AVX512-BF16 GEMM
//         (cpu/gemm_bf16.hpp; float32 where the build or the CPU lacks it, said once), on the
//         GPU cuBLAS's bf16 compute type
//
// It covers the GEMMs behind linear layers and the pointwise, strided-patch and im2col
// convolutions of float tensors. Depthwise convolution and involution (no GEMM), double
// tensors, and CPU products below 16 in a dimension (left to Eigen) stay exact.
#pragma once

#include <atomic>
#include <cstdio>
#include <string_view>

#include "patchnet/core/error.hpp"

namespace patchnet {

enum class MatmulPrecision : int { FP32 = 0, TF32 = 1, BF16 = 2 };

namespace detail {
inline std::atomic<int>& matmul_precision_slot() {
  static std::atomic<int> p{static_cast<int>(MatmulPrecision::FP32)};
  return p;
}
}  // namespace detail

inline void set_matmul_precision(MatmulPrecision p) {
  detail::matmul_precision_slot().store(static_cast<int>(p), std::memory_order_relaxed);
}
inline MatmulPrecision matmul_precision() {
  return static_cast<MatmulPrecision>(detail::matmul_precision_slot().load(std::memory_order_relaxed));
}

inline const char* to_string(MatmulPrecision p) {
  switch (p) {
    case MatmulPrecision::FP32:
      return "fp32";
    case MatmulPrecision::TF32:
      return "tf32";
    case MatmulPrecision::BF16:
      return "bf16";
  }
  return "?";
}

// "fp32", "tf32" or "bf16"; anything else is an Error naming the choices.
inline MatmulPrecision parse_matmul_precision(std::string_view s) {
  for (MatmulPrecision p : {MatmulPrecision::FP32, MatmulPrecision::TF32, MatmulPrecision::BF16})
    if (s == to_string(p)) return p;
  fail("matmul precision '", std::string(s), "' must be fp32, tf32 or bf16");
}

// Sets the policy for a scope (tests, a benchmark case) and restores the previous one.
class MatmulPrecisionScope {
 public:
  explicit MatmulPrecisionScope(MatmulPrecision p) : saved_(matmul_precision()) { set_matmul_precision(p); }
  ~MatmulPrecisionScope() { set_matmul_precision(saved_); }
  MatmulPrecisionScope(const MatmulPrecisionScope&) = delete;
  MatmulPrecisionScope& operator=(const MatmulPrecisionScope&) = delete;

 private:
  MatmulPrecision saved_;
};

}  // namespace patchnet
