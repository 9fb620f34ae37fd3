// Shapes of the three models and the counters every benchmark reports.
//
// Each op family has a forward benchmark ("fwd", under NoGrad) and a forward+backward
// one ("fwd_bwd": the forward recording the graph, then backward with a ones gradient).
// Counters: bytes_per_second (SetBytesProcessed: the bytes an ideal kernel must move,
// inputs read plus outputs written) and FLOP/s (useful arithmetic, multiply-add = 2).
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>

#include "patchnet/autograd/grad_mode.hpp"
#include "patchnet/core/random.hpp"
#include "patchnet/core/tensor.hpp"

namespace patchnet::bench {

// ConvMixer-256/8 on CIFAR-10: batch 128, patch 2 -> 16x16 tokens, 256 channels, kernel 5.
struct ConvMixerShape {
  static constexpr int64_t N = 128, H = 16, W = 16, C = 256, K = 5, P = 2;
};
// ShiftViT on CIFAR-10: batch 256, 48x48 crops, patch 4 -> 12x12x96, then 6x6x192,
// 3x3x384, 2x2x768.
struct ShiftVitShape {
  static constexpr int64_t N = 256, H = 12, W = 12, C = 96, P = 4, Image = 48;
};
// Involution network: batch 256, 32x32x3 input, kernel 3, 1 group, reduction 2; the conv
// baseline's first 3x3 layer is 3 -> 32 channels.
struct InvolutionShape {
  static constexpr int64_t N = 256, H = 32, W = 32, C = 3, K = 3;
};

template <class T = float>
Tensor<T> input(const Shape& shape, uint64_t seed = 1, bool requires_grad = false) {
  Generator g(seed);
  Tensor<T> t = rand<T>(shape, g, -1.0, 1.0);
  if (requires_grad) t.set_requires_grad();
  return t;
}

// Sets bytes/s and FLOP/s from per-iteration amounts.
inline void report(benchmark::State& state, double bytes_per_iter, double flops_per_iter) {
  state.SetBytesProcessed(static_cast<int64_t>(bytes_per_iter * static_cast<double>(state.iterations())));
  state.counters["FLOP/s"] =
      benchmark::Counter(flops_per_iter * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

}  // namespace patchnet::bench
