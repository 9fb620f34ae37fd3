// Where the time of a training step goes, for each example model (step_models.hpp): the
// step split into forward + loss, backward and optimizer, the host memory it takes (peak in
// tensors, blocks obtained from the system after the first two steps: none is the goal),
// then nn::Profiler's forward time per layer type and backward time per op. bench/steps.py
// runs it after the step table, then again under the bf16 precision policy.
//
//   ./build/bench/patchnet_step_profile [--steps N] [--matmul-precision fp32|bf16] [model name filter]
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "patchnet/core/precision.hpp"
#include "patchnet/nn/profile.hpp"
#include "step_models.hpp"

using namespace patchnet;

int main(int argc, char** argv) {
  int steps = 3;
  std::string filter;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--steps") == 0 && i + 1 < argc) steps = std::atoi(argv[++i]);
    else if (std::strcmp(argv[i], "--matmul-precision") == 0 && i + 1 < argc) {
      try {
        set_matmul_precision(parse_matmul_precision(argv[++i]));
      } catch (const Error& e) {
        std::fprintf(stderr, "patchnet_step_profile: %s\n", e.what());
        return 2;
      }
    } else filter = argv[i];
  }
  if (steps < 1) {
    std::fprintf(stderr, "patchnet_step_profile: --steps must be at least 1\n");
    return 2;
  }
  for (auto make : bench::step_models()) {
    bench::StepModel spec = make();  // a description: nothing is built yet
    if (spec.name.find(filter) == std::string::npos) continue;
    reset_host_memory_peak();  // the peak of this model's steps, its weights and batch included
    bench::StepRun run(std::move(spec));
    const HostMemoryStats before = host_memory_stats();
    run.step();  // warm: the optimizer's state, the first allocations
    run.step();
    const HostMemoryStats warm = host_memory_stats();
    bench::StepRun::Phases t;
    nn::Profiler<float> prof;
    for (int s = 0; s < steps; ++s) run.step(&t);
    const double n = steps;
    const std::string policy = matmul_precision() == MatmulPrecision::FP32
                                   ? std::string()
                                   : std::string(" (") + to_string(matmul_precision()) + " matmuls)";
    std::printf("== %s%s: %.1f ms a step (mean of %d): forward + loss %.1f, backward %.1f, optimizer %.1f\n",
                run.spec.name.c_str(), policy.c_str(), (t.forward + t.backward + t.optimizer) / n, steps, t.forward / n,
                t.backward / n, t.optimizer / n);
    const HostMemoryStats end = host_memory_stats();
    std::printf(
        "memory: %.0f MiB peak in tensors, %zu large blocks from the system in "
        "the first two steps, %zu in the %d after; %.0f small buffers a step from the C++ heap\n",
        static_cast<double>(end.peak_allocated_bytes) / (1 << 20), warm.system_allocs - before.system_allocs,
        end.system_allocs - warm.system_allocs, steps, static_cast<double>(end.small_allocs - warm.small_allocs) / n);
    std::printf("%s\n", prof.table(steps).c_str());
  }
  return 0;
}
