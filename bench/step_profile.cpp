// Where the time of a training step goes, for each example model (step_models.hpp): the
// step split into forward + loss, backward and optimizer, the host memory it takes (peak in
// tensors, blocks obtained from the system after the first two steps: none is the goal),
// then nn::Profiler's forward time per layer type and backward time per op. bench/steps.py runs it after the step
// table.
//
//   ./build/bench/patchnet_step_profile [--steps N] [model name filter]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "patchnet/nn/profile.hpp"
#include "step_models.hpp"

using namespace patchnet;

int main(int argc, char** argv) {
  int steps = 3;
  std::string filter;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--steps") == 0 && i + 1 < argc) steps = std::atoi(argv[++i]);
    else filter = argv[i];
  }
  if (steps < 1) {
    std::fprintf(stderr, "patchnet_step_profile: --steps must be at least 1\n");
    return 2;
  }
  using Clock = std::chrono::steady_clock;
  const auto ms = [](Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
  };
  for (auto make : bench::step_models()) {
    reset_host_memory_peak();  // the peak of this model's steps, its weights and batch included
    bench::StepRun run(make());
    if (run.spec.name.find(filter) == std::string::npos) continue;
    const HostMemoryStats before = host_memory_stats();
    run.step();  // warm: the optimizer's state, the first allocations
    run.step();
    const HostMemoryStats warm = host_memory_stats();
    double fwd = 0, bwd = 0, opt = 0;
    nn::Profiler<float> prof;
    for (int s = 0; s < steps; ++s) {
      const auto t0 = Clock::now();
      const Tensor<float> loss = train::classification_loss(run.model(run.x), run.labels, run.spec.loss);
      const auto t1 = Clock::now();
      run.opt->zero_grad();
      loss.backward();
      const auto t2 = Clock::now();
      run.opt->step(1e-3);
      const auto t3 = Clock::now();
      fwd += ms(t0, t1);
      bwd += ms(t1, t2);
      opt += ms(t2, t3);
    }
    const double n = steps;
    std::printf("== %s: %.1f ms a step (mean of %d): forward + loss %.1f, backward %.1f, optimizer %.1f\n",
                run.spec.name.c_str(), (fwd + bwd + opt) / n, steps, fwd / n, bwd / n, opt / n);
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
