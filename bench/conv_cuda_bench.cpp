// Convolutions on the GPU at the models' shapes (as conv_bench.cpp): ConvMixer-256/8's
// depthwise 5x5, pointwise 1x1 and stem; ShiftViT's patch projection and merging; the conv
// baseline's first 3x3. Each iteration is the op (fwd: forward without the graph; fwd_bwd:
// forward, backward with a ones gradient, gradients cleared) plus a device
// synchronisation, timed as wall time. FLOPs and bytes count as in conv_bench.cpp.
#ifdef PATCHNET_WITH_CUDA
#include "bench_util.hpp"
#include "conv_cases.hpp"
#include "cuda_bench_util.hpp"
#include "patchnet/ops/conv.hpp"

using namespace patchnet;
using namespace patchnet::bench;

namespace {

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

}  // namespace

// ConvMixer: depthwise 5x5 "same" on [128,16,16,256] (hand-written kernels).
BENCHMARK_CAPTURE(conv_fwd, cuda_convmixer_depthwise_5x5, kDepthwise)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK_CAPTURE(conv_fwd_bwd, cuda_convmixer_depthwise_5x5, kDepthwise)->Unit(benchmark::kMicrosecond)->UseRealTime();
// ConvMixer channel mixing, conv2d 1x1 (one cuBLAS GEMM; backward two and a column sum).
BENCHMARK_CAPTURE(conv_fwd, cuda_convmixer_pointwise_1x1, kPointwise)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK_CAPTURE(conv_fwd_bwd, cuda_convmixer_pointwise_1x1, kPointwise)->Unit(benchmark::kMicrosecond)->UseRealTime();
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
BENCHMARK_CAPTURE(conv_fwd_bwd, cuda_shiftvit_patch_merge, kPatchMerge)->Unit(benchmark::kMicrosecond)->UseRealTime();
// Conv baseline's first 3x3 layer, [256,32,32,3] -> 32 (im2col + GEMM).
BENCHMARK_CAPTURE(conv_fwd, cuda_conv_baseline_3x3, kBaseline3x3)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK_CAPTURE(conv_fwd_bwd, cuda_conv_baseline_3x3, kBaseline3x3)->Unit(benchmark::kMicrosecond)->UseRealTime();
#endif  // PATCHNET_WITH_CUDA
