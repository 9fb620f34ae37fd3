// Optimizer behaviour beyond the golden trajectories: the two weight-decay conventions,
// skipped parameters, decay=false, state aliasing and checkpoint resume, the threaded path
// on a large tensor, and bad input.
#include <cmath>
#include <string>
#include <vector>

#include "patchnet/optim/adam.hpp"
#include "patchnet/optim/sgd.hpp"
#include "support/test_util.hpp"

using namespace patchnet;
using optim::ParamRef;

namespace {

Tensor<double> leaf(std::initializer_list<double> v) {
  return Tensor<double>::from_vector(v, {static_cast<int64_t>(v.size())}).set_requires_grad();
}

}  // namespace

TEST_CASE("optim: Unscaled decay is wd * p, ScaledByLr is lr * wd * p") {
  // A zero gradient leaves m = v = 0, so the Adam term is 0 / (0 + eps) = 0 and only the
  // decay moves p: by lr * wd (torch, Keras 3) or by wd alone (TFA).
  const double lr = 0.5, wd = 0.1;
  for (auto decay : {optim::DecayConvention::ScaledByLr, optim::DecayConvention::Unscaled}) {
    auto p = leaf({2.0, -4.0});
    optim::AdamWOptions o = optim::AdamWOptions::pytorch(wd);
    o.decay = decay;
    optim::AdamW<double> opt({{"p", p}}, o);
    p.set_grad(Tensor<double>::zeros({2}));
    opt.step(lr);
    const double factor = decay == optim::DecayConvention::ScaledByLr ? 1 - lr * wd : 1 - wd;
    CHECK(p.at({0}) == doctest::Approx(2.0 * factor).epsilon(1e-15));
    CHECK(p.at({1}) == doctest::Approx(-4.0 * factor).epsilon(1e-15));
  }
  // The presets pick the conventions the libraries use.
  CHECK(optim::AdamWOptions::pytorch().decay == optim::DecayConvention::ScaledByLr);
  CHECK(optim::AdamWOptions::keras().decay == optim::DecayConvention::ScaledByLr);
  CHECK(optim::AdamWOptions::tensorflow_addons().decay == optim::DecayConvention::Unscaled);
  CHECK(optim::AdamWOptions::pytorch().epsilon == optim::EpsilonConvention::PyTorch);
  CHECK(optim::AdamWOptions::keras().epsilon == optim::EpsilonConvention::Keras);
  CHECK(optim::AdamWOptions::tensorflow_addons().epsilon == optim::EpsilonConvention::Keras);
  CHECK(optim::AdamWOptions::keras().eps == 1e-7);
  CHECK(optim::AdamWOptions::tensorflow_addons(3e-4).weight_decay == 3e-4);
  CHECK(optim::AdamOptions::keras().eps == 1e-7);
  CHECK(optim::AdamOptions::keras().epsilon == optim::EpsilonConvention::Keras);
}

TEST_CASE("optim: a parameter without a gradient is skipped, its state untouched") {
  auto a = leaf({1.0, 2.0}), b = leaf({3.0, 4.0});
  optim::AdamW<double> opt({{"a", a}, {"b", b}}, optim::AdamWOptions::pytorch(0.1));
  a.set_grad(Tensor<double>::from_vector({0.5, -0.5}, {2}));
  opt.step(0.1);
  CHECK(opt.steps() == 1);
  CHECK(b.to_vector() == std::vector<double>{3.0, 4.0});  // no decay either
  CHECK(a.at({0}) != 1.0);
  for (const auto& [name, t] : opt.state_tensors()) {
    const bool zero = t.to_vector() == std::vector<double>{0.0, 0.0};
    CHECK_MESSAGE(zero == (name.rfind("b.", 0) == 0), name);
  }
  // SGD with momentum too.
  auto c = leaf({1.0}), d = leaf({2.0});
  optim::SGD<double> sgd({{"c", c}, {"d", d}}, {.momentum = 0.9, .weight_decay = 0.1});
  c.set_grad(Tensor<double>::ones({1}));
  sgd.step(0.1);
  CHECK(d.item() == 2.0);
  CHECK(sgd.state_tensors()[1].second.item() == 0.0);
  CHECK(sgd.state_tensors()[0].second.item() == doctest::Approx(1.1));
}

TEST_CASE("optim: decay=false excludes a parameter from weight decay") {
  auto w = leaf({2.0}), bias = leaf({2.0});
  optim::AdamW<double> opt({{"w", w}, {"bias", bias, false}}, optim::AdamWOptions::tensorflow_addons(0.25));
  w.set_grad(Tensor<double>::zeros({1}));
  bias.set_grad(Tensor<double>::zeros({1}));
  opt.step(1e-3);
  CHECK(w.item() == doctest::Approx(1.5));
  CHECK(bias.item() == 2.0);

  auto u = leaf({2.0}), v = leaf({2.0});
  optim::SGD<double> sgd({{"u", u}, {"v", v, false}}, {.weight_decay = 0.5});
  u.set_grad(Tensor<double>::zeros({1}));
  v.set_grad(Tensor<double>::zeros({1}));
  sgd.step(0.1);
  CHECK(u.item() == doctest::Approx(2.0 - 0.1 * 0.5 * 2.0));
  CHECK(v.item() == 2.0);
}

TEST_CASE("optim: zero_grad drops the gradients") {
  auto a = leaf({1.0});
  optim::SGD<double> opt({{"a", a}});
  a.set_grad(Tensor<double>::ones({1}));
  opt.zero_grad();
  CHECK_FALSE(a.grad().defined());
  opt.step(1.0);  // nothing to do
  CHECK(a.item() == 1.0);
  CHECK(opt.steps() == 1);
}

TEST_CASE("optim: state_tensors alias the live state, a copied state resumes exactly") {
  const std::vector<double> g1{0.3, -0.7, 0.1}, g2{-0.2, 0.5, 0.9}, g3{0.4, 0.4, -0.6};
  auto grad = [](const std::vector<double>& v) { return Tensor<double>::from_vector(v, {3}); };

  auto a = Tensor<double>::from_vector({1.0, -2.0, 0.5}, {3}).set_requires_grad();
  optim::AdamW<double> opt_a({{"p", a}}, optim::AdamWOptions::keras(0.05));
  a.set_grad(grad(g1));
  opt_a.step(0.01);
  a.set_grad(grad(g2));
  opt_a.step(0.02);

  // The names, and aliasing: two calls return handles over one storage.
  auto s1 = opt_a.state_tensors(), s2 = opt_a.state_tensors();
  REQUIRE(s1.size() == 2);
  CHECK(s1[0].first == "p.exp_avg");
  CHECK(s1[1].first == "p.exp_avg_sq");
  CHECK(s1[0].second.shares_storage(s2[0].second));

  // "Checkpoint": a fresh optimizer on a copy of the parameter, state copied in, step count
  // restored; the next step must match the original bit for bit.
  auto b = a.detach().clone().set_requires_grad();
  optim::AdamW<double> opt_b({{"p", b}}, optim::AdamWOptions::keras(0.05));
  auto sb = opt_b.state_tensors();
  for (size_t i = 0; i < sb.size(); ++i) sb[i].second.copy_(s1[i].second);
  opt_b.set_steps(opt_a.steps());
  a.set_grad(grad(g3));
  b.set_grad(grad(g3));
  opt_a.step(0.015);
  opt_b.step(0.015);
  CHECK(a.to_vector() == b.to_vector());

  // Without the copied state the outcome differs: the copy went into the live state.
  auto c = b.detach().clone().set_requires_grad();
  auto d = b.detach().clone().set_requires_grad();
  optim::AdamW<double> opt_c({{"p", c}}, optim::AdamWOptions::keras(0.05));
  optim::AdamW<double> opt_d({{"p", d}}, optim::AdamWOptions::keras(0.05));
  opt_d.state_tensors()[0].second.copy_(Tensor<double>::full({3}, 5.0));
  c.set_grad(grad(g1));
  d.set_grad(grad(g1));
  opt_c.step(0.01);
  opt_d.step(0.01);
  CHECK(c.to_vector() != d.to_vector());

  // SGD's momentum buffer likewise.
  auto e = leaf({1.0}), f = leaf({1.0});
  optim::SGD<double> sgd_e({{"e", e}}, {.momentum = 0.9}), sgd_f({{"e", f}}, {.momentum = 0.9});
  REQUIRE(sgd_f.state_tensors().size() == 1);
  CHECK(sgd_f.state_tensors()[0].first == "e.momentum_buffer");
  sgd_f.state_tensors()[0].second.fill_(1.0);
  e.set_grad(Tensor<double>::ones({1}));
  f.set_grad(Tensor<double>::ones({1}));
  sgd_e.step(0.1);
  sgd_f.step(0.1);
  CHECK(e.item() == doctest::Approx(0.9));
  CHECK(f.item() == doctest::Approx(1.0 - 0.1 * (0.9 + 1.0)));
  // No momentum, no buffer.
  optim::SGD<double> plain({{"e", e}});
  CHECK(plain.state_tensors().empty());
}

TEST_CASE("optim: the threaded path on a large tensor equals the small one element for element") {
  const int64_t n = (int64_t(1) << 16) + 37;
  auto big = test::uniform<float>({n}, 11).set_requires_grad();
  auto gbig = test::uniform<float>({n}, 12);
  const int64_t k = 9;
  auto small = slice(big, 0, n - k, n).contiguous().detach().set_requires_grad();
  auto gsmall = slice(gbig, 0, n - k, n).contiguous();
  optim::AdamW<float> ob({{"p", big}}, optim::AdamWOptions::tensorflow_addons(1e-2));
  optim::AdamW<float> os({{"p", small}}, optim::AdamWOptions::tensorflow_addons(1e-2));
  for (int t = 0; t < 3; ++t) {
    big.set_grad(gbig);
    small.set_grad(gsmall);
    ob.step(1e-3);
    os.step(1e-3);
  }
  const auto vb = big.to_vector(), vs = small.to_vector();
  for (int64_t i = 0; i < k; ++i) CHECK(vb[static_cast<size_t>(n - k + i)] == vs[static_cast<size_t>(i)]);
}

TEST_CASE("optim: errors") {
  auto p = leaf({1.0, 2.0});
  using V = std::vector<ParamRef<double>>;
  CHECK_THROWS_PN(optim::AdamW<double>(V{}), "AdamW: empty parameter list");
  CHECK_THROWS_PN(optim::Adam<double>(V{{"", p}}), "Adam: parameter 0 has an empty name");
  CHECK_THROWS_PN(optim::SGD<double>(V{{"a", p}, {"a", leaf({1.0})}}), "SGD: parameter name 'a' appears twice");
  CHECK_THROWS_PN(optim::SGD<double>(V{{"a", p}, {"b", p}}), "are the same tensor");
  CHECK_THROWS_PN(optim::SGD<double>(V{{"a", Tensor<double>()}}), "'a' is an undefined tensor");
  CHECK_THROWS_PN(optim::SGD<double>(V{{"a", mul(p, 2.0)}}), "was made by an op");
  auto m = Tensor<double>::zeros({2, 3});
  CHECK_THROWS_PN(optim::SGD<double>(V{{"t", transpose(m, 0, 1)}}), "non-contiguous");

  optim::AdamWOptions bad;
  bad.beta1 = 1.0;
  CHECK_THROWS_PN(optim::AdamW<double>(V{{"a", p}}, bad), "AdamW: beta1 1 must be in [0, 1)");
  bad = {};
  bad.beta2 = -0.1;
  CHECK_THROWS_PN(optim::AdamW<double>(V{{"a", p}}, bad), "beta2");
  bad = {};
  bad.eps = -1;
  CHECK_THROWS_PN(optim::AdamW<double>(V{{"a", p}}, bad), "eps");
  bad = {};
  bad.weight_decay = NAN;
  CHECK_THROWS_PN(optim::AdamW<double>(V{{"a", p}}, bad), "weight_decay");
  CHECK_THROWS_PN(optim::SGD<double>(V{{"a", p}}, {.nesterov = true}), "SGD: nesterov needs a momentum > 0");
  CHECK_THROWS_PN(optim::SGD<double>(V{{"a", p}}, {.momentum = -1}), "SGD: momentum");

  optim::AdamW<double> opt(V{{"a", p}});
  CHECK_THROWS_PN(opt.step(-1e-3), "AdamW: learning rate -0.001 must be finite and >= 0");
  CHECK_THROWS_PN(opt.step(NAN), "learning rate");
  CHECK_THROWS_PN(opt.set_steps(-1), "AdamW: set_steps(-1)");
  p.set_grad(Tensor<double>::zeros({3}));
  CHECK_THROWS_PN(opt.step(1e-3), "AdamW: gradient of 'a' has shape [3], the parameter [2]");
  CHECK(opt.steps() == 0);
  CHECK(opt.name() == "AdamW");
}
