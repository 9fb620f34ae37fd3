// matmul and linear: forward against plain loops, and errors.
#include "patchnet/ops/conv.hpp"
#include "patchnet/ops/matmul.hpp"
#include "support/test_util.hpp"

using namespace patchnet;
using patchnet::test::check_close;

namespace {
// Reference: c[i,j] = sum_k a[i,k] b[k,j].
Tensor<double> ref_mm(const Tensor<double>& a, const Tensor<double>& b) {
  const int64_t M = a.size(0), K = a.size(1), N = b.size(1);
  auto c = Tensor<double>::zeros({M, N});
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double s = 0;
      for (int64_t k = 0; k < K; ++k) s += a.at({i, k}) * b.at({k, j});
      c.at({i, j}) = s;
    }
  return c;
}
}  // namespace

TEST_CASE("matmul: forward matches a plain loop") {
  auto a = test::uniform<double>({7, 13}, 1), b = test::uniform<double>({13, 5}, 2);
  check_close(matmul(a, b), ref_mm(a, b), "2d");
  auto a3 = test::uniform<double>({3, 7, 13}, 3);
  auto out = matmul(a3, b);
  CHECK(out.shape() == Shape{3, 7, 5});
  check_close(slice(out, 0, 1, 2).contiguous(), reshape(ref_mm(reshape(slice(a3, 0, 1, 2), {7, 13}), b), {1, 7, 5}),
              "leading batch");
  auto bb = test::uniform<double>({3, 13, 5}, 4);
  auto ob = matmul(a3, bb);
  check_close(reshape(slice(ob, 0, 2, 3), {7, 5}),
              ref_mm(reshape(slice(a3, 0, 2, 3), {7, 13}), reshape(slice(bb, 0, 2, 3), {13, 5})), "batched");
}

TEST_CASE("linear: forward matches a plain loop, in float too") {
  auto x = test::uniform<double>({2, 3, 3, 9}, 5), w = test::uniform<double>({9, 11}, 6),
       b = test::uniform<double>({11}, 7);
  auto y = linear(x, w, b);
  auto ref = ref_mm(reshape(x, {-1, 9}), w) + b;
  check_close(reshape(y, {-1, 11}), ref, "double");
  auto yf = linear(to_dtype<float>(x), to_dtype<float>(w), to_dtype<float>(b));
  check_close(yf, y, 1e-5, 1e-5, "float vs double");
}

// No input features (an empty sum: the bias, or zeros) and no outputs: forward and backward
// keep every shape, where reshape's -1 cannot be resolved.
TEST_CASE("matmul, linear, pointwise_conv2d: zero input features or zero outputs") {
  auto x = Tensor<double>::zeros({2, 3, 0}).set_requires_grad();
  auto w = Tensor<double>::zeros({0, 4}).set_requires_grad();
  auto b = test::uniform<double>({4}, 8).set_requires_grad();
  auto y = matmul(x, w);
  CHECK(y.shape() == Shape{2, 3, 4});
  check_close(y, Tensor<double>::zeros({2, 3, 4}), "matmul over no features: zeros");
  auto yl = linear(x, w, b);
  check_close(yl, broadcast_to(b.detach(), {2, 3, 4}), "linear without features: the bias");
  sum(yl).backward();
  CHECK(x.grad().shape() == Shape{2, 3, 0});
  CHECK(w.grad().shape() == Shape{0, 4});
  check_close(b.grad(), Tensor<double>::full({4}, 6.0), "bias gradient: one per row");
  auto xp = test::uniform<double>({2, 3, 3, 5}, 9).set_requires_grad();
  auto wp = Tensor<double>::zeros({5, 0}).set_requires_grad();
  auto yp = pointwise_conv2d(xp, wp);
  CHECK(yp.shape() == Shape{2, 3, 3, 0});
  yp.backward(Tensor<double>::zeros({2, 3, 3, 0}));
  check_close(xp.grad(), Tensor<double>::zeros({2, 3, 3, 5}), "no outputs: a zero input gradient");
  CHECK(wp.grad().shape() == Shape{5, 0});
}

TEST_CASE("matmul, linear: bad shapes throw naming the op") {
  auto a = Tensor<float>::zeros({3, 4});
  CHECK_THROWS_PN(matmul(a, Tensor<float>::zeros({5, 2})), "matmul: inner dimensions differ");
  CHECK_THROWS_PN(matmul(Tensor<float>::zeros({4}), a), "matmul");
  CHECK_THROWS_PN(matmul(Tensor<float>::zeros({2, 3, 4}), Tensor<float>::zeros({3, 4, 2})), "batch sizes differ");
  CHECK_THROWS_PN(linear(a, Tensor<float>::zeros({5, 2})), "linear: input [3,4] has 4 features");
  CHECK_THROWS_PN(linear(a, Tensor<float>::zeros({4, 2}), Tensor<float>::zeros({3})), "linear: bias");
  CHECK_THROWS_PN(linear(a, Tensor<float>::zeros({4})), "weight [4] must have rank 2");
}
