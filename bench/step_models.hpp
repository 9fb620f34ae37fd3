// The four example models as whole training steps at their reference batch sizes, as the
// example programs run them (step_bench.cpp times them, step_profile.cpp breaks them down):
// the model, its optimizer with the examples' convention, the loss, and the FLOPs of one
// step counted from the shapes: the multiply-adds of the convolutions, matrix products and
// involutions, 2 FLOP each, times 3 for a training step (forward, input gradient, weight
// gradient) and times 2 for the first layer (no input gradient). Normalisation,
// activations, pooling and the optimizer are not counted (under 1% of ConvMixer's).
#pragma once

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
  train::LossKind loss;
  std::function<nn::Module<float>::Ptr(Generator& init, Generator* masks)> build;
  std::function<std::unique_ptr<optim::Optimizer<float>>(nn::Module<float>&)> optimizer;
  double flops;  // of one training step
};

// 2 FLOP per multiply-add; 3 passes for a layer whose input needs a gradient, 2 without.
inline double step_flops(double first_layer_macs, double other_macs) {
  return 2.0 * (2.0 * first_layer_macs + 3.0 * other_macs);
}

inline StepModel convmixer() {
  models::ConvMixerConfig c;
  c.width = 256;
  c.depth = 8;
  c.kernel = 5;
  c.patch = 2;
  c.softmax_head = false;  // the example trains on the logits (examples/convmixer_cifar10.cpp)
  const double N = 128, T = (32 / c.patch) * (32 / c.patch), C = static_cast<double>(c.width);
  const double stem = N * T * (c.patch * c.patch * 3) * C;
  const double blocks = c.depth * (N * T * C * c.kernel * c.kernel + N * T * C * C);
  return {
      "convmixer_256_8_batch128",
      128,
      32,
      train::LossKind::Logits,  // the example's: Keras' loss on the softmax output
      [c](Generator& init, Generator*) { return std::make_shared<models::ConvMixer<float>>(c, init); },
      [](nn::Module<float>& m) { return std::make_unique<optim::AdamW<float>>(m, optim::AdamWOptions::keras(1e-4)); },
      step_flops(stem, blocks + N * C * 10)};
}

inline StepModel shiftvit() {
  const models::ShiftViTConfig c;  // the reference settings: dim 96, stages 2-4-8-2
  const double N = 256;
  double H = 48.0 / c.patch, C = static_cast<double>(c.dim), macs = 0;
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
          256,
          48,
          train::LossKind::Logits,
          [c](Generator& init, Generator* masks) { return std::make_shared<models::ShiftViT<float>>(c, init, masks); },
          [](nn::Module<float>& m) {
            return std::make_unique<optim::AdamW<float>>(m, optim::AdamWOptions::tensorflow_addons(1e-4));
          },
          step_flops(projection, macs + N * C * 10)};
}

inline StepModel involution_net() {
  const models::InvolutionNetConfig c;
  const double N = 256, Cin = static_cast<double>(c.in_channels), K2 = static_cast<double>(c.kernel * c.kernel);
  const double red = std::floor(Cin / static_cast<double>(c.reduction)), G = static_cast<double>(c.groups);
  double H = static_cast<double>(c.image_size), first = 0, macs = 0;
  for (int k = 0; k < 3; ++k) {  // kernel generation (C -> C/r -> K^2 G) and multiply-reduce
    const double layer = N * H * H * (Cin * red + red * K2 * G + Cin * K2);
    (k == 0 ? first : macs) += layer;
    if (k < 2) H = std::floor(H / 2);
  }
  macs += N * (H * H * Cin * static_cast<double>(c.hidden) + static_cast<double>(c.hidden * c.num_classes));
  return {"involution_net_batch256",
          256,
          32,
          train::LossKind::Logits,
          [c](Generator& init, Generator*) { return models::involution_net<float>(c, init); },
          [](nn::Module<float>& m) { return std::make_unique<optim::Adam<float>>(m, optim::AdamOptions::keras()); },
          step_flops(first, macs)};
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
  macs += N * (H * H * in * static_cast<double>(c.hidden) + static_cast<double>(c.hidden * c.num_classes));
  return {"conv_net_batch256",
          256,
          32,
          train::LossKind::Logits,
          [c](Generator& init, Generator*) { return models::conv_net<float>(c, init); },
          [](nn::Module<float>& m) { return std::make_unique<optim::Adam<float>>(m, optim::AdamOptions::keras()); },
          step_flops(first, macs)};
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
  // Forward, loss, backward, optimizer step.
  void step() {
    const Tensor<float> loss = train::classification_loss(model(x), labels, spec.loss);
    opt->zero_grad();
    loss.backward();
    opt->step(1e-3);
  }
};

inline std::vector<StepModel (*)()> step_models() { return {convmixer, shiftvit, involution_net, conv_net}; }

}  // namespace patchnet::bench
