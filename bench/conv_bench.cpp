// Convolutions at the models' shapes: ConvMixer's depthwise 5x5, stem and pointwise mixing;
// ShiftViT's patch projection and patch merging; the involution seed's 3x3 conv baseline.
// FLOPs count 2 per multiply-add; fwd_bwd adds dx (when the input needs a gradient) and dw,
// each as many multiply-adds as the forward. Bytes: inputs read plus outputs written once.
#include "bench_util.hpp"
#include "conv_cases.hpp"
#include "patchnet/ops/conv.hpp"

using namespace patchnet;
using namespace patchnet::bench;

namespace {

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
