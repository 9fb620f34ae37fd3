// batch_norm and layer_norm on the GPU: ConvMixer's [128,16,16,256] BatchNorm (forward in
// training and eval, and forward + backward), ShiftViT's [128,8,8,96] LayerNorm. Each
// iteration is the op plus a device synchronize, timed in real time (this file is compiled
// without CUDA headers, so no CUDA events), so a figure includes launch overhead; bytes as in
// norm_bench.cpp (the ideal traffic: fwd x read, y written; bwd g and x read, dx written).
#ifdef PATCHNET_WITH_CUDA
#include "bench_util.hpp"
#include "cuda_bench_util.hpp"
#include "patchnet/ops/batch_norm.hpp"
#include "patchnet/ops/layer_norm.hpp"

using namespace patchnet;
using namespace patchnet::bench;

namespace {

Tensor<float> gpu_input(const Shape& shape, uint64_t seed, bool requires_grad = false) {
  Tensor<float> t = input(shape, seed).to(Device::cuda());
  if (requires_grad) t.set_requires_grad();
  return t;
}

Shape convmixer() { return {ConvMixerShape::N, ConvMixerShape::H, ConvMixerShape::W, ConvMixerShape::C}; }
const Shape kShiftVit{128, 8, 8, 96};

void bn_fwd(benchmark::State& state, bool training) {
  if (!have_gpu(state)) return;
  const int64_t C = ConvMixerShape::C;
  auto x = gpu_input(convmixer(), 1), gamma = gpu_input({C}, 2), beta = gpu_input({C}, 3);
  auto rm = Tensor<float>::zeros({C}, Device::cuda()), rv = Tensor<float>::ones({C}, Device::cuda());
  NoGrad ng;
  run_timed(state, [&] { benchmark::DoNotOptimize(batch_norm(x, gamma, beta, rm, rv, training).data()); });
  const double n = static_cast<double>(x.numel());
  report(state, 2 * n * sizeof(float), (training ? 7 : 3) * n);
}

}  // namespace

static void BM_cuda_batch_norm_train_fwd(benchmark::State& state) { bn_fwd(state, true); }
BENCHMARK(BM_cuda_batch_norm_train_fwd)->Unit(benchmark::kMicrosecond)->UseRealTime();

static void BM_cuda_batch_norm_eval_fwd(benchmark::State& state) { bn_fwd(state, false); }
BENCHMARK(BM_cuda_batch_norm_eval_fwd)->Unit(benchmark::kMicrosecond)->UseRealTime();

static void BM_cuda_batch_norm_train_fwd_bwd(benchmark::State& state) {
  if (!have_gpu(state)) return;
  const int64_t C = ConvMixerShape::C;
  auto x = gpu_input(convmixer(), 1, true), gamma = gpu_input({C}, 2, true), beta = gpu_input({C}, 3, true);
  auto rm = Tensor<float>::zeros({C}, Device::cuda()), rv = Tensor<float>::ones({C}, Device::cuda());
  auto g = Tensor<float>::ones(x.shape(), Device::cuda());
  run_timed(state, [&] {
    batch_norm(x, gamma, beta, rm, rv, true).backward(g);
    x.zero_grad();
    gamma.zero_grad();
    beta.zero_grad();
  });
  const double n = static_cast<double>(x.numel());
  report(state, 5 * n * sizeof(float), 16 * n);
}
BENCHMARK(BM_cuda_batch_norm_train_fwd_bwd)->Unit(benchmark::kMicrosecond)->UseRealTime();

static void BM_cuda_layer_norm_fwd(benchmark::State& state) {
  if (!have_gpu(state)) return;
  const int64_t C = kShiftVit[3];
  auto x = gpu_input(kShiftVit, 1), gamma = gpu_input({C}, 2), beta = gpu_input({C}, 3);
  NoGrad ng;
  run_timed(state, [&] { benchmark::DoNotOptimize(layer_norm(x, gamma, beta).data()); });
  const double n = static_cast<double>(x.numel());
  report(state, 2 * n * sizeof(float), 7 * n);
}
BENCHMARK(BM_cuda_layer_norm_fwd)->Unit(benchmark::kMicrosecond)->UseRealTime();

static void BM_cuda_layer_norm_fwd_bwd(benchmark::State& state) {
  if (!have_gpu(state)) return;
  const int64_t C = kShiftVit[3];
  auto x = gpu_input(kShiftVit, 1, true), gamma = gpu_input({C}, 2, true), beta = gpu_input({C}, 3, true);
  auto g = Tensor<float>::ones(x.shape(), Device::cuda());
  run_timed(state, [&] {
    layer_norm(x, gamma, beta).backward(g);
    x.zero_grad();
    gamma.zero_grad();
    beta.zero_grad();
  });
  const double n = static_cast<double>(x.numel());
  report(state, 5 * n * sizeof(float), 16 * n);
}
BENCHMARK(BM_cuda_layer_norm_fwd_bwd)->Unit(benchmark::kMicrosecond)->UseRealTime();

#endif  // PATCHNET_WITH_CUDA
