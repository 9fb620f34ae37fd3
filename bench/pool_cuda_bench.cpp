// Pooling on the GPU at the models' shapes: ConvMixer's global_avg_pool [128,16,16,256]
// and a max_pool2d 2x2 at [256,32,32,16]. Each iteration is the op plus a device
// synchronisation, timed as wall time; bytes as in pool_bench.cpp.
#ifdef PATCHNET_WITH_CUDA
#include "bench_util.hpp"
#include "cuda_bench_util.hpp"
#include "patchnet/ops/pool.hpp"

using namespace patchnet;
using namespace patchnet::bench;

namespace {
void gap(benchmark::State& state, bool backward) {
  if (!have_gpu(state)) return;
  using S = ConvMixerShape;
  auto x = input({S::N, S::H, S::W, S::C}).to(Device::cuda());
  if (backward) {
    x.set_requires_grad();
    auto g = Tensor<float>::ones({S::N, S::C}, Device::cuda());
    run_timed(state, [&] {
      global_avg_pool(x).backward(g);
      x.zero_grad();
    });
  } else {
    NoGrad ng;
    run_timed(state, [&] { benchmark::DoNotOptimize(global_avg_pool(x).data()); });
  }
  const double n = static_cast<double>(x.numel());
  report(state, (backward ? 2 : 1) * n * sizeof(float), (backward ? 2 : 1) * n);
}

void max_pool(benchmark::State& state, bool backward) {
  if (!have_gpu(state)) return;
  const int64_t N = 256, H = 32, W = 32, C = 16;
  auto x = input({N, H, W, C}).to(Device::cuda());
  if (backward) {
    x.set_requires_grad();
    auto g = Tensor<float>::ones({N, H / 2, W / 2, C}, Device::cuda());
    run_timed(state, [&] {
      max_pool2d(x).backward(g);
      x.zero_grad();
    });
  } else {
    NoGrad ng;
    run_timed(state, [&] { benchmark::DoNotOptimize(max_pool2d(x).data()); });
  }
  const double n = static_cast<double>(x.numel());
  report(state, (backward ? 1.25 + 2.5 : 1.25) * n * sizeof(float), (backward ? 2 : 1) * n);
}
}  // namespace

static void BM_cuda_global_avg_pool_fwd(benchmark::State& state) { gap(state, false); }
BENCHMARK(BM_cuda_global_avg_pool_fwd)->Unit(benchmark::kMicrosecond)->UseRealTime();
static void BM_cuda_global_avg_pool_fwd_bwd(benchmark::State& state) { gap(state, true); }
BENCHMARK(BM_cuda_global_avg_pool_fwd_bwd)->Unit(benchmark::kMicrosecond)->UseRealTime();
static void BM_cuda_max_pool2d_fwd(benchmark::State& state) { max_pool(state, false); }
BENCHMARK(BM_cuda_max_pool2d_fwd)->Unit(benchmark::kMicrosecond)->UseRealTime();
static void BM_cuda_max_pool2d_fwd_bwd(benchmark::State& state) { max_pool(state, true); }
BENCHMARK(BM_cuda_max_pool2d_fwd_bwd)->Unit(benchmark::kMicrosecond)->UseRealTime();
#endif  // PATCHNET_WITH_CUDA
