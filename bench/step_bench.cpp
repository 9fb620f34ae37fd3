// Whole training steps of the four example models (step_models.hpp) at their reference
// batch sizes. bench/steps.py prints these beside PyTorch's steps (bench/pytorch_steps.py,
// the twins in tools/) and the machine's ceilings (machine_bench.cpp).
// Counters: items_per_second (images/s), FLOP/s and the FLOPs of one step.
#include "patchnet/core/precision.hpp"
#include "step_models.hpp"

namespace {

using namespace patchnet;

void step_at(benchmark::State& state, bench::StepModel (*make)(), MatmulPrecision precision) {
  const MatmulPrecisionScope scope(precision);
  bench::StepRun run(make());
  run.step();  // the optimizer's state and the first allocations
  for (auto _ : state) run.step();
  state.SetItemsProcessed(state.iterations() * run.spec.batch);
  state.counters["FLOP/s"] =
      benchmark::Counter(run.spec.flops * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["GFLOP/step"] = run.spec.flops / 1e9;
}
void step(benchmark::State& state, bench::StepModel (*make)()) { step_at(state, make, MatmulPrecision::FP32); }
// Under the bf16 matmul precision policy (core/precision.hpp): AMX or AVX512-BF16 GEMMs.
void step_bf16(benchmark::State& state, bench::StepModel (*make)()) { step_at(state, make, MatmulPrecision::BF16); }

}  // namespace

BENCHMARK_CAPTURE(step, convmixer_256_8_batch128, bench::convmixer)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(step, shiftvit_batch256, bench::shiftvit)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(step, involution_net_batch256, bench::involution_net)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(step, conv_net_batch256, bench::conv_net)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(step_bf16, convmixer_256_8_batch128, bench::convmixer)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(step_bf16, shiftvit_batch256, bench::shiftvit)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(step_bf16, involution_net_batch256, bench::involution_net)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(step_bf16, conv_net_batch256, bench::conv_net)->Unit(benchmark::kMillisecond)->UseRealTime();
