// channel_shift on the GPU at ShiftViT stage 1 ([256, 12, 12, 96], shift 1), with g = 8
// (paper) and g = 12 (the Keras seed). A pure copy: bytes are the figure of merit. Each
// iteration is the op plus a device synchronisation, timed as wall time.
#ifdef PATCHNET_WITH_CUDA
#include "bench_util.hpp"
#include "cuda_bench_util.hpp"
#include "patchnet/ops/channel_shift.hpp"

using namespace patchnet;
using namespace patchnet::bench;
using S = ShiftVitShape;

// state.range(0): channels per shifted group.
static void BM_cuda_channel_shift_fwd(benchmark::State& state) {
  if (!have_gpu(state)) return;
  auto x = input({S::N, S::H, S::W, S::C}).to(Device::cuda());
  NoGrad ng;
  run_timed(state, [&] { benchmark::DoNotOptimize(channel_shift(x, state.range(0), 1).data()); });
  report(state, 2.0 * static_cast<double>(x.numel()) * sizeof(float), 0);  // read x, write out
}
BENCHMARK(BM_cuda_channel_shift_fwd)->ArgName("g")->Arg(8)->Arg(12)->Unit(benchmark::kMicrosecond)->UseRealTime();

static void BM_cuda_channel_shift_fwd_bwd(benchmark::State& state) {
  if (!have_gpu(state)) return;
  auto x = input({S::N, S::H, S::W, S::C}).to(Device::cuda()).set_requires_grad();
  const auto dy = Tensor<float>::ones(x.shape(), Device::cuda());
  run_timed(state, [&] {
    channel_shift(x, state.range(0), 1).backward(dy);
    x.zero_grad();
  });
  report(state, 4.0 * static_cast<double>(x.numel()) * sizeof(float), 0);  // x, out, dy, dx
}
BENCHMARK(BM_cuda_channel_shift_fwd_bwd)->ArgName("g")->Arg(8)->Arg(12)->Unit(benchmark::kMicrosecond)->UseRealTime();
#endif  // PATCHNET_WITH_CUDA
