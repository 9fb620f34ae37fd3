// batch_norm (ConvMixer: [128,16,16,256], 17 per step), layer_norm (ShiftViT stage 1:
// [256,12,12,96]) and group_norm (ConvMixer's shape, 32 groups). Bytes are the ideal traffic (x read, y written;
// backward g and x read, dx written); FLOPs count the statistics and the normalisation, multiply-add = 2.
#include "bench_util.hpp"
#include "patchnet/ops/batch_norm.hpp"
#include "patchnet/ops/elementwise.hpp"
#include "patchnet/ops/group_norm.hpp"
#include "patchnet/ops/layer_norm.hpp"

using namespace patchnet;
using namespace patchnet::bench;

namespace {
// Per element: sum, deviation squared (sub, mul-add) = 4; (x - m) * s + b = 3.
constexpr double kNormFwdFlops = 7;
// Per element: sums of g and g (x - m) (4), then a (g - mg) - b (x - m) (5).
constexpr double kNormBwdFlops = 9;

Shape convmixer() { return {ConvMixerShape::N, ConvMixerShape::H, ConvMixerShape::W, ConvMixerShape::C}; }
Shape shiftvit() { return {ShiftVitShape::N, ShiftVitShape::H, ShiftVitShape::W, ShiftVitShape::C}; }
}  // namespace

static void BM_batch_norm_train_fwd(benchmark::State& state) {
  auto x = input(convmixer(), 1), gamma = input({ConvMixerShape::C}, 2), beta = input({ConvMixerShape::C}, 3);
  auto rm = Tensor<float>::zeros({ConvMixerShape::C}), rv = Tensor<float>::ones({ConvMixerShape::C});
  NoGrad ng;
  benchmark::DoNotOptimize(batch_norm(x, gamma, beta, rm, rv, true).data());  // warm-up: first-touch of the output
  for (auto _ : state) benchmark::DoNotOptimize(batch_norm(x, gamma, beta, rm, rv, true).data());
  const double n = static_cast<double>(x.numel());
  report(state, 2 * n * sizeof(float), kNormFwdFlops * n);
}
BENCHMARK(BM_batch_norm_train_fwd)->Unit(benchmark::kMillisecond)->UseRealTime();

static void BM_batch_norm_train_fwd_bwd(benchmark::State& state) {
  auto x = input(convmixer(), 1, true), gamma = input({ConvMixerShape::C}, 2, true),
       beta = input({ConvMixerShape::C}, 3, true);
  auto rm = Tensor<float>::zeros({ConvMixerShape::C}), rv = Tensor<float>::ones({ConvMixerShape::C});
  auto g = Tensor<float>::ones(x.shape());
  auto step = [&] {
    batch_norm(x, gamma, beta, rm, rv, true).backward(g);
    x.zero_grad();
    gamma.zero_grad();
    beta.zero_grad();
  };
  step();  // warm-up: first-touch of the gradient buffers
  for (auto _ : state) step();
  const double n = static_cast<double>(x.numel());
  report(state, 5 * n * sizeof(float), (kNormFwdFlops + kNormBwdFlops) * n);
}
BENCHMARK(BM_batch_norm_train_fwd_bwd)->Unit(benchmark::kMillisecond)->UseRealTime();

// ConvMixer's spatial block after the depthwise convolution, forward in training:
// batch_norm(gelu(x)) + residual as one op (arg 1: gelu_batch_norm_add, which nn::Residual
// uses) or as the fused pair then the add (arg 0). Bytes: the one op's ideal traffic (x
// read twice, the residual read, y written).
static void BM_gelu_batch_norm_residual_fwd(benchmark::State& state) {
  const bool folded = state.range(0) == 1;
  auto x = input(convmixer(), 1), r = input(convmixer(), 4);
  auto gamma = input({ConvMixerShape::C}, 2), beta = input({ConvMixerShape::C}, 3);
  auto rm = Tensor<float>::zeros({ConvMixerShape::C}), rv = Tensor<float>::ones({ConvMixerShape::C});
  NoGrad ng;
  auto run = [&] {
    return folded ? gelu_batch_norm_add(x, r, gamma, beta, rm, rv, true)
                  : add(gelu_batch_norm(x, gamma, beta, rm, rv, true), r);
  };
  benchmark::DoNotOptimize(run().data());  // warm-up: first-touch of the outputs
  for (auto _ : state) benchmark::DoNotOptimize(run().data());
  const double n = static_cast<double>(x.numel());
  report(state, 4 * n * sizeof(float), (kNormFwdFlops + 1) * n);
  state.SetLabel(folded ? "gelu_batch_norm_add" : "gelu_batch_norm, then add");
}
BENCHMARK(BM_gelu_batch_norm_residual_fwd)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

static void BM_batch_norm_eval_fwd(benchmark::State& state) {
  auto x = input(convmixer(), 1), gamma = input({ConvMixerShape::C}, 2), beta = input({ConvMixerShape::C}, 3);
  auto rm = Tensor<float>::zeros({ConvMixerShape::C}), rv = Tensor<float>::ones({ConvMixerShape::C});
  NoGrad ng;
  benchmark::DoNotOptimize(batch_norm(x, gamma, beta, rm, rv, false).data());  // warm-up: first-touch of the output
  for (auto _ : state) benchmark::DoNotOptimize(batch_norm(x, gamma, beta, rm, rv, false).data());
  const double n = static_cast<double>(x.numel());
  report(state, 2 * n * sizeof(float), 3 * n);
}
BENCHMARK(BM_batch_norm_eval_fwd)->Unit(benchmark::kMillisecond)->UseRealTime();

static void BM_layer_norm_fwd(benchmark::State& state) {
  auto x = input(shiftvit(), 1), gamma = input({ShiftVitShape::C}, 2), beta = input({ShiftVitShape::C}, 3);
  NoGrad ng;
  benchmark::DoNotOptimize(layer_norm(x, gamma, beta).data());  // warm-up: first-touch of the output
  for (auto _ : state) benchmark::DoNotOptimize(layer_norm(x, gamma, beta).data());
  const double n = static_cast<double>(x.numel());
  report(state, 2 * n * sizeof(float), kNormFwdFlops * n);
}
BENCHMARK(BM_layer_norm_fwd)->Unit(benchmark::kMillisecond)->UseRealTime();

static void BM_layer_norm_fwd_bwd(benchmark::State& state) {
  auto x = input(shiftvit(), 1, true), gamma = input({ShiftVitShape::C}, 2, true),
       beta = input({ShiftVitShape::C}, 3, true);
  auto g = Tensor<float>::ones(x.shape());
  auto step = [&] {
    layer_norm(x, gamma, beta).backward(g);
    x.zero_grad();
    gamma.zero_grad();
    beta.zero_grad();
  };
  step();  // warm-up: first-touch of the gradient buffers
  for (auto _ : state) step();
  const double n = static_cast<double>(x.numel());
  report(state, 5 * n * sizeof(float), (kNormFwdFlops + kNormBwdFlops) * n);
}
BENCHMARK(BM_layer_norm_fwd_bwd)->Unit(benchmark::kMillisecond)->UseRealTime();

// group_norm on ConvMixer's activation shape with 32 groups of 8 channels (GroupNorm(32, 256)).
static void BM_group_norm_fwd_bwd(benchmark::State& state) {
  auto x = input(convmixer(), 1, true), gamma = input({ConvMixerShape::C}, 2, true),
       beta = input({ConvMixerShape::C}, 3, true);
  auto g = Tensor<float>::ones(x.shape());
  auto step = [&] {
    group_norm(x, 32, gamma, beta).backward(g);
    x.zero_grad();
    gamma.zero_grad();
    beta.zero_grad();
  };
  step();  // warm-up: first-touch of the gradient buffers
  for (auto _ : state) step();
  const double n = static_cast<double>(x.numel());
  report(state, 5 * n * sizeof(float), (kNormFwdFlops + kNormBwdFlops) * n);
}
BENCHMARK(BM_group_norm_fwd_bwd)->Unit(benchmark::kMillisecond)->UseRealTime();
