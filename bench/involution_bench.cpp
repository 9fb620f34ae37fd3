// involution at the seed's first layer ([256, 32, 32, 3], K = 3, G = 1) and at the
// paper's RedNet setting ([128, 16, 16, 256], K = 7, G = 16); the whole seed layer
// (kernel generation + multiply-reduce, training mode) at [256, 32, 32, 3], r = 2.
// FLOPs: the multiply-reduce is 2 * N*OH*OW*C*K*K; backward does it twice (dx, dkernel).
// fwd_bwd starts backward from a ones gradient made once, outside the timed loop.
#include "bench_util.hpp"
#include "involution_cases.hpp"
#include "patchnet/ops/involution.hpp"

using namespace patchnet;
using namespace patchnet::bench;

using S = InvolutionShape;
using Case = InvolutionCase;

// state.range(0): index into kCases.
static void BM_involution_fwd(benchmark::State& state) {
  const Case c = kCases[state.range(0)];
  auto x = input({c.N, c.H, c.W, c.C}, 1), k = input({c.N, c.H, c.W, c.K * c.K * c.G}, 2);
  NoGrad ng;
  benchmark::DoNotOptimize(involution(x, k, c.K, 1, c.G).data());  // first touch of the output buffer
  for (auto _ : state) benchmark::DoNotOptimize(involution(x, k, c.K, 1, c.G).data());
  report(state, fwd_bytes(c), fwd_flops(c));
}
BENCHMARK(BM_involution_fwd)->ArgName("case")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

static void BM_involution_fwd_bwd(benchmark::State& state) {
  const Case c = kCases[state.range(0)];
  auto x = input({c.N, c.H, c.W, c.C}, 1, true), k = input({c.N, c.H, c.W, c.K * c.K * c.G}, 2, true);
  const auto dy = Tensor<float>::ones(x.shape());
  auto step = [&] {
    involution(x, k, c.K, 1, c.G).backward(dy);
    x.zero_grad();
    k.zero_grad();
  };
  step();  // first touch of the buffers the allocator then recycles
  for (auto _ : state) step();
  // forward; dx reads kernel + dy, writes dx; dkernel reads x + dy, writes dkernel
  report(state, 3 * fwd_bytes(c), 3 * fwd_flops(c));
}
BENCHMARK(BM_involution_fwd_bwd)->ArgName("case")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

// The seed's layer: channel 3, group 1, kernel 3, stride 1, reduction 2 (C/r = 1), training.
static void BM_involution_layer_fwd_bwd(benchmark::State& state) {
  const int64_t C = S::C, Cr = S::C / 2, KK = S::K * S::K;
  auto x = input({S::N, S::H, S::W, C}, 1, true);
  InvolutionParams<float> p{input({C, Cr}, 2, true),  input({Cr}, 3, true),       input({Cr}, 4, true),
                            input({Cr}, 5, true),     Tensor<float>::zeros({Cr}), Tensor<float>::ones({Cr}),
                            input({Cr, KK}, 6, true), input({KK}, 7, true)};
  const InvolutionOptions opt{.kernel_size = S::K, .stride = 1, .groups = 1};
  const auto dy = Tensor<float>::ones(x.shape());
  auto step = [&] {
    involution_layer(x, p, opt, true).output.backward(dy);
    x.zero_grad();
    for (Tensor<float>* t : {&p.reduce_weight, &p.reduce_bias, &p.bn_gamma, &p.bn_beta, &p.span_weight, &p.span_bias})
      t->zero_grad();
  };
  step();
  for (auto _ : state) step();
  // the multiply-reduce as above, plus the two 1x1 convolutions (C -> C/r -> K*K) x 3
  const Case c = kCases[0];
  report(state, 3 * fwd_bytes(c), 3 * fwd_flops(c) + 6.0 * static_cast<double>(S::N * S::H * S::W * Cr * (C + KK)));
}
BENCHMARK(BM_involution_layer_fwd_bwd)->Unit(benchmark::kMillisecond)->UseRealTime();
