// Convolutions on the GPU at the models' shapes (as conv_bench.cpp): ConvMixer-256/8's
// depthwise 5x5, pointwise 1x1 and stem; ShiftViT's patch projection and merging; the conv
// baseline's first 3x3. Each iteration is the op (fwd: forward without the graph; fwd_bwd:
// forward, backward with a ones gradient, gradients cleared) plus a device
// synchronisation, timed as wall time. FLOPs and bytes count as in conv_bench.cpp.
#ifdef PATCHNET_WITH_CUDA
#include "bench_util.hpp"
#include "cuda_bench_util.hpp"
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
    return static_cast<double>(out().numel()) * static_cast<double>(w[0] * w[1] * (depthwise ? 1 : w[2]));
  }
  double fwd_bytes() const {
    return static_cast<double>(x.numel() + w.numel() + out()[3] + out().numel()) * sizeof(float);
  }
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
  if (!have_gpu(state)) return;
  auto x = input(c.x, 1).to(Device::cuda()), w = input(c.w, 2).to(Device::cuda());
  auto b = input({c.out()[3]}, 3).to(Device::cuda());
  NoGrad ng;
  run_timed(state, [&] { benchmark::DoNotOptimize(c.run(x, w, b).data()); });
  report(state, c.fwd_bytes(), 2 * c.macs());
}

void conv_fwd_bwd(benchmark::State& state, const ConvBench& c) {
  if (!have_gpu(state)) return;
  auto x = input(c.x, 1).to(Device::cuda()), w = input(c.w, 2).to(Device::cuda());
  auto b = input({c.out()[3]}, 3).to(Device::cuda());
  if (c.input_grad) x.set_requires_grad();
  w.set_requires_grad();
  b.set_requires_grad();
  const auto dy = Tensor<float>::ones(c.out(), Device::cuda());
  run_timed(state, [&] {
    c.run(x, w, b).backward(dy);
    if (c.input_grad) x.zero_grad();
    w.zero_grad();
    b.zero_grad();
  });
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

// ConvMixer: depthwise 5x5 "same" on [128,16,16,256] (hand-written kernels).
BENCHMARK_CAPTURE(conv_fwd, cuda_convmixer_depthwise_5x5, kDepthwise)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK_CAPTURE(conv_fwd_bwd, cuda_convmixer_depthwise_5x5, kDepthwise)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
// ConvMixer channel mixing, conv2d 1x1 (one cuBLAS GEMM; backward two and a column sum).
BENCHMARK_CAPTURE(conv_fwd, cuda_convmixer_pointwise_1x1, kPointwise)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK_CAPTURE(conv_fwd_bwd, cuda_convmixer_pointwise_1x1, kPointwise)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
// ConvMixer stem: patch 2, [128,32,32,3] -> [128,16,16,256] (space-to-depth + GEMM).
BENCHMARK_CAPTURE(conv_fwd, cuda_convmixer_stem_patch2, kStem)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK_CAPTURE(conv_fwd_bwd, cuda_convmixer_stem_patch2, kStem)->Unit(benchmark::kMicrosecond)->UseRealTime();
// ShiftViT patch projection and patch merging (patches path).
BENCHMARK_CAPTURE(conv_fwd, cuda_shiftvit_patch_projection, kPatchProjection)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(conv_fwd_bwd, cuda_shiftvit_patch_projection, kPatchProjection)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(conv_fwd, cuda_shiftvit_patch_merge, kPatchMerge)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK_CAPTURE(conv_fwd_bwd, cuda_shiftvit_patch_merge, kPatchMerge)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
// Conv baseline's first 3x3 layer, [256,32,32,3] -> 32 (im2col + GEMM).
BENCHMARK_CAPTURE(conv_fwd, cuda_conv_baseline_3x3, kBaseline3x3)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK_CAPTURE(conv_fwd_bwd, cuda_conv_baseline_3x3, kBaseline3x3)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
#endif  // PATCHNET_WITH_CUDA
