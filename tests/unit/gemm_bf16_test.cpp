// The bf16 precision policy on the CPU: bfloat16 and TF32 rounding (math/bf16.hpp); the
// AVX512-BF16 GEMM (cpu/gemm_bf16.hpp) against float32 sums of bf16-rounded inputs taken in
// the kernel's order, bit for bit (VDPBF16PS adds the pair's high product, then its low
// one, each rounded once); the AMX GEMM, whose tile order is the hardware's, against the
// exact sums of the same rounded inputs within float32 summation's bound; and the dispatch
// of cpu::gemm under each policy, the fallback included.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "patchnet/core/precision.hpp"
#include "patchnet/cpu/gemm.hpp"
#include "patchnet/math/bf16.hpp"
#include "patchnet/ops/matmul.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

using namespace patchnet;

namespace {

float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

struct Product {
  bool ta = false, tb = false;
  int64_t M, N, K, lda, ldb, ldc;
  float alpha, beta;
  std::vector<float> A, B, C;
  Product(bool ta_, bool tb_, int64_t m, int64_t n, int64_t k, float alpha_, float beta_, uint32_t seed)
      : ta(ta_), tb(tb_), M(m), N(n), K(k), alpha(alpha_), beta(beta_) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-1, 1);
    lda = (ta ? M : K) + static_cast<int64_t>(rng() % 3);
    ldb = (tb ? K : N) + static_cast<int64_t>(rng() % 3);
    ldc = N + static_cast<int64_t>(rng() % 3);
    A.resize(static_cast<size_t>((ta ? K : M) * lda));
    B.resize(static_cast<size_t>((tb ? N : K) * ldb));
    C.resize(static_cast<size_t>(M * ldc));
    for (float& v : A) v = u(rng);
    for (float& v : B) v = u(rng);
    for (float& v : C) v = beta == 0 ? std::numeric_limits<float>::quiet_NaN() : u(rng);
  }
  float a(int64_t i, int64_t k) const { return ta ? A[k * lda + i] : A[i * lda + k]; }
  float b(int64_t k, int64_t j) const { return tb ? B[j * ldb + k] : B[k * ldb + j]; }
  template <class Gemm>
  std::vector<float> run(Gemm gemm) const {
    std::vector<float> c = C;
    gemm(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, c.data(), ldc);
    return c;
  }
  // The bf16 kernel's arithmetic, scalar: K in its slabs, pairs (k, k + 1) with the k + 1
  // product added first, each addition rounded once (fma: the bf16 products are exact).
  std::vector<float> reference() const {
    const int64_t slabs = (K + cpu::kBf16SlabK - 1) / cpu::kBf16SlabK, kc_max = (K + slabs - 1) / slabs;
    std::vector<float> c = C;
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        float& out = c[static_cast<size_t>(i * ldc + j)];
        for (int64_t p0 = 0; p0 < K; p0 += kc_max) {
          const int64_t end = std::min(K, p0 + kc_max);
          float acc = 0;
          for (int64_t k = p0; k < end; k += 2) {
            if (k + 1 < end) acc = std::fma(math::round_bf16(a(i, k + 1)), math::round_bf16(b(k + 1, j)), acc);
            acc = std::fma(math::round_bf16(a(i, k)), math::round_bf16(b(k, j)), acc);
          }
          out = p0 == 0 && beta == 0 ? alpha * acc : out + alpha * acc;
        }
      }
    return c;
  }
};

// Bit for bit (the padding past N of a beta = 0 product holds NaN, which == would refuse).
bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), sizeof(float) * a.size()) == 0;
}

const auto packed_f32 = [](auto... x) { cpu::gemm_packed(x...); };
const auto packed_bf16 = [](auto... x) { cpu::gemm_packed_bf16(x...); };
const auto pairs_bf16 = [](auto... x) { cpu::gemm_bf16_pairs(x...); };
const auto amx_bf16 = [](auto... x) { cpu::gemm_bf16_amx(x...); };
const auto dispatched = [](auto... x) { cpu::gemm<float>(x...); };

}  // namespace

TEST_CASE("bf16 and TF32: rounding to nearest even, infinities, NaN, denormals") {
  CHECK(math::bf16_bits(1.0f) == 0x3F80);
  CHECK(math::bf16_bits(from_bits(0x3F808000u)) == 0x3F80);  // 1 + 2^-8: a tie, to even
  CHECK(math::bf16_bits(from_bits(0x3F818000u)) == 0x3F82);  // 1 + 3 * 2^-8: a tie, to even
  CHECK(math::bf16_bits(from_bits(0x3F808001u)) == 0x3F81);  // just above the tie
  CHECK(math::bf16_bits(-2.5f) == 0xC020);
  CHECK(math::bf16_bits(std::numeric_limits<float>::max()) == 0x7F80);  // rounds up to infinity
  CHECK(math::bf16_bits(std::numeric_limits<float>::infinity()) == 0x7F80);
  CHECK(math::bf16_bits(-std::numeric_limits<float>::infinity()) == 0xFF80);
  CHECK(std::isnan(math::round_bf16(std::numeric_limits<float>::quiet_NaN())));
  CHECK(std::isnan(math::round_bf16(from_bits(0x7F800001u))));  // a signalling NaN stays a NaN
  CHECK(math::bf16_bits(1e-40f) == 0x0000);                     // a denormal is a zero of its sign
  CHECK(math::bf16_bits(-1e-40f) == 0x8000);
  CHECK(math::bf16_pair(1.0f, -2.5f) == 0xC0203F80u);
  CHECK(math::round_tf32(from_bits(0x3F801000u)) == 1.0f);                    // 1 + 2^-11: a tie, to even
  CHECK(math::round_tf32(from_bits(0x3F803000u)) == from_bits(0x3F804000u));  // 1 + 3 * 2^-11: to even
  CHECK(std::isinf(math::round_tf32(std::numeric_limits<float>::infinity())));
}

TEST_CASE("gemm_bf16_pairs: float32 sums of bf16-rounded inputs in the kernel's order, bit for bit") {
  if (!cpu::kBf16GemmBuilt) {
    MESSAGE("this build has no bf16 kernel (no AVX512-BF16 target): the fallback is tested below");
    return;
  }
  std::mt19937 rng(5);
  for (int t = 0; t < 40; ++t) {
    const bool ta = (t & 1) != 0, tb = (t & 2) != 0;
    // Small and ragged shapes, K odd and past a slab, and the vector packing paths (>= 16
    // rows along the contiguous side, >= 32 along K).
    const int64_t M = 1 + static_cast<int64_t>(rng() % (t < 20 ? 40 : 150));
    const int64_t N = 1 + static_cast<int64_t>(rng() % (t < 20 ? 70 : 100));
    const int64_t K = 1 + static_cast<int64_t>(rng() % (t < 30 ? 200 : 1300));
    const Product p(ta, tb, M, N, K, t % 3 ? 1.0f : 0.5f, t % 4 ? 0.0f : 1.0f, 100 + static_cast<uint32_t>(t));
    INFO("ta ", ta, " tb ", tb, " M ", M, " N ", N, " K ", K);
    CHECK(same_bits(p.run(pairs_bf16), p.reference()));
  }
}

TEST_CASE("gemm_bf16_amx: the exact sums of bf16-rounded inputs, within float32 summation's bound") {
  if (!cpu::bf16_amx_available()) {
    MESSAGE("no AMX here (not built for it or not permitted): the AVX512-BF16 kernel serves the bf16 policy");
    return;
  }
  std::mt19937 rng(6);
  for (int t = 0; t < 40; ++t) {
    const bool ta = (t & 1) != 0, tb = (t & 2) != 0;
    const int64_t M = 1 + static_cast<int64_t>(rng() % (t < 20 ? 40 : 150));
    const int64_t N = 1 + static_cast<int64_t>(rng() % (t < 20 ? 70 : 100));
    const int64_t K = 1 + static_cast<int64_t>(rng() % (t < 30 ? 200 : 1300));
    const Product p(ta, tb, M, N, K, t % 3 ? 1.0f : 0.5f, t % 4 ? 0.0f : 1.0f, 300 + static_cast<uint32_t>(t));
    INFO("ta ", ta, " tb ", tb, " M ", M, " N ", N, " K ", K);
    const std::vector<float> c = p.run(amx_bf16);
    int64_t bad = 0;
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double exact = 0, mag = 0;
        for (int64_t k = 0; k < K; ++k) {
          const double prod = static_cast<double>(math::round_bf16(p.a(i, k))) * math::round_bf16(p.b(k, j));
          exact += prod;
          mag += std::abs(prod);
        }
        const double old = p.beta == 0 ? 0.0 : p.C[static_cast<size_t>(i * p.ldc + j)];
        const double want = old + p.alpha * exact;
        // Any order of float32 additions is within (K + 1) * 2^-24 of the sum of magnitudes.
        const double bound = (static_cast<double>(K) + 2) * std::ldexp(1.0, -24) * (std::abs(old) + mag);
        bad += !(std::abs(c[static_cast<size_t>(i * p.ldc + j)] - want) <= bound);
      }
    CHECK(bad == 0);
  }
}

TEST_CASE("gemm_packed_bf16: the same bits for any thread count") {
  if (!cpu::bf16_gemm_available()) return;
  const Product p(false, true, 300, 96, 520, 1.0f, 0.0f, 7);
  const std::vector<float> c = p.run(packed_bf16);
#ifdef _OPENMP
  const int saved = omp_get_max_threads();
  for (int threads : {1, 2, 3}) {
    omp_set_num_threads(threads);
    CHECK(same_bits(p.run(packed_bf16), c));
  }
  omp_set_num_threads(saved);
#endif
}

TEST_CASE("cpu::gemm under each matmul precision: bf16 kernel, float32, and the fallback") {
  const Product p(false, false, 64, 48, 100, 1.0f, 0.0f, 9);
  const std::vector<float> f32 = p.run(packed_f32);
  {
    const MatmulPrecisionScope scope(MatmulPrecision::FP32);
    CHECK(same_bits(p.run(dispatched), f32));
  }
  {
    const MatmulPrecisionScope scope(MatmulPrecision::TF32);  // no TF32 on a CPU
    CHECK(same_bits(p.run(dispatched), f32));
  }
  {
    const MatmulPrecisionScope scope(MatmulPrecision::BF16);
    CHECK(same_bits(p.run(dispatched), cpu::bf16_gemm_available() ? p.run(packed_bf16) : f32));
    if (cpu::bf16_gemm_available()) CHECK_FALSE(same_bits(p.run(dispatched), f32));  // the inputs were rounded
    const bool saved = cpu::bf16_gemm_switched_off();
    cpu::bf16_gemm_switched_off() = true;  // a CPU without the instructions
    CHECK_FALSE(cpu::bf16_gemm_available());
    CHECK(same_bits(p.run(dispatched), f32));
    cpu::bf16_gemm_switched_off() = saved;
  }
  CHECK(matmul_precision() == MatmulPrecision::FP32);  // the scopes restored it
  // Skinny products stay on Eigen in float32 under any policy.
  const Product skinny(false, false, 200, 9, 3, 1.0f, 0.0f, 10);
  const MatmulPrecisionScope scope(MatmulPrecision::BF16);
  std::vector<float> e = skinny.C;
  cpu::gemm_eigen<float>(false, false, 200, 9, 3, 1.0f, skinny.A.data(), skinny.lda, skinny.B.data(), skinny.ldb, 0.0f,
                         e.data(), skinny.ldc);
  CHECK(same_bits(skinny.run(dispatched), e));
}

TEST_CASE("matmul precision: a linear layer's product follows the policy") {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> xa(64 * 96), wa(96 * 32);
  for (float& v : xa) v = u(rng);
  for (float& v : wa) v = u(rng);
  const Tensor<float> x = Tensor<float>::from_vector(xa, {64, 96}), w = Tensor<float>::from_vector(wa, {96, 32});
  const std::vector<float> exact = matmul(x, w).to_vector();
  const MatmulPrecisionScope scope(MatmulPrecision::BF16);
  const std::vector<float> low = matmul(x, w).to_vector();
  double worst = 0;
  for (size_t i = 0; i < exact.size(); ++i) worst = std::max(worst, std::abs(static_cast<double>(low[i]) - exact[i]));
  INFO("largest difference from float32: ", worst);
  CHECK(worst < 0.1);  // 96 products of values below 1, inputs off by up to 2^-9 relative
  if (cpu::bf16_gemm_available()) CHECK(worst > 0.0);
}

TEST_CASE("matmul precision: parsing names the choices") {
  CHECK(parse_matmul_precision("bf16") == MatmulPrecision::BF16);
  CHECK(parse_matmul_precision("tf32") == MatmulPrecision::TF32);
  CHECK(parse_matmul_precision("fp32") == MatmulPrecision::FP32);
  CHECK_THROWS_WITH_AS(parse_matmul_precision("fp16"), doctest::Contains("'fp16' must be fp32, tf32 or bf16"), Error);
}
