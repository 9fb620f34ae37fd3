// Softmax cross-entropy on the GPU at the CIFAR-10 head's shape [128, 10]: launch-bound,
// so this measures the per-step overhead of the loss (two kernels forward, one backward).
// Each iteration is the op plus a device synchronisation, timed as wall time.
#ifdef PATCHNET_WITH_CUDA
#include <vector>

#include "bench_util.hpp"
#include "cuda_bench_util.hpp"
#include "patchnet/ops/loss.hpp"

using namespace patchnet;
using namespace patchnet::bench;

namespace {
void cross_entropy_bench(benchmark::State& state, bool backward) {
  if (!have_gpu(state)) return;
  const int64_t N = 128, K = 10;
  auto x = input({N, K}).to(Device::cuda());
  std::vector<int32_t> l(static_cast<size_t>(N));
  for (int64_t i = 0; i < N; ++i) l[static_cast<size_t>(i)] = static_cast<int32_t>(i % K);
  const auto labels = Tensor<int32_t>::from_vector(l, {N}).to(Device::cuda());
  if (backward) x.set_requires_grad();
  auto step = [&] {
    if (backward) {
      cross_entropy(x, labels).backward();
      x.zero_grad();
    } else {
      NoGrad ng;
      benchmark::DoNotOptimize(cross_entropy(x, labels).data());
    }
  };
  run_timed(state, step);
  const double n = static_cast<double>(x.numel());
  report(state, (backward ? 3 : 1) * n * sizeof(float), (backward ? 2 : 1) * 4 * n);
}
}  // namespace

static void BM_cuda_cross_entropy_fwd(benchmark::State& state) { cross_entropy_bench(state, false); }
BENCHMARK(BM_cuda_cross_entropy_fwd)->Unit(benchmark::kMicrosecond)->UseRealTime();
static void BM_cuda_cross_entropy_fwd_bwd(benchmark::State& state) { cross_entropy_bench(state, true); }
BENCHMARK(BM_cuda_cross_entropy_fwd_bwd)->Unit(benchmark::kMicrosecond)->UseRealTime();
#endif  // PATCHNET_WITH_CUDA
