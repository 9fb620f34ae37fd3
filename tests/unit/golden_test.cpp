// patchnet against golden values from PyTorch (tests/golden/*.txt, written in float64 by
// tests/golden/make_golden.py with Keras/TensorFlow semantics; see tests/golden/README.md).
//
// Each case stores the inputs and parameters, the outputs, a random output gradient
// grad_<out> and the gradients grad_<name> of every input and parameter. A case runs in
// double and in float: the named tensors are loaded (those with a stored gradient as
// leaves that require grad), the op or block runs, the outputs are compared, backward runs
// with the stored output gradient, and the leaves' gradients are compared. Every tensor in
// the file must be used, so a parameter the test forgot to differentiate fails.
//
// Tolerances, per element: |a - e| <= rtol |e| + atol * max(1, max|e|) over the tensor.
// patchnet and torch sum in different orders (and patchnet accumulates some statistics in
// double even for float), so only rounding may differ. Measured on these cases, as a
// fraction of the tensor's scale, the worst differences are 7e-15 in double (a bias
// gradient through batch norm over one reduced channel) and 7e-7 in float (inputs rounded
// to float, then every op rounding again). The tolerances leave ~100x (double) and ~15x
// (float) of room for other CPUs and BLAS blockings; a wrong index, padding or formula
// shows up at 1e-3 or more.
//   double: rtol 1e-11, atol 1e-12;   float: rtol 1e-5, atol 1e-5.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "patchnet/ops/activation.hpp"
#include "patchnet/ops/batch_norm.hpp"
#include "patchnet/ops/channel_shift.hpp"
#include "patchnet/ops/conv.hpp"
#include "patchnet/ops/involution.hpp"
#include "patchnet/ops/layer_norm.hpp"
#include "patchnet/ops/loss.hpp"
#include "patchnet/ops/matmul.hpp"
#include "patchnet/ops/pool.hpp"
#include "support/golden.hpp"
#include "support/test_util.hpp"

using namespace patchnet;
namespace gd = patchnet::test::golden;

namespace {

// The tensors of one case as a run sees them. get() loads a stored tensor on first use
// (later calls return the same handle); those with a stored gradient become leaves that
// require grad, and get() remembers them all so that check_case can find their gradients.
template <class T>
class CaseInputs {
 public:
  using value_type = T;
  explicit CaseInputs(const gd::Case& c) : c_(c) {}

  Tensor<T> get(const std::string& name) {
    auto it = leaves_.find(name);
    if (it != leaves_.end()) return it->second;
    Tensor<T> t = c_.tensor<T>(name);
    if (c_.has("grad_" + name)) t.set_requires_grad();
    leaves_.emplace(name, t);
    return t;
  }
  // Undefined when the case has no such tensor (an op without bias).
  Tensor<T> opt(const std::string& name) { return c_.has(name) ? get(name) : Tensor<T>(); }

  Tensor<int32_t> labels(const std::string& name) {
    used_.insert(name);
    const gd::Array& a = c_.array(name);
    std::vector<int32_t> v(a.values.begin(), a.values.end());
    return Tensor<int32_t>::from_vector(v, a.shape);
  }

  const gd::Case& info() const { return c_; }
  const std::map<std::string, Tensor<T>>& leaves() const { return leaves_; }
  const std::set<std::string>& used() const { return used_; }

 private:
  const gd::Case& c_;
  std::map<std::string, Tensor<T>> leaves_;
  std::set<std::string> used_;
};

template <class T>
using Outputs = std::map<std::string, Tensor<T>>;

// The scalar type of a run's CaseInputs<T>& argument, for the generic run lambdas.
template <class In>
using scalar_of = typename std::decay_t<In>::value_type;

template <class T>
void check_against(const Tensor<T>& actual, const gd::Case& c, const std::string& name) {
  const Tensor<double> expected = c.tensor<double>(name);
  const double rtol = sizeof(T) == 8 ? 1e-11 : 1e-5, atol_rel = sizeof(T) == 8 ? 1e-12 : 1e-5;
  double scale = 1.0;
  for (double v : expected.to_vector()) scale = std::max(scale, std::abs(v));
  REQUIRE_MESSAGE(actual.defined(), c.name, ": ", name, " is undefined");
  test::check_close(actual, expected, rtol, atol_rel * scale,
                    c.name + " (" + (sizeof(T) == 8 ? "double" : "float") + "): " + name);
}

// Runs one case in T (see the file comment). run: (CaseInputs<T>&) -> Outputs<T>.
template <class T, class Run>
void check_case(const gd::Case& c, Run&& run) {
  CaseInputs<T> in(c);
  const Outputs<T> out = run(in);
  std::set<std::string> checked = in.used();
  for (const auto& [name, t] : in.leaves()) checked.insert(name);

  std::vector<std::string> graded;
  for (const auto& [name, t] : out) {
    REQUIRE_MESSAGE(c.has(name), c.name, ": the file has no output '", name, "'");
    check_against(t, c, name);
    checked.insert(name);
    if (c.has("grad_" + name)) graded.push_back(name);
  }
  REQUIRE_MESSAGE(!graded.empty(), c.name, ": no output has a stored gradient");
  if (graded.size() == 1) {
    out.at(graded[0]).backward(c.tensor<T>("grad_" + graded[0]));
  } else {
    Tensor<T> loss;
    for (const auto& name : graded) {
      const Tensor<T> term = sum(out.at(name) * c.tensor<T>("grad_" + name));
      loss = loss.defined() ? loss + term : term;
    }
    loss.backward();
  }
  for (const auto& name : graded) checked.insert("grad_" + name);
  for (const auto& [name, leaf] : in.leaves()) {
    if (!c.has("grad_" + name)) continue;
    check_against(leaf.grad(), c, "grad_" + name);
    checked.insert("grad_" + name);
  }
  for (const auto& name : c.order)
    CHECK_MESSAGE(checked.count(name), c.name, ": stored tensor '", name, "' was not used by the test");
}

const gd::File& golden_file(const std::string& name) {
  static std::map<std::string, gd::File> cache;
  auto it = cache.find(name);
  if (it == cache.end()) it = cache.emplace(name, gd::load(name + ".txt")).first;
  return it->second;
}

// Runs `run` in double and float on every case of `file` whose attr op is in `ops` (all
// cases when ops is empty); fails when there are none.
template <class Run>
void for_cases(const std::string& file, const std::set<std::string>& ops, Run run) {
  int n = 0;
  for (const gd::Case& c : golden_file(file).cases) {
    if (!ops.empty() && !(c.has_attr("op") && ops.count(c.attr("op")))) continue;
    INFO("golden case ", file, ".txt: ", c.name);
    check_case<double>(c, run);
    check_case<float>(c, run);
    ++n;
  }
  CHECK_MESSAGE(n > 0, file, ".txt has no cases for the ops asked for");
}

// The one case of `file` called `name`, in double and float.
template <class Run>
void for_case(const std::string& file, const std::string& name, Run run) {
  for (const gd::Case& c : golden_file(file).cases) {
    if (c.name != name) continue;
    INFO("golden case ", file, ".txt: ", c.name);
    check_case<double>(c, run);
    check_case<float>(c, run);
    return;
  }
  FAIL("no case ", name, " in ", file, ".txt");
}

Hw hw_attr(const gd::Case& c, const std::string& key) { return Hw(c.attr_int(key, 0), c.attr_int(key, 1)); }

Padding padding_attr(const gd::Case& c) {
  const std::string& p = c.attr("padding");
  if (p == "same") return Padding::Same;
  if (p == "explicit") return Padding::Explicit;
  REQUIRE_MESSAGE(p == "valid", c.name, ": unknown padding ", p);
  return Padding::Valid;
}

Conv2dOptions conv_options(const gd::Case& c) {
  Conv2dOptions o;
  o.stride = hw_attr(c, "stride");
  o.padding = padding_attr(c);
  if (c.has_attr("pad"))
    o.pad = {c.attr_int("pad", 0), c.attr_int("pad", 1), c.attr_int("pad", 2), c.attr_int("pad", 3)};
  if (c.has_attr("groups")) o.groups = c.attr_int("groups");
  return o;
}

BatchNormOptions bn_options(const gd::Case& c) {
  return {.momentum = c.attr_double("momentum"),
          .eps = c.attr_double("eps"),
          .unbiased_running_var = c.attr_int("unbiased_running_var") != 0};
}

// Keras BatchNormalization (defaults) in training on `prefix`_* tensors; records the
// updated running statistics as outputs `prefix`_running_*_after.
template <class T>
Tensor<T> keras_bn_train(CaseInputs<T>& in, Outputs<T>& out, const Tensor<T>& x, const std::string& prefix) {
  Tensor<T> rm = in.get(prefix + "_running_mean"), rv = in.get(prefix + "_running_var");
  Tensor<T> y = batch_norm(x, in.get(prefix + "_gamma"), in.get(prefix + "_beta"), rm, rv, true);
  out[prefix + "_running_mean_after"] = rm;
  out[prefix + "_running_var_after"] = rv;
  return y;
}

// The involution example's involution layer of a case (attrs kernel_size, stride, groups, training).
template <class T>
Tensor<T> involution_layer_of(CaseInputs<T>& in, Outputs<T>& out) {
  const gd::Case& c = in.info();
  InvolutionParams<T> p{in.get("reduce_weight"), in.get("reduce_bias"),     in.get("bn_gamma"),
                        in.get("bn_beta"),       in.get("bn_running_mean"), in.get("bn_running_var"),
                        in.get("span_weight"),   in.get("span_bias")};
  const InvolutionOptions opt{
      .kernel_size = c.attr_int("kernel_size"), .stride = c.attr_int("stride"), .groups = c.attr_int("groups")};
  const InvolutionResult<T> r = involution_layer(in.get("x"), p, opt, c.attr_int("training") != 0);
  out["kernel"] = r.kernel;
  out["bn_running_mean_after"] = p.bn_running_mean;
  out["bn_running_var_after"] = p.bn_running_var;
  return r.output;
}

}  // namespace

// ---- ops ------------------------------------------------------------------------------

TEST_CASE("golden: matmul, linear") {
  for_cases("matmul", {}, [](auto& in) {
    using T = scalar_of<decltype(in)>;
    Outputs<T> out;
    if (in.info().attr("op") == "matmul") out["y"] = matmul(in.get("a"), in.get("b"));
    else out["y"] = linear(in.get("x"), in.get("w"), in.opt("b"));
    return out;
  });
}

TEST_CASE("golden: elementwise add, sub, mul, div with broadcasting") {
  for_cases("elementwise", {}, [](auto& in) {
    using T = scalar_of<decltype(in)>;
    const std::string& op = in.info().attr("op");
    const Tensor<T> a = in.get("a"), b = in.get("b");
    Outputs<T> out;
    if (op == "add") out["y"] = a + b;
    else if (op == "sub") out["y"] = a - b;
    else if (op == "mul") out["y"] = a * b;
    else if (op == "div") out["y"] = a / b;
    return out;
  });
}

TEST_CASE("golden: conv2d") {
  for_cases("conv", {"conv2d"}, [](auto& in) {
    using T = scalar_of<decltype(in)>;
    return Outputs<T>{{"y", conv2d(in.get("x"), in.get("w"), in.opt("b"), conv_options(in.info()))}};
  });
}

TEST_CASE("golden: depthwise_conv2d") {
  for_cases("conv", {"depthwise_conv2d"}, [](auto& in) {
    using T = scalar_of<decltype(in)>;
    return Outputs<T>{{"y", depthwise_conv2d(in.get("x"), in.get("w"), in.opt("b"), conv_options(in.info()))}};
  });
}

TEST_CASE("golden: pointwise_conv2d") {
  for_cases("conv", {"pointwise_conv2d"}, [](auto& in) {
    using T = scalar_of<decltype(in)>;
    return Outputs<T>{{"y", pointwise_conv2d(in.get("x"), in.get("w"), in.opt("b"))}};
  });
}

TEST_CASE("golden: batch_norm, train and eval, running statistics after the step") {
  for_cases("norm", {"batch_norm"}, [](auto& in) {
    using T = scalar_of<decltype(in)>;
    const gd::Case& c = in.info();
    Tensor<T> rm = in.get("running_mean"), rv = in.get("running_var");
    Outputs<T> out;
    out["y"] =
        batch_norm(in.get("x"), in.get("gamma"), in.get("beta"), rm, rv, c.attr_int("training") != 0, bn_options(c));
    out["running_mean_after"] = rm;
    out["running_var_after"] = rv;
    return out;
  });
}

TEST_CASE("golden: layer_norm") {
  for_cases("norm", {"layer_norm"}, [](auto& in) {
    using T = scalar_of<decltype(in)>;
    return Outputs<T>{{"y", layer_norm(in.get("x"), in.get("gamma"), in.get("beta"), in.info().attr_double("eps"))}};
  });
}

TEST_CASE("golden: max_pool2d, avg_pool2d, global_avg_pool") {
  for_cases("pool", {}, [](auto& in) {
    using T = scalar_of<decltype(in)>;
    const gd::Case& c = in.info();
    const std::string& op = c.attr("op");
    if (op == "global_avg_pool") return Outputs<T>{{"y", global_avg_pool(in.get("x"))}};
    const Pool2dOptions o{.pool = hw_attr(c, "pool"), .stride = hw_attr(c, "stride"), .padding = padding_attr(c)};
    return Outputs<T>{{"y", op == "max_pool2d" ? max_pool2d(in.get("x"), o) : avg_pool2d(in.get("x"), o)}};
  });
}

TEST_CASE("golden: gelu, relu, softmax, log_softmax") {
  for_cases("activation", {"gelu", "relu", "softmax", "log_softmax"}, [](auto& in) {
    using T = scalar_of<decltype(in)>;
    const gd::Case& c = in.info();
    const std::string& op = c.attr("op");
    const Tensor<T> x = in.get("x");
    if (op == "gelu")
      return Outputs<T>{{"y", gelu(x, c.attr("approx") == "tanh" ? GeluApprox::Tanh : GeluApprox::None)}};
    if (op == "relu") return Outputs<T>{{"y", relu(x)}};
    const int64_t axis = c.attr_int("axis");
    return Outputs<T>{{"y", op == "softmax" ? softmax(x, axis) : log_softmax(x, axis)}};
  });
}

TEST_CASE("golden: cross_entropy, cross_entropy_from_probs") {
  for_cases("activation", {"cross_entropy", "cross_entropy_from_probs"}, [](auto& in) {
    using T = scalar_of<decltype(in)>;
    const gd::Case& c = in.info();
    if (c.attr("op") == "cross_entropy") return Outputs<T>{{"y", cross_entropy(in.get("logits"), in.labels("labels"))}};
    return Outputs<T>{{"y", cross_entropy_from_probs(in.get("probs"), in.labels("labels"), c.attr_double("eps"))}};
  });
}

TEST_CASE("golden: channel_shift") {
  for_cases("shift_involution", {"channel_shift"}, [](auto& in) {
    using T = scalar_of<decltype(in)>;
    const gd::Case& c = in.info();
    return Outputs<T>{{"y", channel_shift(in.get("x"), c.attr_int("group_channels"), c.attr_int("shift"))}};
  });
}

TEST_CASE("golden: involution") {
  for_cases("shift_involution", {"involution"}, [](auto& in) {
    using T = scalar_of<decltype(in)>;
    const gd::Case& c = in.info();
    return Outputs<T>{{"y", involution(in.get("x"), in.get("kernel"), c.attr_int("kernel_size"), c.attr_int("stride"),
                                       c.attr_int("groups"))}};
  });
}

TEST_CASE("golden: involution_layer, train and eval") {
  for_cases("shift_involution", {"involution_layer"}, [](auto& in) {
    using T = scalar_of<decltype(in)>;
    Outputs<T> out;
    out["y"] = involution_layer_of(in, out);
    return out;
  });
}

// ---- one block of each model ------------------------------------------------------------

// The ConvMixer example's conv_mixer_block: depthwise KxK same -> GELU -> BN -> + x -> pointwise ->
// GELU -> BN, batch norm in training with Keras defaults.
TEST_CASE("golden: convmixer block") {
  for_case("blocks", "convmixer_block", [](auto& in) {
    using T = scalar_of<decltype(in)>;
    Outputs<T> out;
    const Tensor<T> x = in.get("x");
    const Conv2dOptions same{.padding = Padding::Same};
    Tensor<T> t = gelu(depthwise_conv2d(x, in.get("dw_w"), in.get("dw_b"), same));
    t = keras_bn_train(in, out, t, "bn1") + x;
    t = gelu(pointwise_conv2d(t, in.get("pw_w"), in.get("pw_b")));
    out["y"] = keras_bn_train(in, out, t, "bn2");
    return out;
  });
}

// The ConvMixer example's conv_stem: conv K = S = patch size, valid -> GELU -> BN.
TEST_CASE("golden: convmixer stem") {
  for_case("blocks", "convmixer_stem", [](auto& in) {
    using T = scalar_of<decltype(in)>;
    Outputs<T> out;
    const Conv2dOptions patch{.stride = in.info().attr_int("patch_size"), .padding = Padding::Valid};
    out["y"] = keras_bn_train(in, out, gelu(conv2d(in.get("x"), in.get("w"), in.get("b"), patch)), "bn");
    return out;
  });
}

// The ShiftViT example's ShiftViTBlock with dropout and drop path off: the MLP output is
// added to the shifted input (the example's shortcut is taken after the shift).
TEST_CASE("golden: shiftvit block") {
  for_case("blocks", "shiftvit_block", [](auto& in) {
    using T = scalar_of<decltype(in)>;
    const gd::Case& c = in.info();
    const Tensor<T> shifted = channel_shift(in.get("x"), c.attr_int("group_channels"), c.attr_int("shift"));
    Tensor<T> t = layer_norm(shifted, in.get("ln_gamma"), in.get("ln_beta"), c.attr_double("eps"));
    t = linear(gelu(linear(t, in.get("fc1_w"), in.get("fc1_b"))), in.get("fc2_w"), in.get("fc2_b"));
    return Outputs<T>{{"y", shifted + t}};
  });
}

// The ShiftViT example's PatchMerging: LayerNorm -> Conv2D(2C, 2, strides 2, same, no bias), on an odd map.
TEST_CASE("golden: shiftvit patch merging") {
  for_case("blocks", "shiftvit_patch_merging", [](auto& in) {
    using T = scalar_of<decltype(in)>;
    const Tensor<T> t = layer_norm(in.get("x"), in.get("ln_gamma"), in.get("ln_beta"), in.info().attr_double("eps"));
    return Outputs<T>{{"y", conv2d(t, in.get("w"), Tensor<T>(), {.stride = 2, .padding = Padding::Same})}};
  });
}

// The involution example's network: Involution (training) -> ReLU -> MaxPooling2D((2, 2)), at
// the example's configuration (C 3, G 1, K 3, S 1, r 2: one reduced channel) and at S 2, G 2.
TEST_CASE("golden: involution network head") {
  for (const char* name : {"involution_head_c3_k3_s1_g1_r2", "involution_head_c4_k3_s2_g2_r2"}) {
    for_case("blocks", name, [](auto& in) {
      using T = scalar_of<decltype(in)>;
      Outputs<T> out;
      out["y"] = max_pool2d(relu(involution_layer_of(in, out)), {.pool = 2});
      return out;
    });
  }
}

// The involution example's conv baseline, first layer: Conv2D(3x3, same) -> ReLU -> MaxPooling2D((2, 2)).
TEST_CASE("golden: conv baseline first layer") {
  for_case("blocks", "conv_baseline_first_layer", [](auto& in) {
    using T = scalar_of<decltype(in)>;
    const Tensor<T> t = relu(conv2d(in.get("x"), in.get("w"), in.get("b"), {.padding = Padding::Same}));
    return Outputs<T>{{"y", max_pool2d(t, {.pool = 2})}};
  });
}
