// gelu, relu, softmax, log_softmax: forward and backward against plain reference loops,
// known values, extreme inputs, and errors.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "patchnet/ops/activation.hpp"
#include "support/test_util.hpp"

using namespace patchnet;
using patchnet::test::check_close;

namespace {
double ref_gelu(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }
double ref_gelu_grad(double x) {
  return 0.5 * (1.0 + std::erf(x / std::sqrt(2.0))) + x * std::exp(-0.5 * x * x) / std::sqrt(2.0 * M_PI);
}
double ref_gelu_tanh(double x) {
  return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
}
double ref_gelu_tanh_grad(double x) {
  const double a = std::sqrt(2.0 / M_PI), t = std::tanh(a * (x + 0.044715 * x * x * x));
  return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * a * (1.0 + 3.0 * 0.044715 * x * x);
}

template <class F>
Tensor<double> map(const Tensor<double>& x, F f) {
  std::vector<double> v = x.to_vector();
  for (double& e : v) e = f(e);
  return Tensor<double>::from_vector(v, x.shape());
}

// Gradient of sum(op(x) * gy) with respect to x, through autograd.
template <class T, class Op>
Tensor<T> grad_of(const Tensor<T>& x, const Tensor<T>& gy, Op op) {
  Tensor<T> xl = x.detach().clone();
  xl.set_requires_grad();
  op(xl).backward(gy);
  return xl.grad();
}

// softmax over `axis` of a packed tensor by the textbook formula (no max subtraction:
// inputs are moderate), one row at a time through at().
Tensor<double> ref_softmax(const Tensor<double>& x, int axis, bool log) {
  const Shape s = x.shape();
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= s[i];
  for (int i = axis + 1; i < s.rank(); ++i) inner *= s[i];
  const int64_t D = s[axis];
  std::vector<double> v = x.to_vector(), out(v.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < inner; ++c) {
      double sum = 0;
      for (int64_t d = 0; d < D; ++d) sum += std::exp(v[(o * D + d) * inner + c]);
      for (int64_t d = 0; d < D; ++d) {
        const size_t k = static_cast<size_t>((o * D + d) * inner + c);
        out[k] = log ? v[k] - std::log(sum) : std::exp(v[k]) / sum;
      }
    }
  return Tensor<double>::from_vector(out, s);
}
}  // namespace

TEST_CASE("gelu: known values of the exact form") {
  const auto x = Tensor<double>::from_vector({1.0, -1.0, 0.0, 2.0, -3.0}, {5});
  const std::vector<double> y = gelu(x).to_vector();
  CHECK(y[0] == doctest::Approx(0.8413447460685429).epsilon(1e-15));
  CHECK(y[1] == doctest::Approx(-0.15865525393145707).epsilon(1e-15));
  CHECK(y[2] == 0.0);
  CHECK(y[3] == doctest::Approx(1.9544997361036416).epsilon(1e-15));
  CHECK(y[4] == doctest::Approx(-0.0040496940948904).epsilon(1e-12));
  CHECK(gelu(Tensor<float>::from_vector({1.0f}, {1})).item() == doctest::Approx(0.8413447460685429).epsilon(1e-6));
}

TEST_CASE("gelu: forward and backward match the erf reference, double and float") {
  // 10007 elements: the vectorised loops and their scalar tails.
  const auto x = test::uniform<double>({10007}, 11, -6.0, 6.0);
  const auto gy = test::uniform<double>({10007}, 12);
  check_close(gelu(x), map(x, ref_gelu), 1e-14, 1e-15, "double forward");
  check_close(grad_of(x, gy, [](const auto& t) { return gelu(t); }), map(x, ref_gelu_grad) * gy, 1e-13, 1e-15,
              "double backward");
  // float: erf_poly / exp_poly are within a few ulp of the C library.
  const auto xf = to_dtype<float>(x), gyf = to_dtype<float>(gy);
  check_close(gelu(xf), map(to_dtype<double>(xf), ref_gelu), 2e-6, 2e-6, "float forward");
  check_close(grad_of(xf, gyf, [](const auto& t) { return gelu(t); }),
              map(to_dtype<double>(xf), ref_gelu_grad) * to_dtype<double>(gyf), 2e-6, 2e-6, "float backward");
}

TEST_CASE("gelu: tanh form matches its reference and stays within 5e-4 of the exact form") {
  const auto x = test::uniform<double>({4099}, 13, -6.0, 6.0);
  const auto gy = test::uniform<double>({4099}, 14);
  const auto y = gelu(x, GeluApprox::Tanh);
  check_close(y, map(x, ref_gelu_tanh), 1e-14, 1e-15, "double forward");
  check_close(grad_of(x, gy, [](const auto& t) { return gelu(t, GeluApprox::Tanh); }), map(x, ref_gelu_tanh_grad) * gy,
              1e-12, 1e-14, "double backward");  // reference cancels in 1 + tanh
  const auto xf = to_dtype<float>(x);
  check_close(gelu(xf, GeluApprox::Tanh), map(to_dtype<double>(xf), ref_gelu_tanh), 2e-6, 2e-6, "float forward");
  // The approximation error on a fine grid: 4.73e-4 at x = -2.70.
  double worst = 0;
  for (double v = -8; v <= 8; v += 1e-3) worst = std::max(worst, std::abs(ref_gelu_tanh(v) - ref_gelu(v)));
  CHECK(worst > 1e-4);
  CHECK(worst < 5e-4);
  const auto diff = (y - gelu(x)).to_vector();
  for (double d : diff) REQUIRE(std::abs(d) <= worst * (1 + 1e-9));
}

TEST_CASE("gelu: extreme inputs give finite values and the limits 0 and x") {
  for (const GeluApprox a : {GeluApprox::None, GeluApprox::Tanh}) {
    const std::vector<double> xs{-1e4, -100.0, -20.0, 20.0, 100.0, 1e4};
    const auto check = [&](const auto& x) {
      const auto y = gelu(x, a).to_vector();
      const auto g =
          grad_of(x, std::decay_t<decltype(x)>::ones(x.shape()), [&](const auto& t) { return gelu(t, a); }).to_vector();
      const auto v = x.to_vector();
      for (size_t i = 0; i < v.size(); ++i) {
        CAPTURE(v[i]);
        REQUIRE(std::isfinite(y[i]));
        REQUIRE(std::isfinite(g[i]));
        CHECK(y[i] == doctest::Approx(v[i] > 0 ? v[i] : 0.0).epsilon(1e-6));
        CHECK(g[i] == doctest::Approx(v[i] > 0 ? 1.0 : 0.0).epsilon(1e-6));
      }
    };
    check(Tensor<double>::from_vector(xs, {6}));
    check(to_dtype<float>(Tensor<double>::from_vector(xs, {6})));
  }
  // NaN propagates.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  CHECK(std::isnan(gelu(Tensor<float>::from_vector({nan}, {1})).item()));
  CHECK(std::isnan(gelu(Tensor<float>::from_vector({nan}, {1}), GeluApprox::Tanh).item()));
}

TEST_CASE("relu: forward, gradient 0 at 0 and below, NaN propagates") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const auto x = Tensor<double>::from_vector({-1.5, 0.0, 2.0, -0.0, 1e-300, nan}, {6});
  const auto y = relu(x).to_vector();
  CHECK(y[0] == 0.0);
  CHECK(y[1] == 0.0);
  CHECK(y[2] == 2.0);
  CHECK(y[3] == 0.0);
  CHECK(y[4] == 1e-300);
  CHECK(std::isnan(y[5]));
  const auto g = grad_of(x, Tensor<double>::full({6}, 3.0), [](const auto& t) { return relu(t); }).to_vector();
  CHECK(g == std::vector<double>{0.0, 0.0, 3.0, 0.0, 3.0, 0.0});
  const auto xf = test::uniform<float>({3, 5, 1001}, 15);
  const auto yf = relu(xf).to_vector(), vf = xf.to_vector();
  for (size_t i = 0; i < vf.size(); ++i) REQUIRE(yf[i] == std::max(vf[i], 0.0f));
}

TEST_CASE("softmax: matches a reference loop on every axis, and log_softmax is its log") {
  const auto x = test::uniform<double>({3, 4, 5, 6}, 16, -4.0, 4.0);
  for (int axis = 0; axis < 4; ++axis) {
    CAPTURE(axis);
    check_close(softmax(x, axis), ref_softmax(x, axis, false), 1e-13, 1e-15, "softmax");
    check_close(log_softmax(x, axis), ref_softmax(x, axis, true), 1e-13, 1e-14, "log_softmax");
    check_close(softmax(to_dtype<float>(x), axis), ref_softmax(x, axis, false), 1e-5, 1e-7, "float softmax");
  }
  check_close(softmax(x, -1), softmax(x, 3), 0, 0, "axis -1 is the last");
  // inner extent 300 > the 256-wide block: two blocks per outer index.
  const auto wide = test::uniform<double>({2, 3, 300}, 17, -4.0, 4.0);
  check_close(softmax(wide, 1), ref_softmax(wide, 1, false), 1e-13, 1e-15, "two inner blocks");
  check_close(log_softmax(wide, 0), ref_softmax(wide, 0, true), 1e-13, 1e-14, "two inner blocks, log");
}

TEST_CASE("softmax: backward matches y (g - sum g y) and g - softmax sum g") {
  const auto x = test::uniform<double>({3, 5, 7}, 18, -3.0, 3.0);
  const auto gy = test::uniform<double>({3, 5, 7}, 19);
  for (int axis : {1, 2}) {
    CAPTURE(axis);
    const auto y = ref_softmax(x, axis, false);
    const auto ref_s = y * (gy - sum(gy * y, {axis}, true));
    check_close(grad_of(x, gy, [&](const auto& t) { return softmax(t, axis); }), ref_s, 1e-12, 1e-14, "softmax");
    const auto ref_l = gy - y * sum(gy, {axis}, true);
    check_close(grad_of(x, gy, [&](const auto& t) { return log_softmax(t, axis); }), ref_l, 1e-12, 1e-14,
                "log_softmax");
  }
}

TEST_CASE("softmax: stable for large inputs") {
  const auto x = Tensor<float>::from_vector({1e4f, 0.0f, -1e4f, 1e4f, 1e4f, 80.0f}, {2, 3});
  const auto y = softmax(x).to_vector();
  CHECK(y == std::vector<float>{1.0f, 0.0f, 0.0f, 0.5f, 0.5f, 0.0f});
  const auto l = log_softmax(x).to_vector();
  CHECK(l[0] == 0.0f);
  CHECK(l[1] == -1e4f);
  CHECK(l[2] == -2e4f);
  CHECK(l[3] == doctest::Approx(-std::log(2.0)));
  CHECK(std::isfinite(l[5]));
  const auto yc = softmax(x, 0).to_vector();  // the strided path too
  CHECK(yc == std::vector<float>{0.5f, 0.0f, 0.0f, 0.5f, 1.0f, 1.0f});
}

TEST_CASE("activations: bad input throws naming the op") {
  const auto x = Tensor<float>::zeros({2, 3});
  CHECK_THROWS_PN(softmax(x, 2), "softmax: axis 2 is out of range for rank 2");
  CHECK_THROWS_PN(log_softmax(x, -3), "log_softmax: axis -3 is out of range for rank 2");
  CHECK_THROWS_PN(softmax(Tensor<float>::scalar(1.0f)), "softmax: input [] has no axis");
  CHECK_THROWS_PN(gelu(Tensor<float>()), "gelu: input is undefined");
  CHECK_THROWS_PN(relu(Tensor<double>()), "relu: input is undefined");
  CHECK_THROWS_PN(gelu(x, static_cast<GeluApprox>(7)), "gelu: unknown approximation 7");
}
