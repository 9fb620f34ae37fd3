// Autograd: accumulation, explicit output gradients, no_grad, detach, graph freeing,
// and the engine's error messages.
#include "support/test_util.hpp"

using namespace patchnet;
using patchnet::test::check_close;

TEST_CASE("autograd: a tensor feeding several ops accumulates its gradient") {
  auto x = Tensor<double>::from_vector({1, 2, 3}, {3}).set_requires_grad();
  auto y = sum(x * x + x * 3.0 + exp(x) * 0.0);
  y.backward();
  check_close(x.grad(), Tensor<double>::from_vector({5, 7, 9}, {3}), "d/dx (x^2 + 3x)");
  // A second graph adds into the same grad until it is zeroed.
  sum(x * 2.0).backward();
  check_close(x.grad(), Tensor<double>::from_vector({7, 9, 11}, {3}), "accumulated");
  x.zero_grad();
  CHECK_FALSE(x.grad().defined());
}

TEST_CASE("autograd: explicit output gradient for a non-scalar output") {
  auto x = Tensor<double>::from_vector({1, 2, 3, 4}, {2, 2}).set_requires_grad();
  auto y = x * x;
  CHECK_THROWS_PN(y.backward(), "only for a tensor of one element");
  y.backward(Tensor<double>::from_vector({1, 0, 0, 1}, {2, 2}));
  check_close(x.grad(), Tensor<double>::from_vector({2, 0, 0, 8}, {2, 2}), "vjp");
  CHECK_THROWS_PN(y.backward(Tensor<double>::ones({3})), "gradient of shape [3]");
}

TEST_CASE("autograd: no_grad and detach record nothing") {
  auto x = Tensor<double>::ones({2}).set_requires_grad();
  {
    NoGrad ng;
    auto y = x * 2.0;
    CHECK_FALSE(y.requires_grad());
    CHECK(y.is_leaf());
    {
      EnableGrad eg;
      CHECK((x * 2.0).requires_grad());
    }
  }
  CHECK(autograd::is_grad_enabled());
  auto d = x.detach();
  CHECK_FALSE(d.requires_grad());
  CHECK(d.shares_storage(x));
  auto z = sum(d * x);  // only the x factor carries a gradient
  z.backward();
  check_close(x.grad(), Tensor<double>::ones({2}), "gradient through the non-detached factor");
  CHECK_THROWS_PN(sum(d).backward(), "does not require grad");
}

TEST_CASE("autograd: the graph is freed after backward unless retained") {
  auto x = Tensor<double>::from_vector({2}, {1}).set_requires_grad();
  auto y = sum(x * x * x);
  y.backward(true);
  y.backward();  // second pass allowed: the first retained the graph
  check_close(x.grad(), Tensor<double>::from_vector({24}, {1}), "two passes of 3x^2");
  CHECK_THROWS_PN(y.backward(), "already freed");
  // Another output sharing the freed part fails the same way, naming the freed op.
  auto a = x * 2.0;
  auto b = sum(a);
  auto c = sum(a * 3.0);
  b.backward();
  CHECK_THROWS_PN(c.backward(), "already freed");
}

TEST_CASE("autograd: gradients of leaves are fresh tensors, not aliases") {
  auto a = Tensor<double>::ones({2}).set_requires_grad();
  auto b = Tensor<double>::ones({2}).set_requires_grad();
  sum(a + b).backward();
  CHECK_FALSE(a.grad().shares_storage(b.grad()));
  // An explicit output gradient the caller keeps is copied, not taken over.
  auto c = Tensor<double>::ones({2}).set_requires_grad();
  auto g = Tensor<double>::full({2}, 3.0);
  c.backward(g);
  CHECK_FALSE(c.grad().shares_storage(g));
  auto d = Tensor<double>::ones({2}).set_requires_grad();
  (d * 1.0).backward(g);
  CHECK_FALSE(d.grad().shares_storage(g));
  g.fill_(0);
  CHECK(d.grad().to_vector() == std::vector<double>{3, 3});
}

TEST_CASE("reduce: a long sum is split the same way whatever the thread count") {
  auto x = test::uniform<float>({1 << 20}, 11);
  const int threads = cpu::max_threads();
  const float all = sum(x).item();
#ifdef _OPENMP
  omp_set_num_threads(1);
  const float one = sum(x).item();
  omp_set_num_threads(threads);
  CHECK(one == all);
#endif
  double ref = 0;
  for (float v : x.to_vector()) ref += v;
  CHECK(all == doctest::Approx(ref).epsilon(1e-6));
}

TEST_CASE("autograd: set_requires_grad only on leaves, in-place writes need NoGrad") {
  auto x = Tensor<double>::ones({2}).set_requires_grad();
  auto y = x * 2.0;
  CHECK_THROWS_PN(y.set_requires_grad(), "only leaf tensors");
  CHECK_THROWS_PN(x.fill_(0), "NoGrad");
  {
    NoGrad ng;
    x.fill_(3);
  }
  CHECK(x.to_vector() == std::vector<double>{3, 3});
}

TEST_CASE("autograd: a deep chain runs without recursion limits") {
  auto x = Tensor<double>::ones({4}).set_requires_grad();
  auto y = x;
  for (int i = 0; i < 5000; ++i) y = y * 1.0;
  sum(y).backward();
  check_close(x.grad(), Tensor<double>::ones({4}), "5000 multiplications by one");
}

TEST_CASE("autograd: gradcheck reports a wrong gradient") {
  // An op whose backward is deliberately wrong must fail gradcheck.
  auto bad_square = [](const Tensor<double>& x) {
    Tensor<double> out = detail::unary_forward(math::UnaryOp::Square, x, 0.0);
    autograd::record<double>("bad_square", {x}, {out}, [xd = x.detach()](const auto& g, const auto&) {
      return std::vector<Tensor<double>>{g[0] * xd * 3.0};  // should be 2x
    });
    return out;
  };
  auto x = Tensor<double>::from_vector({0.5, -1.0, 2.0}, {3}).set_requires_grad();
  const GradcheckResult bad = gradcheck([&](const auto& in) { return bad_square(in[0]); }, {x});
  CHECK_FALSE(bad.ok);
  CHECK(bad.message.find("analytical") != std::string::npos);
  const GradcheckResult good = gradcheck([](const auto& in) { return square(in[0]); }, {x});
  CHECK_MESSAGE(good.ok, good.message);
}
