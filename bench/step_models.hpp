// The four example models as whole training steps at their reference batch sizes, as the
// example programs run them (step_bench.cpp times them, step_profile.cpp breaks them down):
// the model, its optimizer with the examples' convention, and the FLOPs of one
// step counted from the shapes: the multiply-adds of the convolutions, matrix products and
// involutions, 2 FLOP each, times 3 for a training step (forward, input gradient, weight
// gradient) and times 2 for the first layer (no input gradient). Normalisation,
// activations, pooling and the optimizer are not counted (under 1% of ConvMixer's).
#pragma once

#include <chrono>
#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bench_util.hpp"
#include "patchnet/models/convmixer.hpp"
#include "patchnet/models/involution_net.hpp"
#include "patchnet/models/shiftvit.hpp"
#include "patchnet/optim/adam.hpp"
#include "patchnet/train/trainer.hpp"

namespace patchnet::bench {

struct StepModel {
  std::string name;
  int64_t batch, image;
  std::function<nn::Module<float>::Ptr(Generator& init, Generator* masks)> build;
  std::function<std::unique_ptr<optim::Optimizer<float>>(nn::Module<float>&)> optimizer;
  double flops;  // of one training step
};

// 2 FLOP per multiply-add; 3 passes for a layer whose input needs a gradient, 2 without.
inline double step_flops(double first_layer_macs, double other_macs) {
  return 2.0 * (2.0 * first_layer_macs + 3.0 * other_macs);
}

inline StepModel convmixer() {
  constexpr int64_t kBatch = 128, kImage = 32;
  models::ConvMixerConfig c;
  c.width = 256;
  c.depth = 8;
  c.kernel = 5;
  c.patch = 2;
  c.softmax_head = false;  // the example trains on the logits (examples/convmixer_cifar10.cpp)
  const double N = kBatch, T = (kImage / c.patch) * (kImage / c.patch), C = static_cast<double>(c.width);
  const double stem = N * T * (c.patch * c.patch * 3) * C;
  const double blocks = c.depth * (N * T * C * c.kernel * c.kernel + N * T * C * C);
  return {
      "convmixer_256_8_batch128",
      kBatch,
      kImage,
      [c](Generator& init, Generator*) { return std::make_shared<models::ConvMixer<float>>(c, init); },
      [](nn::Module<float>& m) { return std::make_unique<optim::AdamW<float>>(m, optim::AdamWOptions::keras(1e-4)); },
      step_flops(stem, blocks + N * C * 10)};
}

inline StepModel shiftvit() {
  constexpr int64_t kBatch = 256, kImage = 48;  // the example's 48x48 crops
  const models::ShiftViTConfig c;               // the reference settings: dim 96, stages 2-4-8-2
  const double N = kBatch;
  double H = static_cast<double>(kImage / c.patch), C = static_cast<double>(c.dim), macs = 0;
  const double projection = N * H * H * (c.patch * c.patch * 3) * C;
  for (size_t s = 0; s < c.depths.size(); ++s) {
    const double hidden = std::floor(c.mlp_ratio * C);
    macs += static_cast<double>(c.depths[s]) * N * H * H * 2.0 * C * hidden;
    if (s + 1 < c.depths.size()) {  // patch merging: 2x2 stride 2 "same", C -> 2C
      H = std::ceil(H / 2);
      macs += N * H * H * 4.0 * C * 2.0 * C;
      C *= 2;
    }
  }
  return {"shiftvit_batch256",
          kBatch,
          kImage,
          [c](Generator& init, Generator* masks) { return std::make_shared<models::ShiftViT<float>>(c, init, masks); },
          [](nn::Module<float>& m) {
            return std::make_unique<optim::AdamW<float>>(m, optim::AdamWOptions::tensorflow_addons(1e-4));
          },
          step_flops(projection, macs + N * C * 10)};
}

// The involution example's two networks: batch 256 of 32x32 images, Keras' Adam. first and
// other: the multiply-adds of the first layer and of the rest, up to the dense layers,
// which this adds; H: the map size after the three layers.
inline StepModel involution_example_model(std::string name, nn::Module<float>::Ptr (*build)(Generator&), double first,
                                          double other, double H, double channels) {
  const models::InvolutionNetConfig c;
  const double N = 256, dense = N * (H * H * channels * static_cast<double>(c.hidden) +
                                     static_cast<double>(c.hidden * c.num_classes));
  return {std::move(name),
          256,
          c.image_size,
          [build](Generator& init, Generator*) { return build(init); },
          [](nn::Module<float>& m) { return std::make_unique<optim::Adam<float>>(m, optim::AdamOptions::keras()); },
          step_flops(first, other + dense)};
}

inline StepModel involution_net() {
  const models::InvolutionNetConfig c;
  const double N = 256, Cin = static_cast<double>(c.in_channels), K2 = static_cast<double>(c.kernel * c.kernel);
  const double red = std::floor(Cin / static_cast<double>(c.reduction)), G = static_cast<double>(c.groups);
  double H = static_cast<double>(c.image_size), first = 0, macs = 0;
  for (int k = 0; k < 3; ++k) {  // kernel generation (C -> C/r -> K^2 G) and multiply-reduce
    (k == 0 ? first : macs) += N * H * H * (Cin * red + red * K2 * G + Cin * K2);
    if (k < 2) H = std::floor(H / 2);
  }
  return involution_example_model(
      "involution_net_batch256",
      [](Generator& init) -> nn::Module<float>::Ptr { return models::involution_net<float>({}, init); }, first, macs, H,
      Cin);
}

inline StepModel conv_net() {
  const models::InvolutionNetConfig c;
  const double N = 256;
  double H = static_cast<double>(c.image_size), in = static_cast<double>(c.in_channels), first = 0, macs = 0;
  for (int k = 0; k < 3; ++k) {
    const double out = static_cast<double>(c.widths[static_cast<size_t>(k)]);
    (k == 0 ? first : macs) += N * H * H * 9 * in * out;
    if (k < 2) H = std::floor(H / 2);
    in = out;
  }
  return involution_example_model(
      "conv_net_batch256", [](Generator& init) -> nn::Module<float>::Ptr { return models::conv_net<float>({}, init); },
      first, macs, H, in);
}

// A model ready to step: built, in train mode, with its optimizer, a batch and labels.
struct StepRun {
  StepModel spec;
  Generator init{5}, masks{11};
  nn::Module<float>::Ptr model;
  std::unique_ptr<optim::Optimizer<float>> opt;
  Tensor<float> x;
  Tensor<int32_t> labels;

  explicit StepRun(StepModel s) : spec(std::move(s)) {
    model = spec.build(init, &masks);
    model->train();
    opt = spec.optimizer(*model);
    x = input({spec.batch, spec.image, spec.image, 3}, 7);
    std::vector<int32_t> lab(static_cast<size_t>(spec.batch));
    for (size_t i = 0; i < lab.size(); ++i) lab[i] = static_cast<int32_t>((i * 7) % 10);
    labels = Tensor<int32_t>::from_vector(lab, {spec.batch});
  }
  // Milliseconds of a step's phases, summed over the steps given this.
  struct Phases {
    double forward = 0, backward = 0, optimizer = 0;
  };

  // Forward, loss (cross entropy on the logits, as every example trains), backward,
  // optimizer step; times the phases into `t` when given.
  void step(Phases* t = nullptr) {
    using Clock = std::chrono::steady_clock;
    const auto ms = [](Clock::time_point a, Clock::time_point b) {
      return std::chrono::duration<double, std::milli>(b - a).count();
    };
    const auto t0 = t ? Clock::now() : Clock::time_point{};
    const Tensor<float> loss = train::classification_loss(model(x), labels, train::LossKind::Logits);
    const auto t1 = t ? Clock::now() : Clock::time_point{};
    opt->zero_grad();
    loss.backward();
    const auto t2 = t ? Clock::now() : Clock::time_point{};
    opt->step(1e-3);
    if (!t) return;
    const auto t3 = Clock::now();
    t->forward += ms(t0, t1);
    t->backward += ms(t1, t2);
    t->optimizer += ms(t2, t3);
  }
};

inline std::vector<StepModel (*)()> step_models() { return {convmixer, shiftvit, involution_net, conv_net}; }

}  // namespace patchnet::bench
