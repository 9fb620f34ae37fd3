// Whole training steps of the four example models (step_models.hpp) at their reference
// batch sizes. bench/steps.py prints these beside PyTorch's steps (bench/pytorch_steps.py,
// the twins in tools/) and the machine's ceilings (machine_bench.cpp).
// Counters: items_per_second (images/s), FLOP/s and the FLOPs of one step.
#include "step_models.hpp"

namespace {

using namespace patchnet;

void step(benchmark::State& state, bench::StepModel (*make)()) {
  bench::StepRun run(make());
  run.step();  // the optimizer's state and the first allocations
  for (auto _ : state) run.step();
  state.SetItemsProcessed(state.iterations() * run.spec.batch);
  state.counters["FLOP/s"] =
      benchmark::Counter(run.spec.flops * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["GFLOP/step"] = run.spec.flops / 1e9;
}

}  // namespace

BENCHMARK_CAPTURE(step, convmixer_256_8_batch128, bench::convmixer)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(step, shiftvit_batch256, bench::shiftvit)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(step, involution_net_batch256, bench::involution_net)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(step, conv_net_batch256, bench::conv_net)->Unit(benchmark::kMillisecond)->UseRealTime();
