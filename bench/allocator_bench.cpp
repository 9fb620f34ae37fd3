// The host caching allocator: allocating and first-writing a ConvMixer activation
// ([128,16,16,256] float, 32 MiB) with the cache (a warm block reused) and without it
// (the cache emptied each iteration, so the pages are fresh).
#include "bench_util.hpp"
#include <algorithm>
#include <memory>

#include "patchnet/core/allocator.hpp"

using namespace patchnet;
using namespace patchnet::bench;
using S = ConvMixerShape;

static void BM_alloc_fill_cached(benchmark::State& state) {
  const Shape shape{S::N, S::H, S::W, S::C};
  for (auto _ : state) {
    auto t = Tensor<float>::empty(shape);
    t.fill_(1.0f);
    benchmark::DoNotOptimize(t.data());
  }
  report(state, static_cast<double>(shape.numel()) * sizeof(float), 0);
}
BENCHMARK(BM_alloc_fill_cached)->Unit(benchmark::kMillisecond)->UseRealTime();

static void BM_alloc_fill_fresh_pages(benchmark::State& state) {
  const Shape shape{S::N, S::H, S::W, S::C};
  for (auto _ : state) {
    empty_host_cache();
    auto t = Tensor<float>::empty(shape);
    t.fill_(1.0f);
    benchmark::DoNotOptimize(t.data());
  }
  report(state, static_cast<double>(shape.numel()) * sizeof(float), 0);
}
BENCHMARK(BM_alloc_fill_fresh_pages)->Unit(benchmark::kMillisecond)->UseRealTime();

// For comparison: the plain C++ heap (glibc mmaps a block this large and unmaps it on
// free, so every iteration faults in fresh 4 KiB pages).
static void BM_alloc_fill_plain_heap(benchmark::State& state) {
  const int64_t n = S::N * S::H * S::W * S::C;
  for (auto _ : state) {
    std::unique_ptr<float[]> p(new float[static_cast<size_t>(n)]);
    std::fill(p.get(), p.get() + n, 1.0f);
    benchmark::DoNotOptimize(p.get());
  }
  report(state, static_cast<double>(n) * sizeof(float), 0);
}
BENCHMARK(BM_alloc_fill_plain_heap)->Unit(benchmark::kMillisecond)->UseRealTime();
