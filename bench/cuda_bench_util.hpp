// What every *_cuda_bench.cpp needs on top of bench_util.hpp: skipping without a GPU and
// timing an op to the end of its device work. These files are compiled without CUDA
// headers (so no CUDA events): an iteration is the op plus cuda::synchronize(0), timed as
// wall time (the benchmarks use ->UseRealTime()), so a figure includes launch overhead.
#pragma once

#ifdef PATCHNET_WITH_CUDA
#include "bench_util.hpp"
#include "patchnet/cuda/runtime.hpp"

namespace patchnet::bench {

// False, with the benchmark marked skipped, when there is no CUDA device.
inline bool have_gpu(benchmark::State& state) {
  if (cuda::device_count() > 0) return true;
  state.SkipWithError("no CUDA device");
  return false;
}

// Runs step once to warm up (allocator cache, cuBLAS handle, first touch of the outputs),
// then once per iteration, each to the end of its device work.
template <class F>
void run_timed(benchmark::State& state, F&& step) {
  step();
  cuda::synchronize(0);
  for (auto _ : state) {
    step();
    cuda::synchronize(0);
  }
}

}  // namespace patchnet::bench
#endif  // PATCHNET_WITH_CUDA
