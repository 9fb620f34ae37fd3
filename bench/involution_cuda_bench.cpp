// involution on the GPU at the shapes of involution_bench.cpp: the seed's first layer
// ([256, 32, 32, 3], K = 3, G = 1) and the paper's RedNet setting ([128, 16, 16, 256],
// K = 7, G = 16), forward and forward+backward; and the seed's whole layer (kernel
// generation + multiply-reduce, training). Each iteration is the op plus a device
// synchronisation, timed as wall time; bytes and FLOPs as in involution_bench.cpp.
#ifdef PATCHNET_WITH_CUDA
#include <exception>

#include "bench_util.hpp"
#include "involution_cases.hpp"
#include "cuda_bench_util.hpp"
#include "patchnet/ops/involution.hpp"

using namespace patchnet;
using namespace patchnet::bench;

using S = InvolutionShape;
using Case = InvolutionCase;

// state.range(0): index into kCases.
static void BM_cuda_involution_fwd(benchmark::State& state) {
  if (!have_gpu(state)) return;
  const Case c = kCases[state.range(0)];
  auto x = input({c.N, c.H, c.W, c.C}, 1).to(Device::cuda());
  auto k = input({c.N, c.H, c.W, c.K * c.K * c.G}, 2).to(Device::cuda());
  NoGrad ng;
  run_timed(state, [&] { benchmark::DoNotOptimize(involution(x, k, c.K, 1, c.G).data()); });
  report(state, fwd_bytes(c), fwd_flops(c));
}
BENCHMARK(BM_cuda_involution_fwd)->ArgName("case")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)->UseRealTime();

static void BM_cuda_involution_fwd_bwd(benchmark::State& state) {
  if (!have_gpu(state)) return;
  const Case c = kCases[state.range(0)];
  auto x = input({c.N, c.H, c.W, c.C}, 1).to(Device::cuda()).set_requires_grad();
  auto k = input({c.N, c.H, c.W, c.K * c.K * c.G}, 2).to(Device::cuda()).set_requires_grad();
  const auto dy = Tensor<float>::ones(x.shape(), Device::cuda());
  run_timed(state, [&] {
    involution(x, k, c.K, 1, c.G).backward(dy);
    x.zero_grad();
    k.zero_grad();
  });
  report(state, 3 * fwd_bytes(c), 3 * fwd_flops(c));
}
BENCHMARK(BM_cuda_involution_fwd_bwd)->ArgName("case")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)->UseRealTime();

// The seed's layer: channel 3, group 1, kernel 3, stride 1, reduction 2, training. Needs
// the CUDA kernels of avg_pool / linear / batch_norm / relu too; skipped if one is missing.
static void BM_cuda_involution_layer_fwd_bwd(benchmark::State& state) {
  if (!have_gpu(state)) return;
  const int64_t C = S::C, Cr = S::C / 2, KK = S::K * S::K;
  const Device dev = Device::cuda();
  auto param = [&](const Shape& s, uint64_t seed) { return input(s, seed).to(dev).set_requires_grad(); };
  auto x = param({S::N, S::H, S::W, C}, 1);
  InvolutionParams<float> p{param({C, Cr}, 2),
                            param({Cr}, 3),
                            param({Cr}, 4),
                            param({Cr}, 5),
                            Tensor<float>::zeros({Cr}, dev),
                            Tensor<float>::ones({Cr}, dev),
                            param({Cr, KK}, 6),
                            param({KK}, 7)};
  const InvolutionOptions opt{.kernel_size = S::K, .stride = 1, .groups = 1};
  const auto dy = Tensor<float>::ones(x.shape(), dev);
  try {
    run_timed(state, [&] {
      involution_layer(x, p, opt, true).output.backward(dy);
      x.zero_grad();
      for (Tensor<float>* t : {&p.reduce_weight, &p.reduce_bias, &p.bn_gamma, &p.bn_beta, &p.span_weight, &p.span_bias})
        t->zero_grad();
    });
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  const Case c = kCases[0];
  report(state, 3 * fwd_bytes(c), 3 * fwd_flops(c) + 6.0 * static_cast<double>(S::N * S::H * S::W * Cr * (C + KK)));
}
BENCHMARK(BM_cuda_involution_layer_fwd_bwd)->Unit(benchmark::kMicrosecond)->UseRealTime();
#endif  // PATCHNET_WITH_CUDA
