// Elementwise ops, reductions and matrix products at the models' shapes.
#include "bench_util.hpp"
#include "patchnet/ops/elementwise.hpp"
#include "patchnet/ops/matmul.hpp"
#include "patchnet/ops/reduce.hpp"

using namespace patchnet;
using namespace patchnet::bench;
using S = ConvMixerShape;

// The residual add of a ConvMixer block: [128,16,16,256] + [128,16,16,256].
static void BM_add_residual_fwd(benchmark::State& state) {
  auto a = input({S::N, S::H, S::W, S::C}, 1), b = input({S::N, S::H, S::W, S::C}, 2);
  NoGrad ng;
  for (auto _ : state) benchmark::DoNotOptimize(add(a, b).data());
  const double n = static_cast<double>(a.numel());
  report(state, 3 * n * sizeof(float), n);
}
BENCHMARK(BM_add_residual_fwd)->Unit(benchmark::kMicrosecond)->UseRealTime();

static void BM_add_residual_fwd_bwd(benchmark::State& state) {
  auto a = input({S::N, S::H, S::W, S::C}, 1, true), b = input({S::N, S::H, S::W, S::C}, 2, true);
  for (auto _ : state) {
    sum(add(a, b)).backward();
    a.zero_grad();
    b.zero_grad();
  }
  const double n = static_cast<double>(a.numel());
  report(state, 3 * n * sizeof(float) + 3 * n * sizeof(float), n);
}
BENCHMARK(BM_add_residual_fwd_bwd)->Unit(benchmark::kMicrosecond)->UseRealTime();

// Bias-gradient shape: sum of [N*H*W, C] over rows.
static void BM_sum_rows(benchmark::State& state) {
  auto x = input({S::N * S::H * S::W, S::C});
  NoGrad ng;
  for (auto _ : state) benchmark::DoNotOptimize(sum(x, {0}).data());
  report(state, static_cast<double>(x.numel()) * sizeof(float), static_cast<double>(x.numel()));
}
BENCHMARK(BM_sum_rows)->Unit(benchmark::kMicrosecond)->UseRealTime();

// The pointwise convolution of ConvMixer as a linear layer: [32768, 256] x [256, 256].
static void BM_linear_pointwise_fwd(benchmark::State& state) {
  auto x = input({S::N * S::H * S::W, S::C}, 1), w = input({S::C, S::C}, 2), b = input({S::C}, 3);
  NoGrad ng;
  for (auto _ : state) benchmark::DoNotOptimize(linear(x, w, b).data());
  const double m = static_cast<double>(S::N * S::H * S::W);
  report(state, (2 * m * S::C + S::C * S::C) * sizeof(float), 2 * m * S::C * S::C);
}
BENCHMARK(BM_linear_pointwise_fwd)->Unit(benchmark::kMillisecond)->UseRealTime();

static void BM_linear_pointwise_fwd_bwd(benchmark::State& state) {
  auto x = input({S::N * S::H * S::W, S::C}, 1, true), w = input({S::C, S::C}, 2, true), b = input({S::C}, 3, true);
  for (auto _ : state) {
    sum(linear(x, w, b)).backward();
    x.zero_grad();
    w.zero_grad();
    b.zero_grad();
  }
  const double m = static_cast<double>(S::N * S::H * S::W);
  report(state, 3 * (2 * m * S::C + S::C * S::C) * sizeof(float), 3 * 2 * m * S::C * S::C);
}
BENCHMARK(BM_linear_pointwise_fwd_bwd)->Unit(benchmark::kMillisecond)->UseRealTime();
