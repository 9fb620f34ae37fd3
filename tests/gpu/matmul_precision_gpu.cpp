// The matmul precision policy (core/precision.hpp) on CUDA: fp32 products are float32;
// tf32 and bf16 go to cuBLAS's fast compute types, which round the inputs and sum in
// float32. On the emulator, which rounds as math/bf16.hpp does (to nearest even), each is
// checked against the exact sums of its rounded inputs within float32 summation's bound.
// cuBLAS does not document how its tensor cores round (to nearest, or by dropping bits), nor
// that it uses them for every shape, so on a GPU tf32 and bf16 are checked against the exact
// sums of the unrounded inputs, within a bound that admits either rounding; the CPU's bf16
// product is compared with the GPU's only on the emulator.
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
// float32 summation order allows; with `any_rounding`, from the exact sums of the unrounded
// inputs, allowing each input a relative error of one unit of the compute type's last place.
int64_t outside_bound(MatmulPrecision p, const Tensor<float>& x, const Tensor<float>& w, const Tensor<float>& y,
                      bool any_rounding = false) {
  const int bits = p == MatmulPrecision::BF16 ? 7 : p == MatmulPrecision::TF32 ? 10 : 23;  // explicit mantissa bits
  const double input_error = any_rounding ? 2 * std::ldexp(1.0, -bits) + std::ldexp(1.0, -2 * bits) : 0.0;
  const int64_t M = x.size(0), K = x.size(1), N = w.size(1);
  const std::vector<float> xv = x.to_vector(), wv = w.to_vector(), yv = y.to_vector();
  int64_t bad = 0;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double exact = 0, mag = 0;
      for (int64_t k = 0; k < K; ++k) {
        const float xi = xv[static_cast<size_t>(i * K + k)], wj = wv[static_cast<size_t>(k * N + j)];
        const double prod =
            any_rounding ? static_cast<double>(xi) * wj : static_cast<double>(rounded(p, xi)) * rounded(p, wj);
        exact += prod;
        mag += std::abs(prod);
      }
      const double bound = ((static_cast<double>(K) + 2) * std::ldexp(1.0, -24) + input_error) * mag;
      bad += !(std::abs(yv[static_cast<size_t>(i * N + j)] - exact) <= bound);
    }
  return bad;
}

}  // namespace

TEST_CASE("cuda: matmul under each precision policy sums its rounded inputs in float32") {
  const Tensor<float> x = uniform<float>({48, 200}, 71), w = uniform<float>({200, 40}, 72);
  const Tensor<float> xg = x.to(Device::cuda()), wg = w.to(Device::cuda());
  const bool emulator = std::string(cuda::device_name(0)).find("emulator") != std::string::npos;
  std::vector<float> fp32;
  for (MatmulPrecision p : {MatmulPrecision::FP32, MatmulPrecision::TF32, MatmulPrecision::BF16}) {
    const MatmulPrecisionScope scope(p);
    const Tensor<float> y = matmul(xg, wg);
    REQUIRE(y.is_cuda());
    INFO("precision ", to_string(p));
    if (emulator || p == MatmulPrecision::FP32) CHECK(outside_bound(p, x, w, y) == 0);
    else CHECK(outside_bound(p, x, w, y, /*any_rounding=*/true) == 0);
    if (p == MatmulPrecision::FP32) fp32 = y.to_vector();
    if (p == MatmulPrecision::BF16 && emulator) {
      if (cpu::bf16_gemm_available())  // else the CPU computes float32 (said once)
        check_close(y.to(Device::cpu()), matmul(x, w), 1e-5, 1e-5, "bf16 product, GPU against CPU");
      CHECK(y.to_vector() != fp32);  // the emulator rounds as told (cuBLAS may decline)
    }
  }
  CHECK(matmul_precision() == MatmulPrecision::FP32);
}
