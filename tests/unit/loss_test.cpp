// cross_entropy, cross_entropy_from_probs, topk_correct / topk_accuracy: forward and
// backward against reference loops, Keras' documented values, stability, and errors.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <vector>

#include "patchnet/ops/activation.hpp"
#include "patchnet/ops/loss.hpp"
#include "support/test_util.hpp"

using namespace patchnet;
using patchnet::test::check_close;

namespace {
Tensor<int32_t> random_labels(int64_t n, int32_t k, uint64_t seed) {
  const auto u = test::uniform<double>({n}, seed, 0.0, static_cast<double>(k)).to_vector();
  std::vector<int32_t> l(u.size());
  for (size_t i = 0; i < u.size(); ++i) l[i] = std::min(static_cast<int32_t>(u[i]), k - 1);
  return Tensor<int32_t>::from_vector(l, {n});
}

// mean_r -log(exp(x_r,l) / sum_j exp(x_r,j)), and its gradient (softmax - onehot) / N.
double ref_cross_entropy(const Tensor<double>& x, const Tensor<int32_t>& labels, Tensor<double>* grad) {
  const int64_t N = x.size(0), K = x.size(1);
  *grad = Tensor<double>::zeros({N, K});
  double total = 0;
  for (int64_t r = 0; r < N; ++r) {
    double s = 0;
    for (int64_t j = 0; j < K; ++j) s += std::exp(x.at({r, j}));
    const int64_t l = labels.at({r});
    total += -std::log(std::exp(x.at({r, l})) / s);
    for (int64_t j = 0; j < K; ++j) grad->at({r, j}) = (std::exp(x.at({r, j})) / s - (j == l ? 1.0 : 0.0)) / N;
  }
  return total / static_cast<double>(N);
}

template <class T>
Tensor<T> grad_of_loss(const Tensor<T>& x, auto loss) {
  Tensor<T> xl = x.detach().clone();
  xl.set_requires_grad();
  loss(xl).backward();
  return xl.grad();
}
}  // namespace

TEST_CASE("cross_entropy: forward and backward match a reference loop, float too") {
  const auto x = test::uniform<double>({37, 10}, 21, -4.0, 4.0);
  const auto labels = random_labels(37, 10, 22);
  Tensor<double> ref_grad;
  const double ref = ref_cross_entropy(x, labels, &ref_grad);
  const auto loss = cross_entropy(x, labels);
  CHECK(loss.dim() == 0);
  CHECK(loss.item() == doctest::Approx(ref).epsilon(1e-13));
  check_close(grad_of_loss(x, [&](const auto& t) { return cross_entropy(t, labels); }), ref_grad, 1e-12, 1e-15,
              "gradient");
  const auto xf = to_dtype<float>(x);
  CHECK(cross_entropy(xf, labels).item() == doctest::Approx(ref).epsilon(1e-6));
  check_close(grad_of_loss(xf, [&](const auto& t) { return cross_entropy(t, labels); }), ref_grad, 1e-5, 1e-7,
              "float gradient");
}

TEST_CASE("cross_entropy: exact and finite for logits of +-1e4") {
  const auto labels = Tensor<int32_t>::from_vector({0, 2}, {2});
  const auto run = [&](auto x) {
    using T = typename decltype(x)::value_type;
    // Row losses: 0 + log(1 + e^-1e4 + e^-2e4) = 0, and (1e4 - 0) + log(1 + ...) = 1e4.
    CHECK(cross_entropy(x, labels).item() == T(5000));
    // (softmax - onehot) / N: softmax rows are exactly [1, 0, 0] and [0, 1, 0].
    const auto g = grad_of_loss(x, [&](const auto& t) { return cross_entropy(t, labels); }).to_vector();
    CHECK(g == std::vector<T>{0, 0, 0, 0, T(0.5), T(-0.5)});
  };
  run(Tensor<double>::from_vector({1e4, 0, -1e4, -1e4, 1e4, 0}, {2, 3}));
  run(Tensor<float>::from_vector({1e4f, 0, -1e4f, -1e4f, 1e4f, 0}, {2, 3}));
}

TEST_CASE("cross_entropy_from_probs: Keras' documented example") {
  // keras.losses.sparse_categorical_crossentropy([1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
  // = [0.0513, 2.3026].
  const auto p = Tensor<double>::from_vector({0.05, 0.95, 0.0, 0.1, 0.8, 0.1}, {2, 3});
  const auto labels = Tensor<int32_t>::from_vector({1, 2}, {2});
  CHECK(cross_entropy_from_probs(p, labels).item() == doctest::Approx((-std::log(0.95) - std::log(0.1)) / 2));
  CHECK(cross_entropy_from_probs(p, labels).item() == doctest::Approx((0.0513 + 2.3026) / 2).epsilon(1e-4));
}

TEST_CASE("cross_entropy_from_probs: equals cross_entropy when probs = softmax(logits)") {
  const auto x = test::uniform<double>({29, 10}, 23, -3.0, 3.0);
  const auto labels = random_labels(29, 10, 24);
  CHECK(cross_entropy_from_probs(softmax(x), labels).item() ==
        doctest::Approx(cross_entropy(x, labels).item()).epsilon(1e-13));
  const auto g1 = grad_of_loss(x, [&](const auto& t) { return cross_entropy_from_probs(softmax(t), labels); });
  const auto g2 = grad_of_loss(x, [&](const auto& t) { return cross_entropy(t, labels); });
  check_close(g1, g2, 1e-10, 1e-14, "gradient through softmax");
  const auto xf = to_dtype<float>(x);
  CHECK(cross_entropy_from_probs(softmax(xf), labels).item() ==
        doctest::Approx(cross_entropy(x, labels).item()).epsilon(1e-6));
}

TEST_CASE("cross_entropy_from_probs: renormalises rows, clips to [eps, 1 - eps], no gradient where clipped") {
  const auto p = Tensor<double>::from_vector({0, 1, 0,   // q = 0 -> eps
                                              2, 2, 4,   // q = 0.25 (unnormalised row)
                                              1, 0, 0},  // q = 1 -> 1 - eps
                                             {3, 3});
  const auto labels = Tensor<int32_t>::from_vector({0, 1, 0}, {3});
  const double eps = 1e-7;
  const double want = (-std::log(eps) - std::log(0.25) - std::log(1 - eps)) / 3;
  CHECK(cross_entropy_from_probs(p, labels).item() == doctest::Approx(want).epsilon(1e-12));
  const auto g = grad_of_loss(p, [&](const auto& t) { return cross_entropy_from_probs(t, labels); }).to_vector();
  // Row 1: (1/S - [j == l] / p_l) / N with S = 8, p_l = 2.
  const std::vector<double> row1{1.0 / 8 / 3, (1.0 / 8 - 0.5) / 3, 1.0 / 8 / 3};
  for (int j = 0; j < 3; ++j) {
    CHECK(g[static_cast<size_t>(j)] == 0.0);
    CHECK(g[static_cast<size_t>(3 + j)] == doctest::Approx(row1[static_cast<size_t>(j)]).epsilon(1e-14));
    CHECK(g[static_cast<size_t>(6 + j)] == 0.0);
  }
  // A larger eps moves the clip: q = 0.25 < 0.3 is clipped too.
  CHECK(cross_entropy_from_probs(p, labels, 0.3).item() ==
        doctest::Approx((-std::log(0.3) * 2 - std::log(0.7)) / 3).epsilon(1e-12));
  // float: the bounds are float(eps) and float(1 - eps), no NaN or inf.
  const float lf = cross_entropy_from_probs(to_dtype<float>(p), labels).item();
  CHECK(lf == doctest::Approx(want).epsilon(1e-5));
}

TEST_CASE("topk_accuracy: k = 1 and 5 match a stable sort, ties by class index") {
  // Scores on a coarse grid so rows have ties.
  auto s = test::uniform<double>({200, 10}, 25, 0.0, 4.0).to_vector();
  for (double& v : s) v = std::floor(v);
  const auto scores = Tensor<double>::from_vector(s, {200, 10});
  const auto labels = random_labels(200, 10, 26);
  for (int64_t k : {1, 5, 10}) {
    int64_t want = 0;
    for (int64_t r = 0; r < 200; ++r) {
      std::vector<int> order(10);
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
        return s[static_cast<size_t>(r * 10 + a)] > s[static_cast<size_t>(r * 10 + b)];
      });
      const auto pos = std::find(order.begin(), order.end(), labels.at({r})) - order.begin();
      want += pos < k;
    }
    CAPTURE(k);
    CHECK(topk_correct(scores, labels, k) == want);
    CHECK(topk_accuracy(scores, labels, k) == doctest::Approx(static_cast<double>(want) / 200));
    CHECK(topk_correct(to_dtype<float>(scores), labels, k) == want);
  }
  CHECK(topk_accuracy(scores, labels, 10) == 1.0);
  // All-equal scores: only the first k classes count, so a collapsed model is not 100%.
  const auto flat = Tensor<float>::zeros({3, 4});
  const auto l = Tensor<int32_t>::from_vector({0, 2, 3}, {3});
  CHECK(topk_correct(flat, l, 1) == 1);
  CHECK(topk_correct(flat, l, 3) == 2);
  // A NaN label score is wrong; a NaN elsewhere does not push the label down.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const auto withnan = Tensor<float>::from_vector({nan, 1, 0, 0, nan, 1}, {2, 3});
  CHECK(topk_correct(withnan, Tensor<int32_t>::from_vector({0, 2}, {2}), 2) == 1);
}

TEST_CASE("losses, topk: bad labels and shapes throw naming the op") {
  const auto x = Tensor<float>::zeros({4, 10});
  const auto good = Tensor<int32_t>::from_vector({0, 1, 2, 3}, {4});
  CHECK_THROWS_PN(cross_entropy(x, Tensor<int32_t>::from_vector({0, 1, 10, 3}, {4})),
                  "cross_entropy: label 10 in row 2 is outside [0, 10) for logits [4,10]");
  CHECK_THROWS_PN(cross_entropy(x, Tensor<int32_t>::from_vector({0, -1, 1, 3}, {4})), "label -1 in row 1");
  CHECK_THROWS_PN(cross_entropy(x, Tensor<int32_t>::from_vector({0, 1, 2}, {3})),
                  "cross_entropy: labels [3] vs logits [4,10]: 3 labels for 4 rows");
  CHECK_THROWS_PN(cross_entropy(x, Tensor<int32_t>::zeros({4, 1})), "cross_entropy: labels [4,1] must have rank 1");
  CHECK_THROWS_PN(cross_entropy(Tensor<float>::zeros({10}), good), "cross_entropy: logits [10] must have rank 2");
  CHECK_THROWS_PN(cross_entropy(Tensor<float>::zeros({0, 10}), Tensor<int32_t>::zeros({0})),
                  "cross_entropy: logits [0,10] is empty");
  CHECK_THROWS_PN(cross_entropy(x, Tensor<int32_t>()), "cross_entropy: labels are undefined");
  CHECK_THROWS_PN(cross_entropy_from_probs(x, Tensor<int32_t>::from_vector({0, 1, 2, 12}, {4})),
                  "cross_entropy_from_probs: label 12 in row 3");
  CHECK_THROWS_PN(cross_entropy_from_probs(x, good, 0.5), "cross_entropy_from_probs: eps = 0.5 is outside [0, 0.5)");
  CHECK_THROWS_PN(cross_entropy_from_probs(x, good, -1e-7), "eps = -1e-07 is outside");
  CHECK_THROWS_PN(topk_accuracy(x, good, 0), "topk_accuracy: k = 0 is outside [1, 10] for scores [4,10]");
  CHECK_THROWS_PN(topk_correct(x, good, 11), "topk_correct: k = 11 is outside [1, 10]");
  CHECK_THROWS_PN(topk_correct(x, Tensor<int32_t>::from_vector({0, 1, 2, 10}, {4})), "topk_correct: label 10 in row 3");
}
