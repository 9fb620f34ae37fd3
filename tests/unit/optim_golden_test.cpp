// AdamW, Adam and SGD against the trajectories in tests/golden/optim.txt (PyTorch's
// optimizers, and the Keras 3 / TFA AdamW and Keras Adam updates written out in
// tests/golden/make_optim_golden.py), in double and in float.
//
// Each case gives the initial parameters, the gradient of each of 5 steps, the learning rate
// of each step, the parameters after each step and the final state. The conventions differ
// from patchnet's single update rule only in the order of roundings (p * (1 - lr wd)
// against p - (lr wd) p, a division by sqrt(1 - b2^t) against a multiplication): measured,
// double agrees within 2e-15 relative, float within 3e-8 absolute (inputs rounded to float,
// then every operation). A swapped convention (decay scaled by lr or not, eps inside or
// outside the bias correction) moves values by 1e-4 or more in the cases with a large wd
// or eps (checked by swapping each in the code: both golden tests then fail).
//   double: rtol 1e-11, atol 1e-12;   float: rtol 1e-5, atol 1e-6.
#include <set>
#include <string>
#include <vector>

#include "patchnet/optim/adam.hpp"
#include "patchnet/optim/sgd.hpp"
#include "support/golden.hpp"
#include "support/test_util.hpp"

using namespace patchnet;
namespace gd = patchnet::test::golden;

namespace {

template <class T>
std::unique_ptr<optim::Optimizer<T>> make_optimizer(const gd::Case& c, std::vector<optim::ParamRef<T>> params) {
  const std::string kind = c.attr("optimizer");
  if (kind == "sgd") {
    optim::SGDOptions o;
    o.momentum = c.attr_double("momentum");
    o.weight_decay = c.attr_double("weight_decay");
    o.nesterov = c.attr_int("nesterov") != 0;
    return std::make_unique<optim::SGD<T>>(std::move(params), o);
  }
  const auto epsilon =
      c.attr("epsilon") == "keras" ? optim::EpsilonConvention::Keras : optim::EpsilonConvention::PyTorch;
  if (kind == "adam") {
    optim::AdamOptions o;
    o.beta1 = c.attr_double("beta1");
    o.beta2 = c.attr_double("beta2");
    o.eps = c.attr_double("eps");
    o.epsilon = epsilon;
    return std::make_unique<optim::Adam<T>>(std::move(params), o);
  }
  REQUIRE(kind == "adamw");
  optim::AdamWOptions o;
  o.beta1 = c.attr_double("beta1");
  o.beta2 = c.attr_double("beta2");
  o.eps = c.attr_double("eps");
  o.weight_decay = c.attr_double("weight_decay");
  o.decay = c.attr("decay") == "unscaled" ? optim::DecayConvention::Unscaled : optim::DecayConvention::ScaledByLr;
  o.epsilon = epsilon;
  return std::make_unique<optim::AdamW<T>>(std::move(params), o);
}

template <class T>
void run_case(const gd::Case& c) {
  const double rtol = sizeof(T) == 8 ? 1e-11 : 1e-5, atol = sizeof(T) == 8 ? 1e-12 : 1e-6;
  const std::vector<std::string>& names = c.attr_values("params");
  std::set<std::string> no_decay;
  if (c.has_attr("no_decay"))
    for (const auto& n : c.attr_values("no_decay")) no_decay.insert(n);
  std::vector<optim::ParamRef<T>> params;
  for (const auto& n : names) params.push_back({n, c.tensor<T>(n).set_requires_grad(), no_decay.count(n) == 0});
  auto opt = make_optimizer<T>(c, params);

  const std::vector<std::string>& lrs = c.attr_values("lr");
  for (size_t t = 1; t <= lrs.size(); ++t) {
    for (auto& p : params) p.tensor.set_grad(c.tensor<T>("grad_" + p.name + "_" + std::to_string(t)));
    CHECK(opt->steps() == static_cast<int64_t>(t - 1));
    opt->step(c.attr_double("lr", t - 1));
    opt->zero_grad();
    for (auto& p : params) {
      const std::string key = p.name + "_" + std::to_string(t);
      test::check_close(p.tensor, c.tensor<double>(key), rtol, atol, c.name + " " + dtype_name<T>() + " " + key);
    }
  }
  // The final state, under the names state_tensors() gives, and nothing else.
  std::set<std::string> expected;
  for (const auto& key : c.order)
    if (key.find('.') != std::string::npos) expected.insert(key);
  std::set<std::string> seen;
  for (const auto& [key, t] : opt->state_tensors()) {
    seen.insert(key);
    REQUIRE_MESSAGE(c.has(key), c.name, ": state tensor '", key, "' not in the golden file");
    test::check_close(t, c.tensor<double>(key), rtol, atol, c.name + " " + dtype_name<T>() + " " + key);
  }
  CHECK_MESSAGE(seen == expected, c.name, ": state tensor names differ from the golden file");
}

}  // namespace

TEST_CASE("optim golden: AdamW, Adam, SGD against PyTorch / Keras / TFA (double)") {
  const gd::File f = gd::load("optim.txt");
  CHECK(f.cases.size() >= 14);
  for (const auto& c : f.cases) {
    CAPTURE(c.name);
    run_case<double>(c);
  }
}

TEST_CASE("optim golden: AdamW, Adam, SGD against PyTorch / Keras / TFA (float)") {
  const gd::File f = gd::load("optim.txt");
  for (const auto& c : f.cases) {
    CAPTURE(c.name);
    run_case<float>(c);
  }
}
