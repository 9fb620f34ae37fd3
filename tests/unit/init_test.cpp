// Weight initialisers: fans per framework, bounds, and the spread of the draws.
#include "patchnet/nn/init.hpp"
#include "support/test_util.hpp"

using namespace patchnet;

namespace {
double stddev(const Tensor<double>& t) { return std::sqrt(mean(square(t - mean(t).item())).item()); }
double max_abs(const Tensor<double>& t) {
  double m = 0;
  for (double v : t.to_vector()) m = std::max(m, std::abs(v));
  return m;
}
}  // namespace

TEST_CASE("init: fans follow Keras and PyTorch") {
  const auto k = init::keras_fans({5, 5, 3, 256});  // a Conv2D kernel
  CHECK(k.in == 75);
  CHECK(k.out == 6400);
  const auto d = init::keras_fans({256, 10});  // a Dense kernel
  CHECK(d.in == 256);
  CHECK(d.out == 10);
  const auto kd = init::keras_depthwise_fans(5, 5, 256);
  CHECK(kd.in == 6400);
  CHECK(kd.out == 25);
  CHECK(init::torch_fans_hwio({3, 3, 4, 8}).in == 36);
  CHECK(init::torch_fans_depthwise(5, 5).in == 25);
  CHECK_THROWS_PN(init::torch_fans_hwio({3, 3, 4}), "init::torch_fans_hwio");
}

TEST_CASE("init: uniform initialisers stay in their bounds and fill them") {
  Generator g(1);
  const init::Fans f{100, 300};
  auto w = init::glorot_uniform<double>({400, 100}, f, g);
  const double limit = std::sqrt(6.0 / 400.0);
  CHECK(max_abs(w) <= limit);
  CHECK(max_abs(w) > 0.99 * limit);
  CHECK(stddev(w) == doctest::Approx(limit / std::sqrt(3.0)).epsilon(0.02));
  auto t = init::torch_default<double>({400, 100}, f, g);
  CHECK(max_abs(t) <= 0.1);
  CHECK(max_abs(t) > 0.099);
  auto h = init::he_uniform<double>({400, 100}, f, g);
  CHECK(max_abs(h) <= std::sqrt(6.0 / 100.0));
}

TEST_CASE("init: truncated normal initialisers have the scaled std and bounds") {
  Generator g(2);
  const init::Fans f{50, 150};
  // Keras scales the truncated draw so the result's std is the untruncated target.
  auto w = init::glorot_normal<double>({200, 200}, f, g);
  CHECK(stddev(w) == doctest::Approx(std::sqrt(2.0 / 200.0)).epsilon(0.03));
  CHECK(max_abs(w) <= 2.0 * std::sqrt(2.0 / 200.0) / 0.87962566103423978 + 1e-12);
  auto h = init::he_normal<double>({200, 200}, f, g);
  CHECK(stddev(h) == doctest::Approx(std::sqrt(2.0 / 50.0)).epsilon(0.03));
  auto tn = init::trunc_normal<double>({200, 200}, 0.02, g);
  CHECK(stddev(tn) == doctest::Approx(0.02).epsilon(0.03));
  auto tight = init::trunc_normal<double>({1000}, 1.0, g, -0.5, 0.5);
  CHECK(max_abs(tight) <= 0.5);
  CHECK_THROWS_PN(init::trunc_normal<double>({3}, 0.0, g), "init::trunc_normal");
}
