// channel_shift at ShiftViT stage 1 ([256, 12, 12, 96], shift 1), with the group size of
// each num_div reading: g = 8 (paper, 96 / 12) and g = 12 (the Keras seed's tf.split).
// A pure copy: bytes are the figure of merit, FLOPs are 0.
#include "bench_util.hpp"
#include "patchnet/ops/channel_shift.hpp"

using namespace patchnet;
using namespace patchnet::bench;
using S = ShiftVitShape;

// state.range(0): channels per shifted group.
static void BM_channel_shift_fwd(benchmark::State& state) {
  auto x = input({S::N, S::H, S::W, S::C});
  NoGrad ng;
  benchmark::DoNotOptimize(channel_shift(x, state.range(0), 1).data());  // first touch of the output buffer
  for (auto _ : state) benchmark::DoNotOptimize(channel_shift(x, state.range(0), 1).data());
  report(state, 2.0 * static_cast<double>(x.numel()) * sizeof(float), 0);  // read x, write out
}
BENCHMARK(BM_channel_shift_fwd)->ArgName("g")->Arg(8)->Arg(12)->Unit(benchmark::kMicrosecond)->UseRealTime();

// Forward recording the graph, then backward from a ones gradient (the opposite shift).
static void BM_channel_shift_fwd_bwd(benchmark::State& state) {
  auto x = input({S::N, S::H, S::W, S::C}, 1, true);
  const auto dy = Tensor<float>::ones(x.shape());
  auto step = [&] {
    channel_shift(x, state.range(0), 1).backward(dy);
    x.zero_grad();
  };
  step();  // first touch of the buffers the allocator then recycles
  for (auto _ : state) step();
  report(state, 4.0 * static_cast<double>(x.numel()) * sizeof(float), 0);  // x, out, dy, dx
}
BENCHMARK(BM_channel_shift_fwd_bwd)->ArgName("g")->Arg(8)->Arg(12)->Unit(benchmark::kMicrosecond)->UseRealTime();
