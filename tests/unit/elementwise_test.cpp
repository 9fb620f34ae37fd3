// Elementwise ops, reductions and shape ops: forward against plain loops, and errors.
#include "support/test_util.hpp"

using namespace patchnet;
using patchnet::test::check_close;

TEST_CASE("elementwise: broadcasting forward matches a plain loop") {
  auto a = test::uniform<double>({2, 3, 4}, 1), b = test::uniform<double>({3, 1}, 2, 0.5, 2.0);
  auto ref = Tensor<double>::zeros({2, 3, 4});
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t k = 0; k < 4; ++k) ref.at({i, j, k}) = a.at({i, j, k}) / b.at({j, 0}) - 3.0 * a.at({i, j, k});
  check_close(a / b - 3.0 * a, ref, "a / b - 3a");
  // A strided (permuted) operand gives the same values as its packed copy.
  auto p = permute(a, {2, 0, 1});
  check_close(p * p, permute(a * a, {2, 0, 1}).contiguous(), "permuted operands");
  // Large tensors split one long row across threads; check a few far-apart elements.
  auto big = test::uniform<float>({1 << 18}, 3);
  auto twice = big + big;
  for (int64_t i : {0, 1 << 10, (1 << 17) + 7, (1 << 18) - 1}) CHECK(twice.at({i}) == 2 * big.at({i}));
}

TEST_CASE("elementwise: unary ops against the C library") {
  auto x = test::uniform<double>({50}, 4, 0.1, 3.0);
  auto v = x.to_vector();
  auto check = [&](const Tensor<double>& y, double (*f)(double), const char* what) {
    std::vector<double> expect;
    for (double e : v) expect.push_back(f(e));
    check_close(y, Tensor<double>::from_vector(expect, {50}), what);
  };
  check(
      exp(x), [](double e) { return std::exp(e); }, "exp");
  check(
      log(x), [](double e) { return std::log(e); }, "log");
  check(
      sqrt(x), [](double e) { return std::sqrt(e); }, "sqrt");
  check(
      tanh(x), [](double e) { return std::tanh(e); }, "tanh");
  check(
      sigmoid(x), [](double e) { return 1 / (1 + std::exp(-e)); }, "sigmoid");
  check(
      pow(x, 1.5), [](double e) { return std::pow(e, 1.5); }, "pow");
  check(
      1.0 / x, [](double e) { return 1 / e; }, "rdiv");
}

TEST_CASE("reduce: sums over every axis pattern match a plain loop") {
  auto x = test::uniform<double>({3, 4, 5, 6}, 5);
  auto ref_sum = [&](std::vector<int> keep) {
    // Sum over the axes not in keep, by brute force.
    Shape out;
    for (int k : keep) out.push_back(x.size(k));
    auto r = Tensor<double>::zeros(out);
    std::vector<double> acc(static_cast<size_t>(out.numel()), 0.0);
    for (int64_t a = 0; a < 3; ++a)
      for (int64_t b = 0; b < 4; ++b)
        for (int64_t c = 0; c < 5; ++c)
          for (int64_t d = 0; d < 6; ++d) {
            const int64_t idx[4] = {a, b, c, d};
            int64_t o = 0;
            for (int k : keep) o = o * x.size(k) + idx[k];
            acc[static_cast<size_t>(o)] += x.at({a, b, c, d});
          }
    std::copy(acc.begin(), acc.end(), r.data());
    return r;
  };
  check_close(sum(x, {3}), ref_sum({0, 1, 2}), "trailing");
  check_close(sum(x, {0, 1, 2}), ref_sum({3}), "leading (bias gradient)");
  check_close(sum(x, {1, 3}), ref_sum({0, 2}), "interleaved");
  check_close(sum(x, {0, 2}), ref_sum({1, 3}), "interleaved 2");
  check_close(reshape(sum(x), {1}), reshape(ref_sum({}), {1}), "all");
  check_close(mean(x, {1, 2}, true), reshape(ref_sum({0, 3}), {3, 1, 1, 6}) * (1.0 / 20), "mean keepdim");
}

TEST_CASE("shape ops: concat and split are inverse, slices are exact") {
  auto a = test::uniform<double>({2, 3, 4}, 6), b = test::uniform<double>({2, 5, 4}, 7);
  auto c = concat({a, b}, 1);
  CHECK(c.shape() == Shape{2, 8, 4});
  auto parts = split(c, {3, 5}, 1);
  check_close(parts[0].contiguous(), a, "first piece");
  check_close(parts[1].contiguous(), b, "second piece");
  auto chunks = split(Tensor<double>::arange(12), 3, 0);
  CHECK(chunks[2].to_vector() == std::vector<double>{8, 9, 10, 11});
  CHECK(slice(Tensor<double>::arange(10), 0, 8, 100).to_vector() == std::vector<double>{8, 9});
  CHECK(slice(Tensor<double>::arange(10), 0, -3, -1).to_vector() == std::vector<double>{7, 8});
  CHECK(slice(Tensor<double>::arange(10), 0, 5, 2).numel() == 0);
}

TEST_CASE("elementwise, reduce, shape ops: bad input throws naming the op") {
  auto x = Tensor<float>::zeros({2, 3});
  CHECK_THROWS_PN(x + Tensor<float>::zeros({4}), "add: shapes [2,3] and [4] do not broadcast");
  CHECK_THROWS_PN(x * Tensor<float>::zeros({2, 2}), "mul: shapes");
  CHECK_THROWS_PN(sum(x, {2}), "sum: axis 2 is out of range for rank 2");
  CHECK_THROWS_PN(sum(x, {0, 0}), "sum: axis 0 repeated");
  CHECK_THROWS_PN(mean(Tensor<float>::zeros({0})), "mean");
  CHECK_THROWS_PN(reshape(x, {4, 2}), "reshape: cannot reshape [2,3]");
  CHECK_THROWS_PN(reshape(x, {-1, -1}), "reshape: more than one -1");
  CHECK_THROWS_PN(permute(x, {0, 0}), "permute: dimension 0 repeated");
  CHECK_THROWS_PN(permute(x, {0}), "permute: 1 dimensions given for shape [2,3]");
  CHECK_THROWS_PN(slice(x, 2, 0, 1), "slice: axis 2 is out of range");
  CHECK_THROWS_PN(slice(x, 0, 0, 1, 0), "slice: step 0");
  CHECK_THROWS_PN(split(x, {1, 1}, 1), "split: sizes sum to 2");
  CHECK_THROWS_PN(split(x, 2, 1), "split: dimension 1 of [2,3] does not divide into 2");
  CHECK_THROWS_PN(concat({x, Tensor<float>::zeros({2, 3, 1})}, 0), "concat: shapes [2,3] and [2,3,1] differ in rank");
  CHECK_THROWS_PN(concat({x, Tensor<float>::zeros({3, 3})}, 1), "concat: shapes [2,3] and [3,3] differ outside axis 1");
  CHECK_THROWS_PN(broadcast_to(x, {2, 4}), "broadcast_to: cannot broadcast [2,3] to [2,4]");
  CHECK_THROWS_PN(squeeze(x, 0), "squeeze: dimension 0 of [2,3] has size 2");
  CHECK_THROWS_PN(flatten(x, 1, 0), "flatten: start 1 is after end 0");
}
