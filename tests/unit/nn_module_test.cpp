// Modules and layers: state-dict names, parameter counts against the seeds' Keras
// summaries, train/eval propagation, zero_grad, the summary table, and layer errors.
#include <set>

#include "patchnet/models/convmixer.hpp"
#include "patchnet/models/involution_net.hpp"
#include "patchnet/models/shiftvit.hpp"
#include "patchnet/nn/profile.hpp"
#include "patchnet/nn/summary.hpp"
#include "patchnet/ops/loss.hpp"
#include "support/test_util.hpp"

using namespace patchnet;

namespace {
std::vector<std::string> names_of(const std::vector<nn::NamedTensor<float>>& v) {
  std::vector<std::string> out;
  for (const auto& e : v) out.push_back(e.name);
  return out;
}
bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}
}  // namespace

TEST_CASE("nn: ConvMixer has timm's state-dict names and the Keras parameter count") {
  Generator gen(1);
  models::ConvMixer<float> m({}, gen);  // ConvMixer-256/8, kernel 5, patch 2
  const auto params = names_of(m.named_parameters());
  const auto buffers = names_of(m.named_buffers());
  for (const char* n : {"stem.0.weight", "stem.0.bias", "stem.2.weight", "stem.2.bias", "blocks.3.0.fn.0.weight",
                        "blocks.3.0.fn.0.bias", "blocks.3.0.fn.2.weight", "blocks.3.1.weight", "blocks.3.1.bias",
                        "blocks.3.3.weight", "blocks.7.3.bias", "head.weight", "head.bias"})
    CHECK_MESSAGE(contains(params, n), n);
  CHECK(contains(buffers, "stem.2.running_mean"));
  CHECK(contains(buffers, "blocks.3.0.fn.2.running_var"));
  std::set<std::string> counters;
  for (const auto& c : m.named_counters()) counters.insert(c.name);
  CHECK(counters.count("blocks.3.3.num_batches_tracked") == 1);
  // Keras: stem 3,328 + BN 1,024 + 8 x (6,656 + 1,024 + 65,792 + 1,024) + head 2,570.
  CHECK(m.num_trainable() + m.num_non_trainable() == 602890);
  CHECK(m.num_non_trainable() == 2 * 256 * 17);  // moving mean + variance of 17 BatchNorms
  // Shapes of the layouts patchnet computes in.
  for (const auto& p : m.named_parameters()) {
    if (p.name == "stem.0.weight") CHECK(p.tensor.shape() == Shape{2, 2, 3, 256});
    if (p.name == "blocks.3.0.fn.0.weight") CHECK(p.tensor.shape() == Shape{5, 5, 256});
    if (p.name == "blocks.3.1.weight") CHECK(p.tensor.shape() == Shape{256, 256});
    if (p.name == "head.weight") CHECK(p.tensor.shape() == Shape{256, 10});
  }
}

TEST_CASE("nn: involution and conv networks match the seed's Keras summaries") {
  Generator gen(2);
  auto inv = models::involution_net<float>({}, gen);
  CHECK(inv->num_trainable() == 13074);  // the seed: Trainable params: 13,074
  CHECK(inv->num_non_trainable() == 6);  //           Non-trainable params: 6
  auto conv = models::conv_net<float>({}, gen);
  CHECK(conv->num_trainable() == 319178);  // Trainable params: 319,178
  CHECK(conv->num_non_trainable() == 0);
  const nn::Summary s = nn::summary(*inv, {32, 32, 3}, "inv_model");
  REQUIRE(s.rows.size() == 12);
  CHECK(s.rows[0].name == "inv_1");
  CHECK(s.rows[0].type == "Involution");
  CHECK(s.rows[0].params == 26);  // the seed's inv_1 row
  CHECK(s.rows[0].output == Shape{1, 32, 32, 3});
  CHECK(s.rows[2].output == Shape{1, 16, 16, 3});
  CHECK(s.rows[8].name == "flatten");
  CHECK(s.rows[8].output == Shape{1, 192});
  CHECK(s.rows[9].params == 12352);  // dense: 12,352
  CHECK(s.rows[11].output == Shape{1, 10});
  const std::string text = s.str();
  CHECK(text.find("Trainable params: 13,074") != std::string::npos);
  CHECK(text.find("Non-trainable params: 6") != std::string::npos);
  CHECK(text.find("inv_2 (Involution)") != std::string::npos);
  const nn::Summary cs = nn::summary(*conv, {32, 32, 3}, "conv");
  CHECK(cs.rows[0].params == 896);
  CHECK(cs.rows[9].params == 262208);
}

TEST_CASE("nn: ShiftViT names, stage shapes and drop-path rates") {
  Generator gen(3);
  models::ShiftViTConfig c;
  c.dim = 24;
  c.depths = {2, 1, 3, 1};
  models::ShiftViT<float> m(c, gen);
  const auto params = names_of(m.named_parameters());
  for (const char* n : {"patch_projection.weight", "patch_projection.bias", "stages.0.shift_blocks.0.layer_norm.weight",
                        "stages.0.shift_blocks.1.mlp.0.weight", "stages.0.shift_blocks.1.mlp.3.bias",
                        "stages.0.patch_merge.layer_norm.bias", "stages.0.patch_merge.reduction.weight",
                        "stages.2.shift_blocks.2.mlp.0.bias", "classifier.weight"})
    CHECK_MESSAGE(contains(params, n), n);
  CHECK_FALSE(contains(params, "stages.0.patch_merge.reduction.bias"));
  CHECK_FALSE(contains(params, "stages.3.patch_merge.layer_norm.weight"));  // no merge after the last stage
  const nn::Summary s = nn::summary(m, {48, 48, 3});
  CHECK(s.rows.front().output == Shape{1, 12, 12, 24});
  CHECK(s.rows.back().output == Shape{1, 10});
  Shape last_stage;
  for (const auto& r : s.rows)
    if (r.name == "stages.2.patch_merge.reduction") last_stage = r.output;
  CHECK(last_stage == Shape{1, 2, 2, 192});  // 12 -> 6 -> 3 -> 2 ("same": ceil)
}

TEST_CASE("nn: train/eval reaches every layer, zero_grad drops gradients") {
  Generator gen(4);
  models::ConvMixerConfig c;
  c.width = 8;
  c.depth = 2;
  models::ConvMixer<float> m(c, gen);
  m.eval();
  for (const auto& [name, child] : m.children()) CHECK_FALSE(child->is_training());
  m.train();
  const auto x = test::uniform<float>({2, 8, 8, 3}, 5, 0, 255);
  const auto labels = Tensor<int32_t>::from_vector({1, 7}, {2});
  auto probs = m(x);
  CHECK(probs.shape() == Shape{2, 10});
  cross_entropy_from_probs(probs, labels).backward();
  for (const auto& p : m.named_parameters()) CHECK_MESSAGE(p.tensor.grad().defined(), p.name);
  int64_t tracked = 0;
  for (const auto& cnt : m.named_counters()) tracked += *cnt.value;
  CHECK(tracked == 1 + 2 * 2);  // every BatchNorm saw one training batch
  m.zero_grad();
  for (const auto& p : m.named_parameters()) CHECK_FALSE(p.tensor.grad().defined());
  // Eval mode uses the running statistics: the output no longer depends on the batch.
  m.eval();
  NoGrad ng;
  auto one = m(slice(x, 0, 0, 1));
  auto both = m(x);
  test::check_close(one, slice(both, 0, 0, 1), 1e-5, 1e-6, "eval is per-sample");
}

TEST_CASE("nn: layers reject bad configurations and inputs with clear errors") {
  Generator gen(5);
  CHECK_THROWS_PN(nn::Conv2d<float>({.in = 3, .out = 8, .kernel = 3, .groups = 2}, gen), "Conv2d");
  CHECK_THROWS_PN(nn::Linear<float>({.in = 0, .out = 4}, gen), "Linear: in 0");
  CHECK_THROWS_PN(nn::Dropout<float>(1.0), "Dropout");
  CHECK_THROWS_PN(nn::BatchNorm2d<float>({.channels = 0}), "BatchNorm2d");
  nn::Involution<float> inv({.channels = 3}, gen);
  CHECK_THROWS_PN(inv(Tensor<float>::zeros({1, 8, 8, 4})), "Involution: input [1,8,8,4]");
  nn::Linear<float> lin({.in = 4, .out = 2}, gen);
  CHECK_THROWS_PN(lin(Tensor<float>::zeros({3, 5})), "linear: input [3,5]");
  nn::Sequential<float> seq;
  seq.push_back(nn::make<nn::ReLU<float>>());
  CHECK_THROWS_PN(seq[1], "Sequential: layer 1 out of range (1 layers)");  // was std::out_of_range
  nn::Handle<nn::ReLU<float>> empty;
  CHECK_THROWS_PN(empty(Tensor<float>::zeros({2})), "nn::Handle: the layer handle is empty");
}

namespace {
// y = conv(x zero-padded by p) with HWIO weights, by loops: PyTorch's definition of padding.
Tensor<double> conv_reference(const Tensor<double>& x, const Tensor<double>& w, const Tensor<double>& b, Hw s, Pad2d p,
                              bool depthwise) {
  const int64_t N = x.size(0), H = x.size(1), W = x.size(2), C = x.size(3);
  const int64_t KH = w.size(0), KW = w.size(1), CO = depthwise ? C : w.size(3);
  const int64_t OH = (H + p.top + p.bottom - KH) / s.h + 1, OW = (W + p.left + p.right - KW) / s.w + 1;
  Tensor<double> y = Tensor<double>::zeros({N, OH, OW, CO});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow)
        for (int64_t co = 0; co < CO; ++co) {
          double acc = b.at({co});
          for (int64_t kh = 0; kh < KH; ++kh)
            for (int64_t kw = 0; kw < KW; ++kw) {
              const int64_t ih = oh * s.h + kh - p.top, iw = ow * s.w + kw - p.left;
              if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
              if (depthwise) acc += x.at({n, ih, iw, co}) * w.at({kh, kw, co});
              else
                for (int64_t ci = 0; ci < C; ++ci) acc += x.at({n, ih, iw, ci}) * w.at({kh, kw, ci, co});
            }
          y.at({n, oh, ow, co}) = acc;
        }
  return y;
}
}  // namespace

TEST_CASE("nn: Conv2d, DepthwiseConv2d and PatchEmbed take explicit padding amounts (PyTorch's padding)") {
  Generator gen(17);
  const Tensor<double> x = randn<double>({2, 9, 8, 3}, gen);
  SUBCASE("Conv2d 3x3, stride 2, padding=1: PyTorch's windows, not TensorFlow's 'same'") {
    nn::Conv2d<double> conv(
        {.in = 3, .out = 4, .kernel = 3, .stride = 2, .padding = Padding::Explicit, .pad = Pad2d::all(1)}, gen);
    {
      NoGrad no_grad;
      conv.bias.copy_(randn<double>({4}, gen));
    }
    const Tensor<double> y = conv(x);
    CHECK(y.shape() == Shape{2, 5, 4, 4});
    test::check_close(y, conv_reference(x, conv.weight, conv.bias, 2, Pad2d::all(1), false), 1e-12, 1e-12);
    // "same" gives the same size here but pads 0 above and 1 below: other windows.
    const Tensor<double> same = conv2d(x, conv.weight, conv.bias, {.stride = 2, .padding = Padding::Same});
    CHECK(same.shape() == y.shape());
    CHECK(sum(square(same - y)).item() > 1e-3);
  }
  SUBCASE("DepthwiseConv2d 4x4 (even), padding=(1, 2)") {
    nn::DepthwiseConv2d<double> dw(
        {.channels = 3, .kernel = 4, .padding = Padding::Explicit, .pad = Pad2d::symmetric(1, 2)}, gen);
    {
      NoGrad no_grad;
      dw.bias.copy_(randn<double>({3}, gen));
    }
    const Tensor<double> y = dw(x);
    CHECK(y.shape() == Shape{2, 8, 9, 3});  // PyTorch: 9 + 2 - 4 + 1, 8 + 4 - 4 + 1
    test::check_close(y, conv_reference(x, dw.weight, dw.bias, 1, Pad2d::symmetric(1, 2), true), 1e-12, 1e-12);
  }
  SUBCASE("PatchEmbed 2x2, padding=1") {
    nn::PatchEmbed<double> embed({.in = 3, .out = 4, .patch = 2, .padding = Padding::Explicit, .pad = Pad2d::all(1)},
                                 gen);
    const Tensor<double> y = embed(x);
    CHECK(y.shape() == Shape{2, 5, 5, 4});  // PyTorch: (9 + 2 - 2) / 2 + 1, (8 + 2 - 2) / 2 + 1
    test::check_close(y, conv_reference(x, embed.weight, embed.bias, 2, Pad2d::all(1), false), 1e-12, 1e-12);
  }
  SUBCASE("mode and amounts must agree") {
    CHECK_THROWS_PN(nn::Conv2d<double>({.in = 3, .out = 4, .kernel = 3, .padding = Padding::Explicit}, gen),
                    "Conv2d: Padding::Explicit without .pad amounts");
    CHECK_THROWS_PN(nn::DepthwiseConv2d<double>({.channels = 3, .pad = Pad2d::all(1)}, gen),
                    "DepthwiseConv2d: .pad amounts are given with Padding::Same, which ignores them");
    const Tensor<double> w = randn<double>({3, 3, 3, 4}, gen);
    CHECK_THROWS_PN(conv2d(x, w, {}, {.pad = Pad2d::all(1)}),
                    "conv2d: pad amounts {1, 1, 1, 1} are given with Padding::Valid");
  }
}

TEST_CASE("nn: GELU + BatchNorm2d fuse and Residual folds its add in, same results as separate layers") {
  // A small ConvMixer: 1 stem + 2 x 2 activation blocks, each a GELU then a BatchNorm2d.
  const models::ConvMixerConfig cfg{.width = 24, .depth = 2, .kernel = 3, .patch = 2, .softmax_head = false};
  const auto x = test::uniform<float>({6, 8, 8, 3}, 5, 0.0, 255.0);
  const auto labels = Tensor<int32_t>::from_vector({1, 7, 2, 0, 9, 4}, {6});
  struct Result {
    float loss;
    std::vector<nn::NamedTensor<float>> params, buffers;
    int64_t tracked;
  };
  auto step = [&](bool fuse) {
    nn::set_fusion(fuse);
    Generator gen(3);
    models::ConvMixer<float> m(cfg, gen);
    m.train();
    cross_entropy(m(x), labels).backward();
    int64_t tracked = 0;
    for (const auto& c : m.named_counters()) tracked += *c.value;
    return Result{cross_entropy(m(x), labels).item(), m.named_parameters(), m.named_buffers(), tracked};
  };
  const bool was = nn::fusion_enabled();
  const Result fused = step(true), plain = step(false);
  nn::set_fusion(was);
  CHECK(fused.loss == doctest::Approx(plain.loss).epsilon(1e-6));
  CHECK(fused.tracked == plain.tracked);
  CHECK(fused.tracked == 5);  // 5 BatchNorms, one training call each
  REQUIRE(fused.params.size() == plain.params.size());
  for (size_t i = 0; i < fused.params.size(); ++i) {
    CAPTURE(fused.params[i].name);
    REQUIRE(fused.params[i].tensor.grad().defined());
    test::check_close(fused.params[i].tensor.grad(), plain.params[i].tensor.grad(), 1e-4, 1e-6);
  }
  for (size_t i = 0; i < fused.buffers.size(); ++i)
    test::check_close(fused.buffers[i].tensor, plain.buffers[i].tensor, 1e-5, 1e-6, fused.buffers[i].name);
  // The fused op is what ran (the profiler lets fusion happen; a summary does not).
  auto backward_ops = [&](bool fuse) {
    nn::set_fusion(fuse);
    Generator gen(3);
    models::ConvMixer<float> m(cfg, gen);
    std::set<std::string> ops;
    {
      nn::Profiler<float> prof;
      cross_entropy(m(x), labels).backward();
      for (const auto& r : prof.backward()) ops.insert(r.name);
    }
    nn::set_fusion(was);
    return ops;
  };
  const auto on = backward_ops(true), off = backward_ops(false);
  CHECK(on.count("gelu_batch_norm") == 1);
  CHECK(on.count("gelu_batch_norm_add") == 1);  // the residual add folded into the spatial block's last op
  CHECK(on.count("gelu") == 0);
  CHECK(on.count("add") == 0);
  CHECK(off.count("gelu_batch_norm") == 0);
  CHECK(off.count("gelu_batch_norm_add") == 0);
  CHECK(off.count("gelu") == 1);
  CHECK(off.count("batch_norm") == 1);
  CHECK(off.count("add") == 1);
}
