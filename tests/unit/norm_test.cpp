// batch_norm, gelu_batch_norm(_add) and layer_norm: forward against plain loops, the fused
// ops against the separate ops, running statistics against
// hand-computed values, train vs eval, float accuracy over many rows, thread-count
// independence, and errors.
#include <cmath>
#include <string>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "patchnet/ops/activation.hpp"
#include "patchnet/ops/batch_norm.hpp"
#include "patchnet/ops/elementwise.hpp"
#include "patchnet/ops/layer_norm.hpp"
#include "support/test_util.hpp"

using namespace patchnet;
using patchnet::test::check_close;

namespace {
// Batch norm of x viewed as [rows, C] with the given per-channel statistics.
Tensor<double> ref_normalize(const Tensor<double>& x, const std::vector<double>& mean, const std::vector<double>& var,
                             const Tensor<double>& gamma, const Tensor<double>& beta, double eps) {
  const int64_t C = x.size(-1), rows = x.numel() / C;
  auto y = Tensor<double>::empty(x.shape());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < C; ++c) {
      const size_t k = static_cast<size_t>(c);
      y.data()[r * C + c] =
          (x.data()[r * C + c] - mean[k]) / std::sqrt(var[k] + eps) * gamma.data()[c] + beta.data()[c];
    }
  return y;
}

// Per-channel mean and biased variance, two plain passes.
void ref_stats(const Tensor<double>& x, std::vector<double>& mean, std::vector<double>& var) {
  const int64_t C = x.size(-1), rows = x.numel() / C;
  mean.assign(static_cast<size_t>(C), 0.0);
  var.assign(static_cast<size_t>(C), 0.0);
  for (int64_t c = 0; c < C; ++c) {
    const size_t k = static_cast<size_t>(c);
    for (int64_t r = 0; r < rows; ++r) mean[k] += x.data()[r * C + c];
    mean[k] /= static_cast<double>(rows);
    for (int64_t r = 0; r < rows; ++r) var[k] += (x.data()[r * C + c] - mean[k]) * (x.data()[r * C + c] - mean[k]);
    var[k] /= static_cast<double>(rows);
  }
}

template <class T>
void check_values(const Tensor<T>& t, const std::vector<double>& expected, const std::string& what) {
  REQUIRE(t.numel() == static_cast<int64_t>(expected.size()));
  for (size_t i = 0; i < expected.size(); ++i)
    CHECK_MESSAGE(std::abs(static_cast<double>(t.data()[i]) - expected[i]) <= 1e-6 * (1 + std::abs(expected[i])), what,
                  "[", i, "] = ", static_cast<double>(t.data()[i]), ", expected ", expected[i]);
}
}  // namespace

TEST_CASE("batch_norm: training forward matches a plain loop, in float too") {
  auto x = test::uniform<double>({4, 5, 6, 13}, 11, -2.0, 4.0);
  auto gamma = test::uniform<double>({13}, 12, 0.5, 2.0), beta = test::uniform<double>({13}, 13);
  auto rm = Tensor<double>::zeros({13}), rv = Tensor<double>::ones({13});
  auto y = batch_norm(x, gamma, beta, rm, rv, true);
  std::vector<double> mean, var;
  ref_stats(x, mean, var);
  check_close(y, ref_normalize(x, mean, var, gamma, beta, 1e-3), 1e-12, 1e-12, "double");

  auto rmf = Tensor<float>::zeros({13}), rvf = Tensor<float>::ones({13});
  auto yf = batch_norm(to_dtype<float>(x), to_dtype<float>(gamma), to_dtype<float>(beta), rmf, rvf, true);
  check_close(yf, y, 1e-5, 1e-5, "float vs double");
}

TEST_CASE("batch_norm: float statistics over 32768 rows with a large mean are accurate") {
  // ConvMixer's row count; mean 1000 and std ~0.3 would lose every digit to E[x^2] - E[x]^2 in float.
  auto x = test::uniform<double>({32768, 3}, 21, 999.5, 1000.5);
  std::vector<double> mean, var;
  ref_stats(x, mean, var);
  auto rm = Tensor<float>::zeros({3}), rv = Tensor<float>::zeros({3});
  auto xf = to_dtype<float>(x);
  auto y = batch_norm(xf, Tensor<float>(), Tensor<float>(), rm, rv, true, {.momentum = 0.0});
  // Statistics of the float-rounded input, against which the kernel is exact up to rounding.
  std::vector<double> mean_f, var_f;
  ref_stats(to_dtype<double>(xf), mean_f, var_f);
  for (size_t c = 0; c < 3; ++c) {
    CHECK(std::abs(rm.data()[c] - mean_f[c]) <= 1e-7 * mean_f[c]);
    CHECK(std::abs(rv.data()[c] - var_f[c]) <= 1e-6 * var_f[c]);
    CHECK(std::abs(var_f[c] - 1.0 / 12) < 2e-3);
  }
  check_close(
      y,
      ref_normalize(to_dtype<double>(xf), mean_f, var_f, Tensor<double>::ones({3}), Tensor<double>::zeros({3}), 1e-3),
      0.0, 5e-4, "normalised output");
}

TEST_CASE("batch_norm: running statistics after one and two steps, Keras momentum 0.99") {
  // Channel 0: {1,2,3,4} then {2,4,6,8}; channel 1: {0,0,0,4} then {1,1,1,1}.
  auto x1 = Tensor<double>::from_vector({1, 0, 2, 0, 3, 0, 4, 4}, {4, 2});
  auto x2 = Tensor<double>::from_vector({2, 1, 4, 1, 6, 1, 8, 1}, {4, 2});
  auto rm = Tensor<double>::zeros({2}), rv = Tensor<double>::ones({2});
  batch_norm(x1, Tensor<double>(), Tensor<double>(), rm, rv, true);
  // batch means {2.5, 1}, biased vars {1.25, 3}
  check_values(rm, {0.01 * 2.5, 0.01 * 1.0}, "running_mean step 1");
  check_values(rv, {0.99 + 0.01 * 1.25, 0.99 + 0.01 * 3.0}, "running_var step 1");
  batch_norm(x2, Tensor<double>(), Tensor<double>(), rm, rv, true);
  // batch means {5, 1}, biased vars {5, 0}
  check_values(rm, {0.99 * 0.025 + 0.05, 0.99 * 0.01 + 0.01}, "running_mean step 2");
  check_values(rv, {0.99 * 1.0025 + 0.05, 0.99 * 1.02 + 0.0}, "running_var step 2");
}

TEST_CASE("batch_norm: running statistics, PyTorch-style momentum 0.9 with unbiased variance") {
  auto x1 = Tensor<float>::from_vector({1, 0, 2, 0, 3, 0, 4, 4}, {4, 2});
  auto x2 = Tensor<float>::from_vector({2, 1, 4, 1, 6, 1, 8, 1}, {4, 2});
  auto rm = Tensor<float>::zeros({2}), rv = Tensor<float>::ones({2});
  const BatchNormOptions torch{.momentum = 0.9, .eps = 1e-5, .unbiased_running_var = true};
  batch_norm(x1, Tensor<float>(), Tensor<float>(), rm, rv, true, torch);
  // unbiased vars {5/3, 4}
  check_values(rm, {0.25, 0.1}, "running_mean step 1");
  check_values(rv, {0.9 + 0.1 * 5.0 / 3.0, 0.9 + 0.4}, "running_var step 1");
  batch_norm(x2, Tensor<float>(), Tensor<float>(), rm, rv, true, torch);
  // unbiased vars {20/3, 0}
  check_values(rm, {0.9 * 0.25 + 0.5, 0.9 * 0.1 + 0.1}, "running_mean step 2");
  check_values(rv, {0.9 * (0.9 + 0.5 / 3.0) + 2.0 / 3.0, 0.9 * 1.3}, "running_var step 2");
}

TEST_CASE("batch_norm: eval uses the running statistics, leaves them alone, and differs from training") {
  auto x = test::uniform<double>({3, 4, 5, 6}, 31, 0.0, 3.0);
  auto gamma = test::uniform<double>({6}, 32, 0.5, 2.0), beta = test::uniform<double>({6}, 33);
  auto rm = test::uniform<double>({6}, 34), rv = test::uniform<double>({6}, 35, 0.5, 2.0);
  const std::vector<double> m0 = rm.to_vector(), v0 = rv.to_vector();
  auto y = batch_norm(x, gamma, beta, rm, rv, false);
  check_close(y, ref_normalize(x, m0, v0, gamma, beta, 1e-3), 1e-12, 1e-12, "eval output");
  CHECK(rm.to_vector() == m0);
  CHECK(rv.to_vector() == v0);

  auto yt = batch_norm(x, gamma, beta, rm, rv, true);
  double max_diff = 0;
  for (int64_t i = 0; i < y.numel(); ++i) max_diff = std::max(max_diff, std::abs(y.data()[i] - yt.data()[i]));
  CHECK(max_diff > 0.1);
  CHECK(rm.to_vector() != m0);
}

TEST_CASE("batch_norm: eval backward is the affine map, training backward is not") {
  auto x = test::uniform<double>({4, 3, 3, 5}, 41);
  x.set_requires_grad();
  auto gamma = test::uniform<double>({5}, 42, 0.5, 2.0);
  auto rm = Tensor<double>::zeros({5}), rv = Tensor<double>::full({5}, 3.0);
  auto g = test::uniform<double>({4, 3, 3, 5}, 43);
  batch_norm(x, gamma, Tensor<double>(), rm, rv, false).backward(g);
  auto expected = Tensor<double>::empty(x.shape());
  for (int64_t i = 0; i < x.numel(); ++i)
    expected.data()[i] = g.data()[i] * gamma.data()[i % 5] / std::sqrt(3.0 + 1e-3);
  check_close(x.grad(), expected, 1e-12, 1e-12, "eval dx");
  // With a constant gradient, training dx is zero: the batch mean absorbs any shift.
  x.zero_grad();
  batch_norm(x, gamma, Tensor<double>(), rm, rv, true).backward(Tensor<double>::ones(x.shape()));
  check_close(x.grad(), Tensor<double>::zeros(x.shape()), 0.0, 1e-12, "training dx of a constant gradient");
}

TEST_CASE("batch_norm: float backward matches double on a ConvMixer-like block") {
  auto x = test::uniform<double>({8, 6, 6, 40}, 51, -1.0, 3.0);
  auto gamma = test::uniform<double>({40}, 52, 0.5, 2.0), beta = test::uniform<double>({40}, 53);
  auto g = test::uniform<double>({8, 6, 6, 40}, 54);
  auto run = [&](auto xv, auto gv, auto bv, auto gy) {
    using T = typename decltype(xv)::value_type;
    xv.set_requires_grad();
    gv.set_requires_grad();
    bv.set_requires_grad();
    auto rm = Tensor<T>::zeros({40}), rv = Tensor<T>::ones({40});
    batch_norm(xv, gv, bv, rm, rv, true).backward(gy);
    return std::vector<Tensor<T>>{xv.grad(), gv.grad(), bv.grad()};
  };
  auto d = run(x.clone().detach(), gamma.clone().detach(), beta.clone().detach(), g);
  auto f = run(to_dtype<float>(x), to_dtype<float>(gamma), to_dtype<float>(beta), to_dtype<float>(g));
  check_close(f[0], d[0], 1e-4, 1e-5, "dx");
  check_close(f[1], d[1], 1e-4, 1e-4, "dgamma");
  check_close(f[2], d[2], 1e-4, 1e-4, "dbeta");
}

#ifdef _OPENMP
TEST_CASE("batch_norm, gelu_batch_norm, layer_norm: results do not depend on the thread count") {
  auto x = test::uniform<float>({64, 8, 8, 64}, 61, -1.0, 2.0);  // 8 row groups
  auto run = [&] {
    auto rm = Tensor<float>::zeros({64}), rv = Tensor<float>::ones({64});
    auto xv = x.clone().detach();
    xv.set_requires_grad();
    auto y = batch_norm(xv, Tensor<float>(), Tensor<float>(), rm, rv, true);
    y = gelu_batch_norm(y, Tensor<float>(), Tensor<float>(), rm, rv, true);
    auto z = layer_norm(y, Tensor<float>(), Tensor<float>());
    z.backward(test::uniform<float>(x.shape(), 62));
    std::vector<float> all = z.to_vector(), gx = xv.grad().to_vector(), r = rv.to_vector();
    all.insert(all.end(), gx.begin(), gx.end());
    all.insert(all.end(), r.begin(), r.end());
    return all;
  };
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const std::vector<float> one = run();
  omp_set_num_threads(3);
  const std::vector<float> three = run();
  omp_set_num_threads(threads);
  CHECK(one == three);
}
#endif

TEST_CASE("gelu_batch_norm: equals gelu then batch_norm, forward, gradients and running statistics") {
  // A ConvMixer-sized activation block (several row groups and L1 blocks), float.
  const Shape shape{16, 9, 9, 72};
  auto x = test::uniform<float>(shape, 71, -4.0, 3.0);
  auto gamma = test::uniform<float>({72}, 72, 0.5, 2.0), beta = test::uniform<float>({72}, 73);
  auto gy = test::uniform<float>(shape, 74);
  for (const GeluApprox approx : {GeluApprox::None, GeluApprox::Tanh})
    for (const bool training : {true, false}) {
      CAPTURE(static_cast<int>(approx));
      CAPTURE(training);
      auto run = [&](bool fused) {
        auto xv = x.clone().detach(), gv = gamma.clone().detach(), bv = beta.clone().detach();
        xv.set_requires_grad();
        gv.set_requires_grad();
        bv.set_requires_grad();
        auto rm = test::uniform<float>({72}, 75), rv = test::uniform<float>({72}, 76, 0.5, 2.0);
        auto y = fused ? gelu_batch_norm(xv, gv, bv, rm, rv, training, {}, approx)
                       : batch_norm(gelu(xv, approx), gv, bv, rm, rv, training);
        y.backward(gy);
        return std::vector<Tensor<float>>{y, xv.grad(), gv.grad(), bv.grad(), rm, rv};
      };
      const auto f = run(true), u = run(false);
      const char* what[] = {"y", "dx", "dgamma", "dbeta", "running_mean", "running_var"};
      for (size_t i = 0; i < f.size(); ++i) check_close(f[i], u[i], 1e-5, 1e-6, what[i]);
    }
}

TEST_CASE("gelu_batch_norm_add: equals gelu_batch_norm then add, also with the input as the residual") {
  const Shape shape{16, 9, 9, 72};
  auto x = test::uniform<float>(shape, 91, -4.0, 3.0), r = test::uniform<float>(shape, 92);
  auto gamma = test::uniform<float>({72}, 93, 0.5, 2.0), beta = test::uniform<float>({72}, 94);
  auto gy = test::uniform<float>(shape, 95);
  for (const bool training : {true, false})
    for (const bool self : {false, true}) {  // self: the residual is x (nn::Residual's case)
      CAPTURE(training);
      CAPTURE(self);
      auto run = [&](bool fused) {
        auto xv = x.clone().detach(), rv = r.clone().detach(), gv = gamma.clone().detach();
        xv.set_requires_grad();
        rv.set_requires_grad();
        gv.set_requires_grad();
        const Tensor<float>& res = self ? xv : rv;
        auto rm = test::uniform<float>({72}, 96), rvar = test::uniform<float>({72}, 97, 0.5, 2.0);
        auto y = fused ? gelu_batch_norm_add(xv, res, gv, beta, rm, rvar, training)
                       : add(gelu_batch_norm(xv, gv, beta, rm, rvar, training), res);
        y.backward(gy);
        return std::vector<Tensor<float>>{y, xv.grad(), gv.grad(), self ? xv.grad() : rv.grad(), rm, rvar};
      };
      const auto f = run(true), u = run(false);
      const char* what[] = {"y", "dx", "dgamma", "dresidual", "running_mean", "running_var"};
      for (size_t i = 0; i < f.size(); ++i) check_close(f[i], u[i], 1e-6, 1e-7, what[i]);
    }
}

TEST_CASE("gelu_batch_norm_add: bad inputs throw naming the op") {
  auto x = Tensor<float>::zeros({2, 3, 3, 5}), c5 = Tensor<float>::ones({5});
  CHECK_THROWS_PN(gelu_batch_norm_add(x, Tensor<float>::zeros({2, 3, 3, 4}), c5, c5, c5, c5, true),
                  "gelu_batch_norm_add: residual [2,3,3,4] does not match input [2,3,3,5]");
  CHECK_THROWS_PN(gelu_batch_norm_add(x, Tensor<float>(), c5, c5, c5, c5, true),
                  "gelu_batch_norm_add: residual is undefined");
  CHECK_THROWS_PN(gelu_batch_norm_add(x, x, Tensor<float>::ones({4}), c5, c5, c5, true),
                  "gelu_batch_norm_add: gamma [4] does not match input");
}

TEST_CASE("gelu_batch_norm: float matches double") {
  auto x = test::uniform<double>({8, 6, 6, 40}, 81, -3.0, 3.0);
  auto g = test::uniform<double>({8, 6, 6, 40}, 82);
  auto run = [&](auto xv, auto gy) {
    using T = typename decltype(xv)::value_type;
    xv.set_requires_grad();
    auto rm = Tensor<T>::zeros({40}), rv = Tensor<T>::ones({40});
    auto y = gelu_batch_norm(xv, Tensor<T>(), Tensor<T>(), rm, rv, true);
    y.backward(gy);
    return std::vector<Tensor<T>>{y, xv.grad(), rv};
  };
  auto d = run(x.clone().detach(), g);
  auto f = run(to_dtype<float>(x), to_dtype<float>(g));
  check_close(f[0], d[0], 1e-4, 1e-5, "y");
  check_close(f[1], d[1], 1e-4, 1e-5, "dx");
  check_close(f[2], d[2], 1e-5, 1e-6, "running_var");
}

TEST_CASE("gelu_batch_norm: bad inputs throw naming the op") {
  auto x = Tensor<float>::zeros({2, 3, 3, 5}), c5 = Tensor<float>::ones({5}), c4 = Tensor<float>::ones({4});
  CHECK_THROWS_PN(gelu_batch_norm(x, c4, c5, c5, c5, true), "gelu_batch_norm: gamma [4] does not match input");
  CHECK_THROWS_PN(gelu_batch_norm(x, c5, c5, c5, c5, true, {}, static_cast<GeluApprox>(7)),
                  "gelu_batch_norm: unknown approximation 7");
  CHECK_THROWS_PN(gelu_batch_norm(Tensor<float>::zeros({5}), c5, c5, c5, c5, true),
                  "gelu_batch_norm: input [5] must have rank >= 2");
}

TEST_CASE("batch_norm: bad inputs throw naming the op") {
  auto x = Tensor<float>::zeros({2, 3, 3, 5}), c5 = Tensor<float>::ones({5}), c4 = Tensor<float>::ones({4});
  const Tensor<float> none;
  CHECK_THROWS_PN(batch_norm(x, c4, c5, c5, c5, true), "batch_norm: gamma [4] does not match input [2,3,3,5]");
  CHECK_THROWS_PN(batch_norm(x, c5, c4, c5, c5, true), "batch_norm: beta [4]");
  CHECK_THROWS_PN(batch_norm(x, c5, c5, c4, c5, true), "batch_norm: running_mean [4]");
  CHECK_THROWS_PN(batch_norm(x, c5, c5, c5, c4, false), "batch_norm: running_var [4]");
  CHECK_THROWS_PN(batch_norm(x, Tensor<float>::ones({1, 5}), c5, c5, c5, true), "batch_norm: gamma [1,5]");
  CHECK_THROWS_PN(batch_norm(Tensor<float>::zeros({5}), c5, c5, c5, c5, true),
                  "batch_norm: input [5] must have rank >= 2");
  CHECK_THROWS_PN(batch_norm(x, c5, c5, none, none, false),
                  "batch_norm: eval mode (training=false) needs running_mean");
  CHECK_THROWS_PN(batch_norm(x, c5, c5, c5, none, true), "batch_norm: running_mean and running_var must both");
  CHECK_THROWS_PN(batch_norm(x, c5, c5, c5, c5, true, {.momentum = 1.5}), "batch_norm: momentum 1.5 is outside [0, 1]");
  CHECK_THROWS_PN(batch_norm(x, c5, c5, c5, c5, true, {.momentum = -0.1}), "batch_norm: momentum -0.1");
  CHECK_THROWS_PN(batch_norm(x, c5, c5, c5, c5, true, {.eps = 0.0}), "batch_norm: eps 0 must be positive");
  CHECK_THROWS_PN(batch_norm(x, c5, c5, c5, c5, true, {.eps = -1e-3}), "batch_norm: eps");
  CHECK_THROWS_PN(batch_norm(Tensor<float>::zeros({0, 5}), c5, c5, c5, c5, true),
                  "batch_norm: training needs at least one row");
  CHECK_THROWS_PN(batch_norm(Tensor<float>::zeros({1, 5}), c5, c5, c5, c5, true, {.unbiased_running_var = true}),
                  "batch_norm: the unbiased running variance needs more than one value");
  CHECK_THROWS_PN(batch_norm(none, c5, c5, c5, c5, true), "batch_norm");
}

TEST_CASE("layer_norm: forward matches a plain loop, in float too") {
  auto x = test::uniform<double>({3, 5, 7, 11}, 71, -3.0, 5.0);
  auto gamma = test::uniform<double>({11}, 72, 0.5, 2.0), beta = test::uniform<double>({11}, 73);
  auto y = layer_norm(x, gamma, beta);
  auto ref = Tensor<double>::empty(x.shape());
  for (int64_t r = 0; r < x.numel() / 11; ++r) {
    const double* p = x.data() + r * 11;
    double m = 0, v = 0;
    for (int i = 0; i < 11; ++i) m += p[i] / 11;
    for (int i = 0; i < 11; ++i) v += (p[i] - m) * (p[i] - m) / 11;
    for (int i = 0; i < 11; ++i)
      ref.data()[r * 11 + i] = (p[i] - m) / std::sqrt(v + 1e-5) * gamma.data()[i] + beta.data()[i];
  }
  check_close(y, ref, 1e-12, 1e-12, "double");
  check_close(layer_norm(to_dtype<float>(x), to_dtype<float>(gamma), to_dtype<float>(beta)), y, 1e-5, 1e-5,
              "float vs double");
  // eps is inside the sqrt: a constant row gives beta exactly, not NaN.
  auto flat = layer_norm(Tensor<double>::full({2, 11}, 3.0), gamma, beta);
  check_close(flat, broadcast_to(beta, {2, 11}).contiguous(), 0.0, 0.0, "constant row");
}

TEST_CASE("layer_norm: float backward matches double at a ShiftViT-like shape") {
  auto x = test::uniform<double>({4, 6, 6, 96}, 81, -2.0, 2.0);
  auto gamma = test::uniform<double>({96}, 82, 0.5, 2.0), beta = test::uniform<double>({96}, 83);
  auto g = test::uniform<double>(x.shape(), 84);
  auto run = [&](auto xv, auto gv, auto bv, auto gy) {
    using T = typename decltype(xv)::value_type;
    xv.set_requires_grad();
    gv.set_requires_grad();
    bv.set_requires_grad();
    layer_norm(xv, gv, bv).backward(gy);
    return std::vector<Tensor<T>>{xv.grad(), gv.grad(), bv.grad()};
  };
  auto d = run(x.clone().detach(), gamma.clone().detach(), beta.clone().detach(), g);
  auto f = run(to_dtype<float>(x), to_dtype<float>(gamma), to_dtype<float>(beta), to_dtype<float>(g));
  check_close(f[0], d[0], 1e-4, 1e-5, "dx");
  check_close(f[1], d[1], 1e-4, 1e-4, "dgamma");
  check_close(f[2], d[2], 1e-4, 1e-4, "dbeta");
}

TEST_CASE("layer_norm: bad inputs throw naming the op") {
  auto x = Tensor<float>::zeros({2, 3, 7}), c7 = Tensor<float>::ones({7});
  CHECK_THROWS_PN(layer_norm(x, Tensor<float>::ones({6}), c7), "layer_norm: gamma [6] does not match input [2,3,7]");
  CHECK_THROWS_PN(layer_norm(x, c7, Tensor<float>::ones({7, 1})), "layer_norm: beta [7,1]");
  CHECK_THROWS_PN(layer_norm(Tensor<float>::scalar(1.0f), Tensor<float>(), Tensor<float>()),
                  "layer_norm: input [] must have rank >= 1");
  CHECK_THROWS_PN(layer_norm(Tensor<float>::zeros({3, 0}), Tensor<float>(), Tensor<float>()),
                  "layer_norm: input [3,0] has an empty last dimension");
  CHECK_THROWS_PN(layer_norm(x, c7, c7, 0.0), "layer_norm: eps 0 must be positive");
  CHECK_THROWS_PN(layer_norm(x, c7, c7, -1e-5), "layer_norm: eps");
}
