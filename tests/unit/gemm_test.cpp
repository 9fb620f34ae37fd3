// cpu::gemm_packed (the float matrix product behind every linear layer and convolution)
// against a double-precision reference: every transpose case, edges that are not whole
// micro-tiles or blocks, leading dimensions past the width, alpha and beta, and results that
// do not depend on the thread count.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "patchnet/cpu/gemm.hpp"
#include "patchnet/cpu/parallel.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

using patchnet::cpu::gemm_packed;

namespace {

struct Problem {
  bool ta = false, tb = false;
  int64_t M = 0, N = 0, K = 0, lda = 0, ldb = 0, ldc = 0;
  float alpha = 1, beta = 0;
  std::vector<float> A, B, C;

  Problem(bool ta_, bool tb_, int64_t m, int64_t n, int64_t k, int64_t pad, float alpha_, float beta_, uint32_t seed)
      : ta(ta_), tb(tb_), M(m), N(n), K(k), alpha(alpha_), beta(beta_) {
    lda = (ta ? M : K) + pad;
    ldb = (tb ? K : N) + pad;
    ldc = N + pad;
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-1, 1);
    A.resize(static_cast<size_t>((ta ? K : M) * lda));
    B.resize(static_cast<size_t>((tb ? N : K) * ldb));
    C.resize(static_cast<size_t>(M * ldc));
    for (float& v : A) v = u(rng);
    for (float& v : B) v = u(rng);
    // beta == 0 must ignore C: NaN there would show through any 0 * C.
    for (float& v : C) v = beta == 0 ? std::numeric_limits<float>::quiet_NaN() : u(rng);
  }
  double a(int64_t i, int64_t k) const { return ta ? A[k * lda + i] : A[i * lda + k]; }
  double b(int64_t k, int64_t j) const { return tb ? B[j * ldb + k] : B[k * ldb + j]; }

  std::vector<float> run() const {
    std::vector<float> c = C;
    gemm_packed(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, c.data(), ldc);
    return c;
  }
  // Largest error against the double product, in units of the sum of |products| (the
  // bound float summation allows grows with it), and whether the padding was left alone.
  void check(const std::vector<float>& c) const {
    double worst = 0;
    bool padding_kept = true;
    for (int64_t i = 0; i < M; ++i) {
      for (int64_t j = 0; j < N; ++j) {
        double s = 0, mag = 0;
        for (int64_t k = 0; k < K; ++k) {
          s += a(i, k) * b(k, j);
          mag += std::abs(a(i, k) * b(k, j));
        }
        const double old = beta == 0 ? 0.0 : beta * double(C[i * ldc + j]);
        const double ref = alpha * s + old, scale = std::abs(alpha) * mag + std::abs(old) + 1e-30;
        const double got = c[i * ldc + j];
        worst = std::isfinite(got) ? std::max(worst, std::abs(got - ref) / scale) : 1e30;
      }
      for (int64_t j = N; j < ldc; ++j)
        padding_kept = padding_kept &&
                       (std::isnan(C[i * ldc + j]) ? std::isnan(c[i * ldc + j]) : c[i * ldc + j] == C[i * ldc + j]);
    }
    INFO("M ", M, " N ", N, " K ", K, " trans_a ", ta, " trans_b ", tb, " alpha ", alpha, " beta ", beta);
    CHECK(worst < 4e-6);
    CHECK(padding_kept);
  }
};

}  // namespace

TEST_CASE("gemm_packed: random shapes, every transpose case, alpha and beta, against double") {
  std::mt19937 rng(7);
  const float betas[] = {0.0f, 1.0f, 0.25f};
  for (int trial = 0; trial < 160; ++trial) {
    const int64_t M = 1 + rng() % 45, N = 1 + rng() % 70, K = rng() % 300;
    const Problem p(rng() & 1, rng() & 1, M, N, K, rng() % 3, rng() % 3 ? 1.0f : -0.5f, betas[rng() % 3], rng());
    p.check(p.run());
  }
}

TEST_CASE("gemm_packed: several K slabs, M blocks and N panels, with ragged edges") {
  // Past one KC slab (256), one MC block (at least 84 rows) and several NR panels, none whole.
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      const Problem p(ta, tb, 233, 75, 601, 1, 1.0f, 0.0f, 11);
      p.check(p.run());
      const Problem q(ta, tb, 97, 33, 257, 0, 2.0f, 1.0f, 12);
      q.check(q.run());
    }
}

TEST_CASE("gemm_packed: K of zero scales C by beta, alpha of zero never reads A or B") {
  Problem p(false, false, 5, 7, 0, 0, 1.0f, 0.5f, 3);
  p.check(p.run());
  Problem z(false, false, 5, 7, 0, 0, 1.0f, 0.0f, 3);
  for (float v : z.run()) CHECK(v == 0.0f);
  Problem q(false, false, 4, 3, 6, 0, 0.0f, 1.0f, 4);
  q.A.assign(q.A.size(), std::numeric_limits<float>::quiet_NaN());
  CHECK(q.run() == q.C);
}

TEST_CASE("gemm_packed: the same bits for any thread count, and inside a caller's parallel loop") {
  const Problem p(false, false, 300, 96, 520, 0, 1.0f, 0.0f, 21);
  const Problem dw(true, false, 96, 64, 3000, 0, 1.0f, 0.0f, 22);
  const std::vector<float> c = p.run(), cw = dw.run();
  p.check(c);
  dw.check(cw);
#ifdef _OPENMP
  const int saved = omp_get_max_threads();
  for (int threads : {1, 2, 3}) {
    omp_set_num_threads(threads);
    CHECK(p.run() == c);
    CHECK(dw.run() == cw);
  }
  omp_set_num_threads(saved);
#endif
  // Two independent products from the threads of one parallel loop (gemm_packed then runs
  // single-threaded in each and must not share its buffers).
  std::vector<std::vector<float>> out(2);
  patchnet::cpu::parallel_for(0, 2, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) out[static_cast<size_t>(i)] = i == 0 ? p.run() : dw.run();
  });
  CHECK(out[0] == c);
  CHECK(out[1] == cw);
}
