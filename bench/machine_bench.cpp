// The machine's ceilings, against which bench/steps.py reports each model's step: the FMA
// peak of one and of all threads in float32 (AVX-512 vfmadd) and in bf16 (vdpbf16ps: pairs
// of bf16 products summed into float32; AMX tiles where there are), the GEMM patchnet uses (cpu::gemm) at the models'
// shapes, and the memory bandwidth (a STREAM-like triad). The peak loops keep 12
// independent accumulators, more than the FMA latency times the ports, so they measure
// throughput; a CPU without the instruction reports an error row instead.
#include <immintrin.h>

#include <cstdint>
#include <vector>

#include "bench_util.hpp"
#include "patchnet/cpu/gemm.hpp"
#include "patchnet/cpu/parallel.hpp"

namespace {

using namespace patchnet;

constexpr int64_t kInner = 1 << 16;  // loop trips per timed call

// The sum of the accumulators, so the loop is not optimised away.
__attribute__((target("avx512f"))) float lane_sum(const __m512* acc) {
  __m512 s = acc[0];
  for (int i = 1; i < 12; ++i) s = _mm512_add_ps(s, acc[i]);
  alignas(64) float v[16];
  _mm512_store_ps(v, s);
  float t = 0;
  for (float x : v) t += x;
  return t;
}

// x and y come from outside (volatile), so the compiler cannot fold the loop away.
__attribute__((target("avx512f"))) float fma_f32_loop(int64_t trips, float x, float y) {
  __m512 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i));
  const __m512 a = _mm512_set1_ps(x), b = _mm512_set1_ps(y);
  for (int64_t t = 0; t < trips; ++t)
    for (int i = 0; i < 12; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  return lane_sum(acc);
}

__attribute__((target("avx512f,avx512bf16"))) float dp_bf16_loop(int64_t trips, float x, float y) {
  __m512 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i));
  const __m512bh a = _mm512_cvtne2ps_pbh(_mm512_set1_ps(x), _mm512_set1_ps(y));
  const __m512bh b = _mm512_cvtne2ps_pbh(_mm512_set1_ps(y), _mm512_set1_ps(x));
  for (int64_t t = 0; t < trips; ++t)
    for (int i = 0; i < 12; ++i) acc[i] = _mm512_dpbf16_ps(acc[i], a, b);
  return lane_sum(acc);
}

// FLOP per loop trip: 12 instructions of 16 lanes; an FMA is 2 FLOP a lane, a vdpbf16ps 4
// (two products and two adds into each float32 lane).
void peak(benchmark::State& state, bool bf16) {
  const bool ok = bf16 ? __builtin_cpu_supports("avx512bf16") : __builtin_cpu_supports("avx512f");
  if (!ok) {
    state.SkipWithError(bf16 ? "no AVX512-BF16 on this CPU" : "no AVX-512 on this CPU");
    return;
  }
  volatile float x = 0.999f, y = 1e-3f;
  volatile int64_t trips = kInner;
  float sink = 0;
  for (auto _ : state) {
    sink += bf16 ? dp_bf16_loop(trips, x, y) : fma_f32_loop(trips, x, y);
    benchmark::DoNotOptimize(sink);
  }
  const double flops = 12.0 * 16.0 * (bf16 ? 4.0 : 2.0) * static_cast<double>(kInner);
  state.counters["FLOP/s"] =
      benchmark::Counter(flops * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

// C[M, N] = op(A) op(B) with all threads, as the layers call it: range(3) is 0 for A B (a
// forward), 1 for A^T B (a weight gradient: A is stored [K, M]), 2 for A B^T (an input
// gradient: B is stored [N, K]). gemm is cpu::gemm (patchnet's packed kernel for float),
// gemm_eigen the Eigen product it replaced, gemm_bf16 the bf16 policy's, timed in the same run.
enum class Gemm { Packed, Eigen, Bf16 };
template <Gemm kind_of_gemm>
void gemm_case(benchmark::State& state) {
  constexpr bool kEigen = kind_of_gemm == Gemm::Eigen;
  const MatmulPrecisionScope scope(kind_of_gemm == Gemm::Bf16 ? MatmulPrecision::BF16 : MatmulPrecision::FP32);
  const int64_t M = state.range(0), N = state.range(1), K = state.range(2), kind = state.range(3);
  const bool ta = kind == 1, tb = kind == 2;
  const Tensor<float> a = ta ? bench::input({K, M}, 1) : bench::input({M, K}, 1);
  const Tensor<float> b = tb ? bench::input({N, K}, 2) : bench::input({K, N}, 2);
  Tensor<float> c = Tensor<float>::zeros({M, N});
  const int64_t lda = ta ? M : K, ldb = tb ? K : N;
  for (auto _ : state) {
    if (kEigen) cpu::gemm_eigen<float>(ta, tb, M, N, K, 1.0f, a.data(), lda, b.data(), ldb, 0.0f, c.data(), N);
    else cpu::gemm<float>(ta, tb, M, N, K, 1.0f, a.data(), lda, b.data(), ldb, 0.0f, c.data(), N);
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["FLOP/s"] = benchmark::Counter(
      2.0 * static_cast<double>(M * N * K) * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
void gemm(benchmark::State& state) { gemm_case<Gemm::Packed>(state); }
void gemm_eigen(benchmark::State& state) { gemm_case<Gemm::Eigen>(state); }
// cpu::gemm under the bf16 policy: AMX where the CPU and kernel allow, else AVX512-BF16.
void gemm_bf16(benchmark::State& state) { gemm_case<Gemm::Bf16>(state); }

// a = b + s c over 3 arrays of 64 MiB each (well past the caches), all threads: bytes/s
// counts 2 reads and 1 write.
void triad(benchmark::State& state) {
  const int64_t n = int64_t(16) << 20;
  std::vector<float> a(static_cast<size_t>(n)), b(static_cast<size_t>(n), 1.0f), c(static_cast<size_t>(n), 2.0f);
  for (auto _ : state) {
    float* pa = a.data();
    const float *pb = b.data(), *pc = c.data();
    cpu::parallel_for(0, n, 1 << 16, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) pa[i] = pb[i] + 0.5f * pc[i];
    });
    benchmark::DoNotOptimize(pa);
  }
  state.SetBytesProcessed(static_cast<int64_t>(3 * n * static_cast<int64_t>(sizeof(float))) * state.iterations());
}

// AMX (TDPBF16PS: a 16 x 16 float tile += a 16 x 32 by 32 x 16 bf16 product, 16 384 FLOP)
// on four independent accumulator tiles; built where the compiler targets AMX, run where
// the kernel grants it (cpu::bf16_amx_available, the bf16 GEMM's own check).
void peak_amx(benchmark::State& state) {
#ifdef PATCHNET_HAVE_AMX_GEMM
  if (!cpu::bf16_amx_available()) {
    state.SkipWithError("AMX not permitted here (or PATCHNET_NO_AMX)");
    return;
  }
  cpu::gemm_packed_detail::amx_configure_thread();
  alignas(64) uint16_t a[16 * 32], b[16 * 32];
  for (int i = 0; i < 16 * 32; ++i) a[i] = b[i] = 0x3C00;  // 2^-7
  _tile_loadd(0, a, 64);
  _tile_loadd(1, b, 64);
  _tile_zero(4);  // tile numbers are immediates
  _tile_zero(5);
  _tile_zero(6);
  _tile_zero(7);
  for (auto _ : state)
    for (int64_t t = 0; t < kInner / 16; ++t) {
      _tile_dpbf16ps(4, 0, 1);
      _tile_dpbf16ps(5, 0, 1);
      _tile_dpbf16ps(6, 0, 1);
      _tile_dpbf16ps(7, 0, 1);
    }
  alignas(64) float c[16 * 16];
  _tile_stored(4, c, 64);
  benchmark::DoNotOptimize(c[0]);
  state.counters["FLOP/s"] = benchmark::Counter(
      4.0 * 16 * 16 * 32 * 2 * static_cast<double>(kInner / 16) * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate);
#else
  state.SkipWithError("not built for AMX (needs -march=native on a CPU with AMX-BF16)");
#endif
}

}  // namespace

BENCHMARK(peak_amx)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK_CAPTURE(peak, fma_f32, false)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK_CAPTURE(peak, dpbf16, true)->Threads(1)->Threads(2)->UseRealTime();
// ConvMixer's pointwise [128*16*16, 256] x [256, 256] and its two gradients; ShiftViT's
// first MLP layer [256*12*12, 96] x [96, 192]; the conv baseline's 3x3 convolutions as
// im2col + GEMM, one 4 MiB chunk of images each (cpu/conv2d.hpp): the first [37 * 32*32, 27]
// x [27, 32], the second [14 * 16*16, 288] x [288, 64] and its weight gradient.
void gemm_shapes(benchmark::internal::Benchmark* b) {
  for (const auto& s : std::vector<std::vector<int64_t>>{{32768, 256, 256, 0},
                                                         {256, 256, 32768, 1},
                                                         {32768, 256, 256, 2},
                                                         {36864, 192, 96, 0},
                                                         {37888, 32, 27, 0},
                                                         {3584, 64, 288, 0},
                                                         {288, 64, 3584, 1}})
    b->Args(s);
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}
BENCHMARK(gemm)->Apply(gemm_shapes);
BENCHMARK(gemm_eigen)->Apply(gemm_shapes);
BENCHMARK(gemm_bf16)->Apply(gemm_shapes);
BENCHMARK(triad)->Unit(benchmark::kMillisecond)->UseRealTime();
