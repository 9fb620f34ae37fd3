// One training step of each model on the CPU against PyTorch, and checkpoint round trips.
//
// "golden step: <model>": tests/golden/train_<model>.safetensors (written by
// tests/golden/make_train_golden.py with the PyTorch twins in tools/) holds a small model's
// initial state dict in PyTorch's names and layouts, a batch (NHWC) with labels, and what the
// twin computed in float64 in training mode: the output, the loss, some gradients, every
// parameter after one optimizer step (torch.optim.AdamW / Adam), and the BatchNorm running
// statistics after it. Here, in double and in float: the same model is built from the
// file's metadata, the state is loaded with io::load_state_dict (the layout conversion),
// and one step is run (forward, loss, backward, optimizer step) and compared. The file's
// state keys must be exactly the model's parameter, buffer and counter names, so the twins'
// state_dict keys are the C++ names.
//
// Tolerances: |actual - expected| <= rtol |expected| + atol max|expected| (atol relative to
// the tensor's largest value, so a tensor of small gradients is held to its own scale):
//   double: rtol 1e-9, atol 1e-11 (only the order of summation differs; seen: < 1e-13);
//   float:  rtol 5e-5, atol 3e-5 (PyTorch-style: float rounding of every op, compared with a
//           float64 reference; seen: atol < 4e-6).
// After the optimizer step one more term: Adam's first step moves a parameter by
// lr * g / (|g| + eps), whose derivative in g is lr * eps / (|g| + eps)^2, so a gradient
// error d moves the parameter by up to that times d, capped at 2 lr; d is the gradient
// tolerance with atol relative to the model's largest gradient (rounding errors scale with
// the terms summed, not with a small result). This matters only where |g| is near eps or
// below (float: |g| below ~1e-6), as for the bias of the 1x1 convolution that feeds
// BatchNorm in the involution layer: its exact gradient is 0 (BatchNorm removes any
// per-channel shift), its computed one rounding noise in both frameworks (~1e-17 in double,
// ~1e-9 in float), which Adam turns into a step of up to lr in either direction.
//
// "checkpoint round trip: <model>": a checkpoint written by add_state_dict + save_safetensors
// loads into a second model with identical parameters, buffers and counters; a model of
// another configuration refuses it, naming the tensor and both shapes.
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "patchnet/io/safetensors.hpp"
#include "patchnet/models/convmixer.hpp"
#include "patchnet/models/involution_net.hpp"
#include "patchnet/models/shiftvit.hpp"
#include "patchnet/ops/loss.hpp"
#include "patchnet/optim/adam.hpp"
#include "patchnet/train/checkpoint.hpp"
#include "support/temp_dir.hpp"
#include "support/test_util.hpp"

using namespace patchnet;

namespace {

io::SafeTensors golden_file(const std::string& model) {
  return io::load_safetensors(std::string(PATCHNET_GOLDEN_DIR) + "/train_" + model + ".safetensors");
}

const std::string& meta(const io::SafeTensors& f, const std::string& key) {
  auto it = f.metadata.find(key);
  REQUIRE_MESSAGE(it != f.metadata.end(), f.path, ": no metadata '", key, "'");
  return it->second;
}
int64_t meta_int(const io::SafeTensors& f, const std::string& key) { return std::stoll(meta(f, key)); }
double meta_double(const io::SafeTensors& f, const std::string& key) { return std::stod(meta(f, key)); }
std::vector<int64_t> meta_ints(const io::SafeTensors& f, const std::string& key) {
  std::vector<int64_t> out;
  std::stringstream ss(meta(f, key));
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(std::stoll(item));
  return out;
}

// The configurations of the golden files (their metadata uses the C++ field names).
models::ConvMixerConfig convmixer_config(const io::SafeTensors& f) {
  models::ConvMixerConfig c;
  c.width = meta_int(f, "width");
  c.depth = meta_int(f, "depth");
  c.kernel = meta_int(f, "kernel");
  c.patch = meta_int(f, "patch");
  c.num_classes = meta_int(f, "num_classes");
  return c;  // rescale and softmax head on, Keras BatchNorm: the defaults
}
models::ShiftViTConfig shiftvit_config(const io::SafeTensors& f) {
  models::ShiftViTConfig c;
  c.dim = meta_int(f, "dim");
  c.patch = meta_int(f, "patch");
  c.depths = meta_ints(f, "depths");
  c.num_div = meta_int(f, "num_div");
  c.shift = meta_int(f, "shift");
  c.mlp_ratio = meta_double(f, "mlp_ratio");
  c.num_classes = meta_int(f, "num_classes");
  c.mlp_dropout = 0.0;  // masks cannot agree between frameworks
  c.drop_path = 0.0;
  return c;
}
models::InvolutionNetConfig involution_config(const io::SafeTensors& f) {
  models::InvolutionNetConfig c;
  c.image_size = meta_int(f, "image_size");
  c.hidden = meta_int(f, "hidden");
  c.num_classes = meta_int(f, "num_classes");
  if (f.metadata.count("kernel")) c.kernel = meta_int(f, "kernel");
  if (f.metadata.count("groups")) c.groups = meta_int(f, "groups");
  if (f.metadata.count("reduction")) c.reduction = meta_int(f, "reduction");
  if (f.metadata.count("widths")) {
    const std::vector<int64_t> w = meta_ints(f, "widths");
    REQUIRE(w.size() == 3);
    c.widths = {w[0], w[1], w[2]};
  }
  return c;
}

template <FloatingPoint T>
typename nn::Module<T>::Ptr build(const std::string& model, const io::SafeTensors& f, Generator& gen) {
  if (model == "convmixer") return std::make_shared<models::ConvMixer<T>>(convmixer_config(f), gen);
  if (model == "shiftvit") return std::make_shared<models::ShiftViT<T>>(shiftvit_config(f), gen);
  if (model == "inv") return models::involution_net<T>(involution_config(f), gen);
  REQUIRE(model == "conv");
  return models::conv_net<T>(involution_config(f), gen);
}

struct Tol {
  double rtol, atol;  // atol is relative to the tensor's largest magnitude
};
template <FloatingPoint T>
Tol tol() {
  return sizeof(T) == 8 ? Tol{1e-9, 1e-11} : Tol{5e-5, 3e-5};
}

template <class U>
double max_abs(const Tensor<U>& t) {
  double m = 0;
  for (U v : t.to_vector()) m = std::max(m, std::abs(static_cast<double>(v)));
  return m;
}

template <FloatingPoint T>
void check(const Tensor<T>& actual, const Tensor<double>& expected, const std::string& what) {
  const Tol t = tol<T>();
  test::check_close(actual, expected, t.rtol, t.atol * max_abs(expected), what);
}

// Every parameter after the step, against PyTorch's, with the Adam term of the header.
template <FloatingPoint T>
void check_after(const Tensor<T>& actual, const Tensor<T>& grad, const Tensor<double>& expected, double lr,
                 double adam_eps, double grad_scale, const std::string& what) {
  REQUIRE_MESSAGE(actual.shape() == expected.shape(), what, ": shape ", actual.shape().str(), " vs expected ",
                  expected.shape().str());
  const Tol t = tol<T>();
  const std::vector<T> a = actual.to_vector(), g = grad.to_vector();
  const std::vector<double> e = expected.to_vector();
  const double atol = t.atol * max_abs(expected), grad_atol = t.atol * grad_scale;
  int64_t bad = 0, worst = -1;
  double worst_excess = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double gi = std::abs(static_cast<double>(g[i]));
    const double d = grad_atol + t.rtol * gi;  // the gradient's tolerance
    const double amplified = std::min(2 * lr, lr * adam_eps * d / ((gi + adam_eps) * (gi + adam_eps)));
    const double diff = std::abs(static_cast<double>(a[i]) - e[i]);
    const double allowed = atol + t.rtol * std::abs(e[i]) + amplified;
    if (!(diff <= allowed)) {
      ++bad;
      if (worst < 0 || diff - allowed > worst_excess) {
        worst = static_cast<int64_t>(i);
        worst_excess = diff - allowed;
      }
    }
  }
  std::ostringstream msg;
  if (bad)
    msg << what << ": " << bad << " of " << a.size() << " elements differ; worst at flat index " << worst << ": "
        << static_cast<double>(a[static_cast<size_t>(worst)]) << " vs expected " << e[static_cast<size_t>(worst)]
        << " (gradient " << static_cast<double>(g[static_cast<size_t>(worst)]) << ")";
  CHECK_MESSAGE(bad == 0, msg.str());
}

template <FloatingPoint T>
void golden_step(const std::string& name) {
  const io::SafeTensors f = golden_file(name);
  const std::string where = "train_" + name + " " + dtype_name<T>();
  CHECK(meta(f, "input_layout") == "NHWC");
  Generator gen(2024);  // any initialisation: the file's state replaces it
  auto model = build<T>(name, f, gen);

  // The file's state keys are exactly the model's (so they are the twin's state_dict keys).
  std::set<std::string> file_keys, model_keys;
  for (const auto& r : f.records())
    if (r.name != "input" && r.name != "labels" && r.name.rfind("golden.", 0) != 0) file_keys.insert(r.name);
  for (const auto& p : model->named_parameters()) model_keys.insert(p.name);
  for (const auto& b : model->named_buffers()) model_keys.insert(b.name);
  for (const auto& c : model->named_counters()) {
    model_keys.insert(c.name);
    REQUIRE(f.contains(c.name));
    CHECK(f.at(c.name).dtype == io::DType::I64);
  }
  CHECK(file_keys == model_keys);

  io::load_state_dict(f, *model, meta(f, "model"));
  std::map<std::string, int64_t> counters_before;
  for (const auto& c : model->named_counters()) counters_before[c.name] = *c.value;
  model->train();

  const Tensor<T> x = f.tensor<T>("input");
  const std::vector<int64_t> lab64 = f.i64("labels");
  const std::vector<int32_t> lab32(lab64.begin(), lab64.end());
  const Tensor<int32_t> labels = Tensor<int32_t>::from_vector(lab32, {static_cast<int64_t>(lab32.size())});

  const Tensor<T> out = model(x);
  const Tensor<T> loss = name == "convmixer" ? cross_entropy_from_probs(out, labels) : cross_entropy(out, labels);
  check(out, f.tensor<double>("golden.output"), where + " output");
  check(loss, f.tensor<double>("golden.loss"), where + " loss");

  const std::vector<optim::ParamRef<T>> refs = optim::parameters_of(*model);
  std::unique_ptr<optim::Optimizer<T>> opt;
  const double lr = meta_double(f, "lr"), adam_eps = 1e-8;
  if (meta(f, "optimizer") == "AdamW") {
    opt = std::make_unique<optim::AdamW<T>>(refs, optim::AdamWOptions::pytorch(meta_double(f, "weight_decay")));
  } else {
    REQUIRE(meta(f, "optimizer") == "Adam");
    opt = std::make_unique<optim::Adam<T>>(refs, optim::AdamOptions::pytorch());
  }
  loss.backward();

  int64_t grads_checked = 0, params_checked = 0, stats_checked = 0;
  for (const auto& p : model->named_parameters()) {
    REQUIRE_MESSAGE(p.tensor.grad().defined(), where, ": no gradient for ", p.name);
    const std::string key = "golden.grad." + p.name;
    if (!f.contains(key)) continue;
    check(io::to_torch_layout(p.tensor.grad(), p.layout), f.tensor<double>(key), where + " grad " + p.name);
    ++grads_checked;
  }
  CHECK(grads_checked >= 5);

  double grad_scale = 0;  // the model's largest gradient: the scale of gradient rounding errors
  for (const auto& p : model->named_parameters()) grad_scale = std::max(grad_scale, max_abs(p.tensor.grad()));
  opt->step(lr);
  for (const auto& p : model->named_parameters()) {
    check_after(io::to_torch_layout(p.tensor, p.layout), io::to_torch_layout(p.tensor.grad(), p.layout),
                f.tensor<double>("golden.after." + p.name), lr, adam_eps, grad_scale, where + " after step " + p.name);
    ++params_checked;
  }
  CHECK(params_checked == static_cast<int64_t>(model->named_parameters().size()));

  // BatchNorm running statistics (Keras' update: decay 0.99, biased batch variance).
  for (const auto& b : model->named_buffers()) {
    const auto dot = b.name.rfind('.');
    const std::string bn = b.name.substr(0, dot), stat = b.name.substr(dot + 1);
    REQUIRE((stat == "running_mean" || stat == "running_var"));
    check(b.tensor, f.tensor<double>("golden." + stat + "." + bn), where + " " + b.name);
    ++stats_checked;
  }
  for (const auto& c : model->named_counters()) CHECK_MESSAGE(*c.value == counters_before[c.name] + 1, c.name);
  MESSAGE(where, ": output, loss, ", grads_checked, " gradients, ", params_checked, " parameters, ", stats_checked,
          " running statistics");
}

}  // namespace

TEST_CASE("golden step: convmixer") {
  golden_step<double>("convmixer");
  golden_step<float>("convmixer");
}
TEST_CASE("golden step: shiftvit") {
  golden_step<double>("shiftvit");
  golden_step<float>("shiftvit");
}
TEST_CASE("golden step: inv") {
  golden_step<double>("inv");
  golden_step<float>("inv");
}
TEST_CASE("golden step: conv") {
  golden_step<double>("conv");
  golden_step<float>("conv");
}

// ---- checkpoints written by C++ ------------------------------------------------------------

namespace {

// Writes `a` (after one training-mode forward, so the running statistics and counters
// are not their initial values) to a file, loads it into `b` and compares everything; then
// checks that `other`, a different configuration, refuses the file naming the first
// tensor whose shape differs.
void round_trip(nn::Module<double>& a, nn::Module<double>& b, nn::Module<double>& other, const Shape& input,
                const std::string& tag) {
  a.train();
  a(test::uniform<double>(input, test::seed_of(tag), 0.0, 1.0));
  test::TempDir tmp("train_golden");
  const std::string path = tmp.file("model.safetensors");
  io::SafeTensors out;
  io::add_state_dict(out, a);
  out.metadata["model"] = tag;
  io::save_safetensors(path, out);

  const io::SafeTensors in = io::load_safetensors(path);
  io::load_state_dict(in, b, tag);
  const auto pa = a.named_parameters(), pb = b.named_parameters();
  REQUIRE(pa.size() == pb.size());
  for (size_t i = 0; i < pa.size(); ++i) {
    CHECK(pa[i].name == pb[i].name);
    CHECK_MESSAGE(pa[i].tensor.to_vector() == pb[i].tensor.to_vector(), pa[i].name);
    CHECK(pa[i].tensor.shape() == pb[i].tensor.shape());
  }
  const auto ba = a.named_buffers(), bb = b.named_buffers();
  REQUIRE(ba.size() == bb.size());
  for (size_t i = 0; i < ba.size(); ++i)
    CHECK_MESSAGE(ba[i].tensor.to_vector() == bb[i].tensor.to_vector(), ba[i].name);
  const auto ca = a.named_counters(), cb = b.named_counters();
  REQUIRE(ca.size() == cb.size());
  for (size_t i = 0; i < ca.size(); ++i) {
    CHECK(*ca[i].value == *cb[i].value);
    CHECK(*ca[i].value > 0);
  }

  // Another configuration: the first tensor whose PyTorch shape differs is named.
  std::string expected;
  for (const auto& p : other.named_parameters()) {
    const Shape want = io::torch_shape(p.tensor.shape(), p.layout);
    if (in.contains(p.name) && Shape(in.at(p.name).shape) != want) {
      expected = "tensor '" + p.name + "' has shape " + Shape(in.at(p.name).shape).str() + " but this model needs " +
                 want.str();
      break;
    }
  }
  REQUIRE_MESSAGE(!expected.empty(), tag, ": the other configuration should differ in a tensor's shape");
  CHECK_THROWS_PN(io::load_state_dict(in, other, tag), expected);
  CHECK_THROWS_PN(io::load_state_dict(in, other, tag + "-other"), "the checkpoint was written for model '" + tag);
}

}  // namespace

TEST_CASE("checkpoint round trip: convmixer") {
  Generator g1(1), g2(2), g3(3);
  models::ConvMixerConfig c{.width = 8, .depth = 2, .kernel = 3, .patch = 2};
  models::ConvMixer<double> a(c, g1), b(c, g2);
  models::ConvMixerConfig wider = c;
  wider.width = 12;
  models::ConvMixer<double> other(wider, g3);
  round_trip(a, b, other, {2, 8, 8, 3}, "convmixer-8/2-k3-p2");
}

TEST_CASE("checkpoint round trip: shiftvit") {
  Generator g1(1), g2(2), g3(3);
  models::ShiftViTConfig c;
  c.dim = 8;
  c.depths = {1, 1};
  c.num_div = 4;
  c.mlp_dropout = c.drop_path = 0.0;
  models::ShiftViT<double> a(c, g1), b(c, g2);
  models::ShiftViTConfig ratio = c;
  ratio.mlp_ratio = 3.0;  // same names, other MLP width
  models::ShiftViT<double> other(ratio, g3);
  round_trip(a, b, other, {2, 8, 8, 3}, "shiftvit");
}

TEST_CASE("checkpoint round trip: inv and conv") {
  Generator g1(1), g2(2), g3(3), g4(4), g5(5), g6(6);
  models::InvolutionNetConfig c{.image_size = 8, .hidden = 8};
  models::InvolutionNetConfig bigger = c;
  bigger.image_size = 12;  // dense_1 takes 3x3x3 instead of 2x2x3 inputs
  auto a = models::involution_net<double>(c, g1), b = models::involution_net<double>(c, g2);
  auto other = models::involution_net<double>(bigger, g3);
  round_trip(*a, *b, *other, {2, 8, 8, 3}, "involution-net");
  auto ca = models::conv_net<double>(c, g4), cb = models::conv_net<double>(c, g5);
  auto cother = models::conv_net<double>(bigger, g6);
  round_trip(*ca, *cb, *cother, {2, 8, 8, 3}, "conv-net");
}
