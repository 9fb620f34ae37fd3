// Pooling at the models' shapes: max_pool2d 2x2 of the involution conv baseline
// ([256,32,32,32] after the first conv, and [256,32,32,3] on the input image) and
// ConvMixer's global_avg_pool ([128,16,16,256]). Bytes: x read, y written (backward: g read,
// dx written, plus x and y for max); FLOPs: one compare or add per tap.
#include "bench_util.hpp"
#include "patchnet/ops/pool.hpp"

using namespace patchnet;
using namespace patchnet::bench;

namespace {
using I = InvolutionShape;

void max_pool_fwd(benchmark::State& state, int64_t C) {
  auto x = input({I::N, I::H, I::W, C});
  NoGrad ng;
  benchmark::DoNotOptimize(max_pool2d(x).data());  // warm-up: first-touch of the output
  for (auto _ : state) benchmark::DoNotOptimize(max_pool2d(x).data());
  const double n = static_cast<double>(x.numel());
  report(state, 1.25 * n * sizeof(float), n);
}

void max_pool_fwd_bwd(benchmark::State& state, int64_t C) {
  auto x = input({I::N, I::H, I::W, C}, 1, true);
  auto g = Tensor<float>::ones({I::N, I::H / 2, I::W / 2, C});
  auto step = [&] {
    max_pool2d(x).backward(g);
    x.zero_grad();
  };
  step();  // warm-up: first-touch of the gradient buffers
  for (auto _ : state) step();
  const double n = static_cast<double>(x.numel());
  report(state, (1.25 + 2.5) * n * sizeof(float), 2 * n);
}
}  // namespace

static void BM_max_pool2d_conv_fwd(benchmark::State& state) { max_pool_fwd(state, 32); }
BENCHMARK(BM_max_pool2d_conv_fwd)->Unit(benchmark::kMillisecond)->UseRealTime();
static void BM_max_pool2d_conv_fwd_bwd(benchmark::State& state) { max_pool_fwd_bwd(state, 32); }
BENCHMARK(BM_max_pool2d_conv_fwd_bwd)->Unit(benchmark::kMillisecond)->UseRealTime();
static void BM_max_pool2d_rgb_fwd(benchmark::State& state) { max_pool_fwd(state, 3); }
BENCHMARK(BM_max_pool2d_rgb_fwd)->Unit(benchmark::kMillisecond)->UseRealTime();
static void BM_max_pool2d_rgb_fwd_bwd(benchmark::State& state) { max_pool_fwd_bwd(state, 3); }
BENCHMARK(BM_max_pool2d_rgb_fwd_bwd)->Unit(benchmark::kMillisecond)->UseRealTime();

static void BM_avg_pool2d_conv_fwd(benchmark::State& state) {
  auto x = input({I::N, I::H, I::W, 32});
  NoGrad ng;
  benchmark::DoNotOptimize(
      avg_pool2d(x, {.pool = 2, .padding = Padding::Same}).data());  // warm-up: first-touch of the output
  for (auto _ : state) benchmark::DoNotOptimize(avg_pool2d(x, {.pool = 2, .padding = Padding::Same}).data());
  const double n = static_cast<double>(x.numel());
  report(state, 1.25 * n * sizeof(float), n);
}
BENCHMARK(BM_avg_pool2d_conv_fwd)->Unit(benchmark::kMillisecond)->UseRealTime();

static void BM_global_avg_pool_fwd(benchmark::State& state) {
  using S = ConvMixerShape;
  auto x = input({S::N, S::H, S::W, S::C});
  NoGrad ng;
  benchmark::DoNotOptimize(global_avg_pool(x).data());  // warm-up: first-touch of the output
  for (auto _ : state) benchmark::DoNotOptimize(global_avg_pool(x).data());
  const double n = static_cast<double>(x.numel());
  report(state, n * sizeof(float), n);
}
BENCHMARK(BM_global_avg_pool_fwd)->Unit(benchmark::kMillisecond)->UseRealTime();

static void BM_global_avg_pool_fwd_bwd(benchmark::State& state) {
  using S = ConvMixerShape;
  auto x = input({S::N, S::H, S::W, S::C}, 1, true);
  auto g = Tensor<float>::ones({S::N, S::C});
  auto step = [&] {
    global_avg_pool(x).backward(g);
    x.zero_grad();
  };
  step();  // warm-up: first-touch of the gradient buffers
  for (auto _ : state) step();
  const double n = static_cast<double>(x.numel());
  report(state, 2 * n * sizeof(float), 2 * n);
}
BENCHMARK(BM_global_avg_pool_fwd_bwd)->Unit(benchmark::kMillisecond)->UseRealTime();
