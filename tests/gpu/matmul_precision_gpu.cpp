// The matmul precision policy (core/precision.hpp) on CUDA: fp32 products are float32;
// tf32 and bf16 go to cuBLAS's fast compute types, which round the inputs (as math/bf16.hpp
// rounds them: the emulator does exactly that) and sum in float32. Each is checked against
// the exact sums of its rounded inputs within float32 summation's bound, and the CPU's bf16
// product against the GPU's (two orders of the same sums).
#include <cmath>

#include "gpu/gpu_runner.hpp"
#include "patchnet/core/precision.hpp"
#include "patchnet/cpu/gemm.hpp"
#include "patchnet/cuda/runtime.hpp"
#include "patchnet/math/bf16.hpp"
#include "patchnet/ops/matmul.hpp"

using namespace patchnet;

namespace {

float rounded(MatmulPrecision p, float v) {
  return p == MatmulPrecision::BF16 ? math::round_bf16(v) : p == MatmulPrecision::TF32 ? math::round_tf32(v) : v;
}

// Elements of the GPU product farther from the exact sums of the rounded inputs than any
// float32 summation order allows.
int64_t outside_bound(MatmulPrecision p, const Tensor<float>& x, const Tensor<float>& w, const Tensor<float>& y) {
  const int64_t M = x.size(0), K = x.size(1), N = w.size(1);
  const std::vector<float> xv = x.to_vector(), wv = w.to_vector(), yv = y.to_vector();
  int64_t bad = 0;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double exact = 0, mag = 0;
      for (int64_t k = 0; k < K; ++k) {
        const double prod = static_cast<double>(rounded(p, xv[static_cast<size_t>(i * K + k)])) *
                            rounded(p, wv[static_cast<size_t>(k * N + j)]);
        exact += prod;
        mag += std::abs(prod);
      }
      const double bound = (static_cast<double>(K) + 2) * std::ldexp(1.0, -24) * mag;
      bad += !(std::abs(yv[static_cast<size_t>(i * N + j)] - exact) <= bound);
    }
  return bad;
}

}  // namespace

TEST_CASE("cuda: matmul under each precision policy sums its rounded inputs in float32") {
  const Tensor<float> x = uniform<float>({48, 200}, 71), w = uniform<float>({200, 40}, 72);
  const Tensor<float> xg = x.to(Device::cuda()), wg = w.to(Device::cuda());
  std::vector<float> fp32;
  for (MatmulPrecision p : {MatmulPrecision::FP32, MatmulPrecision::TF32, MatmulPrecision::BF16}) {
    const MatmulPrecisionScope scope(p);
    const Tensor<float> y = matmul(xg, wg);
    REQUIRE(y.is_cuda());
    INFO("precision ", to_string(p));
    CHECK(outside_bound(p, x, w, y) == 0);
    if (p == MatmulPrecision::FP32) fp32 = y.to_vector();
    if (p == MatmulPrecision::BF16) {
      if (cpu::bf16_gemm_available())  // else the CPU computes float32 (said once)
        check_close(y.to(Device::cpu()), matmul(x, w), 1e-5, 1e-5, "bf16 product, GPU against CPU");
      if (std::string(cuda::device_name(0)).find("emulator") != std::string::npos)
        CHECK(y.to_vector() != fp32);  // the emulator rounds as told (cuBLAS may decline)
    }
  }
  CHECK(matmul_precision() == MatmulPrecision::FP32);
}
