// A data-parallel training step of each example model (bench/step_models.hpp) at its
// reference global batch: each rank steps its share of the batch, then the gradients are
// summed over the ranks (dist::all_reduce_gradients) and the optimizer steps. Prints, per
// model, the median step, the median all-reduce inside it, and the bytes each rank sends
// into the all-reduce. Run alone for one process, under mpirun for several:
//
//   OMP_NUM_THREADS=2 ./build/bench/patchnet_dist_step [--steps N] [model filter]
//   OMP_NUM_THREADS=1 mpirun -np 2 --oversubscribe ./build/bench/patchnet_dist_step
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "patchnet/dist/data_parallel.hpp"
#include "patchnet/dist/mpi.hpp"
#include "step_models.hpp"

using namespace patchnet;

int main(int argc, char** argv) {
  dist::Group& g = dist::world(&argc, &argv);
  int steps = 5;
  std::string filter;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--steps") == 0 && i + 1 < argc) steps = std::atoi(argv[++i]);
    else filter = argv[i];
  }
  using Clock = std::chrono::steady_clock;
  const auto ms = [](Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
  };
  const auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  if (g.is_root())
    std::printf("%d process(es), %s\n%-28s %10s %12s %14s\n", g.size(), g.backend(), "model, global batch", "step ms",
                "all-reduce ms", "MB per step");
  for (auto make : bench::step_models()) {
    bench::StepModel spec = make();
    if (spec.name.find(filter) == std::string::npos) continue;
    if (spec.batch % g.size() != 0) continue;
    spec.batch /= g.size();  // this rank's share
    bench::StepRun run(std::move(spec));
    dist::broadcast_module(g, *run.model);
    std::vector<double> step_ms, reduce_ms;
    for (int s = 0; s < steps + 1; ++s) {
      int64_t barrier = 0;
      g.all_reduce_sum(&barrier, 1);  // the ranks start each step together
      const auto t0 = Clock::now();
      const Tensor<float> loss = train::classification_loss((*run.model)(run.x), run.labels, train::LossKind::Logits);
      run.opt->zero_grad();
      mul(loss, 1.0f / static_cast<float>(g.size())).backward();
      const auto t1 = Clock::now();
      dist::all_reduce_gradients(g, *run.model);
      const auto t2 = Clock::now();
      run.opt->step(1e-3);
      const auto t3 = Clock::now();
      if (s == 0) continue;  // warm-up: allocations, optimizer state
      step_ms.push_back(ms(t0, t3));
      reduce_ms.push_back(ms(t1, t2));
    }
    const double bytes = 4.0 * static_cast<double>(run.model->num_trainable());
    double worst[2] = {median(step_ms), median(reduce_ms)};  // the slowest rank sets the pace
    std::vector<double> all(static_cast<size_t>(2 * g.size()), 0.0);
    all[static_cast<size_t>(2 * g.rank())] = worst[0];
    all[static_cast<size_t>(2 * g.rank() + 1)] = worst[1];
    g.all_reduce_sum(all.data(), static_cast<int64_t>(all.size()));
    for (int r = 0; r < g.size(); ++r) {
      worst[0] = std::max(worst[0], all[static_cast<size_t>(2 * r)]);
      worst[1] = std::max(worst[1], all[static_cast<size_t>(2 * r + 1)]);
    }
    if (g.is_root())
      std::printf("%-28s %10.1f %12.1f %14.2f\n", run.spec.name.c_str(), worst[0], worst[1],
                  g.distributed() ? bytes / 1e6 : 0.0);
  }
  return 0;
}
