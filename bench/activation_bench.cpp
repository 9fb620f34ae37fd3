// Activations, the losses and dropout at the models' shapes: GELU over ConvMixer's
// [128,16,16,256] activations (17 per training step), its tanh form, ReLU over the
// involution network's [256,32,32,32] first conv output, softmax + cross-entropy over a
// [256,10] CIFAR head, dropout over ShiftViT's stage-2 MLP hidden [256,12,12,192] and drop
// path over its stage-1 residual branch [256,12,12,96].
#include "bench_util.hpp"
#include "patchnet/ops/activation.hpp"
#include "patchnet/ops/dropout.hpp"
#include "patchnet/ops/loss.hpp"
#include "patchnet/ops/reduce.hpp"

using namespace patchnet;
using namespace patchnet::bench;

namespace {
const Shape kGelu{ConvMixerShape::N, ConvMixerShape::H, ConvMixerShape::W, ConvMixerShape::C};
const Shape kRelu{InvolutionShape::N, InvolutionShape::H, InvolutionShape::W, 32};
const Shape kDropout{ShiftVitShape::N, ShiftVitShape::H, ShiftVitShape::W, 2 * ShiftVitShape::C};
const Shape kDropPath{ShiftVitShape::N, ShiftVitShape::H, ShiftVitShape::W, ShiftVitShape::C};

// Elementwise op: forward reads x and writes y (2 arrays of n); forward + backward moves
// `arrays` arrays of n (gelu, relu: + x or y, gy, gx = 5; dropout: + gy, gx = 4).
// `flops`: per element, forward (+ backward).
template <class Op>
void elementwise_fwd(benchmark::State& state, const Shape& shape, Op op, double flops) {
  auto x = input(shape, 1);
  NoGrad ng;
  op(x);  // warm the allocator's cache: steady state, not first-touch page faults
  for (auto _ : state) benchmark::DoNotOptimize(op(x).data());
  const double n = static_cast<double>(x.numel());
  report(state, 2 * n * sizeof(float), flops * n);
}

template <class Op>
void elementwise_fwd_bwd(benchmark::State& state, const Shape& shape, Op op, double flops, int arrays = 5) {
  auto x = input(shape, 1, true);
  const auto gy = input(shape, 2);
  op(x).backward(gy);  // warm-up, as above
  x.zero_grad();
  for (auto _ : state) {
    op(x).backward(gy);
    x.zero_grad();
  }
  const double n = static_cast<double>(x.numel());
  report(state, arrays * n * sizeof(float), flops * n);
}
}  // namespace

// FLOPs per element counted as the formula's arithmetic, erf/exp as one each.
static void BM_gelu_fwd(benchmark::State& s) {
  elementwise_fwd(
      s, kGelu, [](const auto& x) { return gelu(x); }, 5);
}
static void BM_gelu_fwd_bwd(benchmark::State& s) {
  elementwise_fwd_bwd(
      s, kGelu, [](const auto& x) { return gelu(x); }, 5 + 12);
}
static void BM_gelu_tanh_fwd(benchmark::State& s) {
  elementwise_fwd(
      s, kGelu, [](const auto& x) { return gelu(x, GeluApprox::Tanh); }, 9);
}
static void BM_gelu_tanh_fwd_bwd(benchmark::State& s) {
  elementwise_fwd_bwd(
      s, kGelu, [](const auto& x) { return gelu(x, GeluApprox::Tanh); }, 9 + 18);
}
static void BM_relu_fwd(benchmark::State& s) {
  elementwise_fwd(
      s, kRelu, [](const auto& x) { return relu(x); }, 1);
}
static void BM_relu_fwd_bwd(benchmark::State& s) {
  elementwise_fwd_bwd(
      s, kRelu, [](const auto& x) { return relu(x); }, 2);
}
BENCHMARK(BM_gelu_fwd)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_gelu_fwd_bwd)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_gelu_tanh_fwd)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_gelu_tanh_fwd_bwd)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_relu_fwd)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_relu_fwd_bwd)->Unit(benchmark::kMillisecond)->UseRealTime();

// The ConvMixer head: softmax probabilities + Keras' loss on them, against the fused
// cross_entropy on the logits (the ShiftViT loss).
static Tensor<int32_t> head_labels() {
  std::vector<int32_t> l(256);
  for (size_t i = 0; i < l.size(); ++i) l[i] = static_cast<int32_t>(i * 7 % 10);
  return Tensor<int32_t>::from_vector(l, {256});
}

static void BM_softmax_cross_entropy_from_probs_fwd_bwd(benchmark::State& state) {
  auto x = input({256, 10}, 1, true);
  const auto labels = head_labels();
  for (auto _ : state) {
    cross_entropy_from_probs(softmax(x), labels).backward();
    x.zero_grad();
  }
  report(state, 4 * 2560.0 * sizeof(float), 2560.0 * 12);
}
BENCHMARK(BM_softmax_cross_entropy_from_probs_fwd_bwd)->Unit(benchmark::kMicrosecond)->UseRealTime();

static void BM_cross_entropy_fwd(benchmark::State& state) {
  auto x = input({256, 10}, 1);
  const auto labels = head_labels();
  NoGrad ng;
  for (auto _ : state) benchmark::DoNotOptimize(cross_entropy(x, labels).data());
  report(state, 2560.0 * sizeof(float), 2560.0 * 4);
}
BENCHMARK(BM_cross_entropy_fwd)->Unit(benchmark::kMicrosecond)->UseRealTime();

static void BM_cross_entropy_fwd_bwd(benchmark::State& state) {
  auto x = input({256, 10}, 1, true);
  const auto labels = head_labels();
  for (auto _ : state) {
    cross_entropy(x, labels).backward();
    x.zero_grad();
  }
  report(state, 3 * 2560.0 * sizeof(float), 2560.0 * 8);
}
BENCHMARK(BM_cross_entropy_fwd_bwd)->Unit(benchmark::kMicrosecond)->UseRealTime();

// Dropout and drop path in training; FLOPs: the multiply (the Philox rounds are integer).
static void BM_dropout_fwd(benchmark::State& state) {
  Generator gen(1);
  elementwise_fwd(
      state, kDropout, [&](const auto& x) { return dropout(x, 0.2, true, gen); }, 1);
}
static void BM_dropout_fwd_bwd(benchmark::State& state) {
  Generator gen(1);
  elementwise_fwd_bwd(
      state, kDropout, [&](const auto& x) { return dropout(x, 0.2, true, gen); }, 2, 4);
}
static void BM_drop_path_fwd(benchmark::State& state) {
  Generator gen(1);
  elementwise_fwd(
      state, kDropPath, [&](const auto& x) { return drop_path(x, 0.1, true, gen); }, 1);
}
static void BM_drop_path_fwd_bwd(benchmark::State& state) {
  Generator gen(1);
  elementwise_fwd_bwd(
      state, kDropPath, [&](const auto& x) { return drop_path(x, 0.1, true, gen); }, 2, 4);
}
BENCHMARK(BM_dropout_fwd)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_dropout_fwd_bwd)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_drop_path_fwd)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_drop_path_fwd_bwd)->Unit(benchmark::kMillisecond)->UseRealTime();
