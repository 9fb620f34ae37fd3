// Whole training steps of the four example models at their reference batch sizes, as the
// example programs run them: train mode (dropout and drop path on in ShiftViT), forward,
// loss, backward, optimizer step (AdamW or Adam with the examples' conventions), on random
// images and labels. bench/steps.py prints these beside PyTorch's steps (bench/
// pytorch_steps.py, the twins in tools/) and the machine's ceilings (machine_bench.cpp).
//
// Counters: items_per_second (images/s) and FLOP/s. A step's FLOPs are counted once, here,
// from the model's shapes: the multiply-adds of the convolutions, matrix products and
// involutions, 2 FLOP each, times 3 for a training step (forward, input gradient, weight
// gradient) and times 2 for the first layer (no input gradient). Normalisation,
// activations, pooling and the optimizer are not counted (under 1% of ConvMixer's).
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

namespace {

using namespace patchnet;

struct StepModel {
  int64_t batch, image;
  train::LossKind loss;
  std::function<nn::Module<float>::Ptr(Generator& init, Generator* masks)> build;
  std::function<std::unique_ptr<optim::Optimizer<float>>(nn::Module<float>&)> optimizer;
  double flops;  // of one training step
};

// 2 FLOP per multiply-add; 3 passes for a layer whose input needs a gradient, 2 without.
double step_flops(double first_layer_macs, double other_macs) {
  return 2.0 * (2.0 * first_layer_macs + 3.0 * other_macs);
}

StepModel convmixer() {
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
      128,
      32,
      train::LossKind::Logits,  // the example's: Keras' loss on the softmax output
      [c](Generator& init, Generator*) { return std::make_shared<models::ConvMixer<float>>(c, init); },
      [](nn::Module<float>& m) { return std::make_unique<optim::AdamW<float>>(m, optim::AdamWOptions::keras(1e-4)); },
      step_flops(stem, blocks + N * C * 10)};
}

StepModel shiftvit() {
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
  return {256,
          48,
          train::LossKind::Logits,
          [c](Generator& init, Generator* masks) { return std::make_shared<models::ShiftViT<float>>(c, init, masks); },
          [](nn::Module<float>& m) {
            return std::make_unique<optim::AdamW<float>>(m, optim::AdamWOptions::tensorflow_addons(1e-4));
          },
          step_flops(projection, macs + N * C * 10)};
}

StepModel involution_net() {
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
  return {256,
          32,
          train::LossKind::Logits,
          [c](Generator& init, Generator*) { return models::involution_net<float>(c, init); },
          [](nn::Module<float>& m) { return std::make_unique<optim::Adam<float>>(m, optim::AdamOptions::keras()); },
          step_flops(first, macs)};
}

StepModel conv_net() {
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
  return {256,
          32,
          train::LossKind::Logits,
          [c](Generator& init, Generator*) { return models::conv_net<float>(c, init); },
          [](nn::Module<float>& m) { return std::make_unique<optim::Adam<float>>(m, optim::AdamOptions::keras()); },
          step_flops(first, macs)};
}

void step(benchmark::State& state, StepModel (*make)()) {
  const StepModel s = make();
  Generator init(5), masks(11);
  const nn::Module<float>::Ptr model = s.build(init, &masks);
  model->train();
  const std::unique_ptr<optim::Optimizer<float>> opt = s.optimizer(*model);
  const Tensor<float> x = bench::input({s.batch, s.image, s.image, 3}, 7);
  std::vector<int32_t> lab(static_cast<size_t>(s.batch));
  for (size_t i = 0; i < lab.size(); ++i) lab[i] = static_cast<int32_t>((i * 7) % 10);
  const Tensor<int32_t> labels = Tensor<int32_t>::from_vector(lab, {s.batch});
  const auto one_step = [&] {
    const Tensor<float> loss = train::classification_loss(model(x), labels, s.loss);
    opt->zero_grad();
    loss.backward();
    opt->step(1e-3);
  };
  one_step();  // the optimizer's state and the first allocations
  for (auto _ : state) one_step();
  state.SetItemsProcessed(state.iterations() * s.batch);
  state.counters["FLOP/s"] =
      benchmark::Counter(s.flops * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["GFLOP/step"] = s.flops / 1e9;
}

}  // namespace

BENCHMARK_CAPTURE(step, convmixer_256_8_batch128, convmixer)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(step, shiftvit_batch256, shiftvit)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(step, involution_net_batch256, involution_net)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(step, conv_net_batch256, conv_net)->Unit(benchmark::kMillisecond)->UseRealTime();
