// Convolutions at the models' shapes: ConvMixer's depthwise 5x5, stem and pointwise mixing;
// ShiftViT's patch projection and patch merging; the involution seed's 3x3 conv baseline.
// FLOPs count 2 per multiply-add; fwd_bwd adds dx (when the input needs a gradient) and dw,
// each as many multiply-adds as the forward. Bytes: inputs read plus outputs written once.
#include "bench_util.hpp"
#include "patchnet/ops/conv.hpp"

using namespace patchnet;
using namespace patchnet::bench;

namespace {

struct ConvBench {
  Shape x, w;  // w: HWIO, or [KH,KW,C] for depthwise
  Conv2dOptions opt;
  bool depthwise = false;
  bool input_grad = true;  // false for a first layer fed with images

  Shape out() const {
    const Window2d g = window2d("bench", x, {w[0], w[1]}, opt.stride, opt.padding, opt.pad);
    return {g.N, g.OH, g.OW, depthwise ? x[3] : w[3]};
  }
  double macs() const {
    const Shape y = out();
    return static_cast<double>(y.numel()) * static_cast<double>(w[0] * w[1] * (depthwise ? 1 : w[2]));
  }
  double fwd_bytes() const {
    return static_cast<double>(x.numel() + w.numel() + out()[3] + out().numel()) * sizeof(float);
  }
  // Backward reads dy, x, w and writes dx (if needed), dw, db.
  double bwd_bytes() const {
    return static_cast<double>(out().numel() + x.numel() + w.numel() + (input_grad ? x.numel() : 0) + w.numel() +
                               out()[3]) *
           sizeof(float);
  }
  Tensor<float> run(const Tensor<float>& a, const Tensor<float>& k, const Tensor<float>& b) const {
    return depthwise ? depthwise_conv2d(a, k, b, opt) : conv2d(a, k, b, opt);
  }
};

void conv_fwd(benchmark::State& state, const ConvBench& c) {
  auto x = input(c.x, 1), w = input(c.w, 2), b = input({c.out()[3]}, 3);
  NoGrad ng;
  c.run(x, w, b);  // warm the host allocator's cache: steady-state training, not first touch
  for (auto _ : state) benchmark::DoNotOptimize(c.run(x, w, b).data());
  report(state, c.fwd_bytes(), 2 * c.macs());
}

void conv_fwd_bwd(benchmark::State& state, const ConvBench& c) {
  auto x = input(c.x, 1, c.input_grad), w = input(c.w, 2, true), b = input({c.out()[3]}, 3, true);
  const auto dy = Tensor<float>::ones(c.out());
  auto step = [&] {
    c.run(x, w, b).backward(dy);
    if (c.input_grad) x.zero_grad();
    w.zero_grad();
    b.zero_grad();
  };
  step();  // warm-up, as in conv_fwd
  for (auto _ : state) step();
  report(state, c.fwd_bytes() + c.bwd_bytes(), 2 * c.macs() * (c.input_grad ? 3 : 2));
}

using CM = ConvMixerShape;
using SV = ShiftVitShape;
using IN = InvolutionShape;

const ConvBench kDepthwise{{CM::N, CM::H, CM::W, CM::C}, {CM::K, CM::K, CM::C}, {.padding = Padding::Same}, true};
const ConvBench kStem{
    {CM::N, CM::H * CM::P, CM::W * CM::P, 3}, {CM::P, CM::P, 3, CM::C}, {.stride = CM::P}, false, false};
const ConvBench kPointwise{{CM::N, CM::H, CM::W, CM::C}, {1, 1, CM::C, CM::C}, {}};
const ConvBench kPatchProjection{
    {SV::N, SV::Image, SV::Image, 3}, {SV::P, SV::P, 3, SV::C}, {.stride = SV::P, .padding = Padding::Same},
    false, false};
const ConvBench kPatchMerge{
    {SV::N, SV::H, SV::W, SV::C}, {2, 2, SV::C, 2 * SV::C}, {.stride = 2, .padding = Padding::Same}};
const ConvBench kBaseline3x3{
    {IN::N, IN::H, IN::W, IN::C}, {IN::K, IN::K, IN::C, 32}, {.padding = Padding::Same}, false, false};

}  // namespace

// ConvMixer: depthwise 5x5 "same" on [128,16,16,256] (the model's hot op).
BENCHMARK_CAPTURE(conv_fwd, convmixer_depthwise_5x5, kDepthwise)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(conv_fwd_bwd, convmixer_depthwise_5x5, kDepthwise)->Unit(benchmark::kMillisecond)->UseRealTime();
// ConvMixer stem: patch 2, [128,32,32,3] -> [128,16,16,256] (patches path).
BENCHMARK_CAPTURE(conv_fwd, convmixer_stem_patch2, kStem)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(conv_fwd_bwd, convmixer_stem_patch2, kStem)->Unit(benchmark::kMillisecond)->UseRealTime();
// ConvMixer channel mixing as conv2d 1x1 (pointwise path).
BENCHMARK_CAPTURE(conv_fwd, convmixer_pointwise_1x1, kPointwise)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(conv_fwd_bwd, convmixer_pointwise_1x1, kPointwise)->Unit(benchmark::kMillisecond)->UseRealTime();
// ShiftViT patch projection: [256,48,48,3], 4x4 stride 4 "same" -> 96 (patches path).
BENCHMARK_CAPTURE(conv_fwd, shiftvit_patch_projection, kPatchProjection)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(conv_fwd_bwd, shiftvit_patch_projection, kPatchProjection)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
// ShiftViT patch merging: [256,12,12,96], 2x2 stride 2 "same" -> 192 (patches path).
BENCHMARK_CAPTURE(conv_fwd, shiftvit_patch_merge, kPatchMerge)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(conv_fwd_bwd, shiftvit_patch_merge, kPatchMerge)->Unit(benchmark::kMillisecond)->UseRealTime();
// Involution seed's conv baseline, first layer: [256,32,32,3], 3x3 "same" -> 32 (im2col path).
BENCHMARK_CAPTURE(conv_fwd, conv_baseline_3x3, kBaseline3x3)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(conv_fwd_bwd, conv_baseline_3x3, kBaseline3x3)->Unit(benchmark::kMillisecond)->UseRealTime();
