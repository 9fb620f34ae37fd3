#include "tu.hpp"
#include "pool.cu"     // generated: $EMU_BUILD/gen (gen.sh)
#include "dropout.cu"  // generated: $EMU_BUILD/gen (gen.sh)
#include "optim.cu"    // generated: $EMU_BUILD/gen (gen.sh)
#include "patchnet/cpu/pool.hpp"
#include "patchnet/cpu/dropout.hpp"
#include "patchnet/cpu/optim.hpp"
#include "patchnet/ops/geometry.hpp"
using namespace patchnet;

template <class T>
void pool_case(const Window2d& g, double tol) {
  char buf[200];
  std::snprintf(buf, sizeof buf, "%s N%ld H%ld W%ld C%ld K%ldx%ld S%ldx%ld pad t%ld l%ld O%ldx%ld",
                sizeof(T) == 4 ? "float" : "double", g.N, g.H, g.W, g.C, g.kernel.h, g.kernel.w, g.stride.h, g.stride.w,
                g.pad.top, g.pad.left, g.OH, g.OW);
  g_case = buf;
  const int64_t xn = g.N * g.H * g.W * g.C, yn = g.N * g.OH * g.OW * g.C;
  auto x = rnd<T>(xn, -4, 4), gy = rnd<T>(yn);
  const int mode = ri(0, 3);
  if (mode == 0)
    for (auto& v : x) v = T(std::round(double(v)));  // many ties
  if (mode == 1)
    for (auto& v : x)
      if (ri(0, 20) == 0) v = NAN;
  if (mode == 2)
    for (auto& v : x) v = T(0);  // all taps tie
  auto y1 = poison<T>(yn), dx1 = poison<T>(xn), a1 = poison<T>(yn), adx1 = poison<T>(xn);
  cpu::max_pool2d_forward(x.data(), g, y1.data());
  cpu::max_pool2d_backward(x.data(), y1.data(), gy.data(), g, dx1.data());
  cpu::avg_pool2d_forward(x.data(), g, a1.data());
  cpu::avg_pool2d_backward(gy.data(), g, adx1.data());
  std::vector<T> y2[2], dx2[2], a2[2], adx2[2];
  for (int o = 0; o < 2; ++o) {
    emu::g_order = o ? 2 : 0;
    y2[o] = poison<T>(yn);
    dx2[o] = poison<T>(xn);
    a2[o] = poison<T>(yn);
    adx2[o] = poison<T>(xn);
    std::vector<int32_t> argmax(yn, 0x7eadbeef);
    cuda::max_pool2d_forward(x.data(), y2[o].data(), g);
    cuda::max_pool2d_backward(x.data(), y1.data(), gy.data(), argmax.data(), dx2[o].data(), g);
    cuda::avg_pool2d_forward(x.data(), a2[o].data(), g);
    cuda::avg_pool2d_backward(gy.data(), adx2[o].data(), g);
  }
  emu::g_order = 0;
  cmp(y2[0], y1, "max fwd", 0);  // exact: same comparisons in the same order
  cmp(dx2[0], dx1, "max bwd", tol);
  cmp(a2[0], a1, "avg fwd", tol);
  cmp(adx2[0], adx1, "avg bwd", tol);
  for (auto* v : {&y2, &dx2, &a2, &adx2}) same_bits((*v)[0], (*v)[1], "pool");
  // global average pool over [N, H*W, C]
  const int64_t HW = g.H * g.W;
  auto gy2 = rnd<T>(g.N * g.C);
  auto gp1 = poison<T>(g.N * g.C), gb1 = poison<T>(xn);
  cpu::global_avg_pool_forward(x.data(), g.N, HW, g.C, gp1.data());
  cpu::global_avg_pool_backward(gy2.data(), g.N, HW, g.C, gb1.data());
  std::vector<T> gp2[2], gb2[2];
  for (int o = 0; o < 2; ++o) {
    emu::g_order = o ? 2 : 0;
    gp2[o] = poison<T>(g.N * g.C);
    gb2[o] = poison<T>(xn);
    cuda::global_avg_pool_forward(x.data(), gp2[o].data(), g.N, HW, g.C);
    cuda::global_avg_pool_backward(gy2.data(), gb2[o].data(), g.N, HW, g.C);
  }
  emu::g_order = 0;
  cmp(gp2[0], gp1, "gap fwd", sizeof(T) == 4 ? 1e-7 : 1e-15);
  cmp(gb2[0], gb1, "gap bwd", 0);
  same_bits(gp2[0], gp2[1], "gap fwd");
}

template <class T>
void dropout_case(int64_t n, uint64_t seed, uint64_t base, uint32_t thr, double scale, int xoff) {
  g_case = std::string(sizeof(T) == 4 ? "float" : "double") + " dropout n " + std::to_string(n) + " seed " +
           std::to_string(seed) + " base " + std::to_string(base) + " thr " + std::to_string(thr) + " off " +
           std::to_string(xoff);
  std::vector<T> xs = rnd<T>(n + 8);
  for (auto& v : xs)
    if (v == T(0)) v = T(0.5);
  if (n > 3) xs[xoff + 3] = NAN;
  const T* x = xs.data() + xoff;
  std::vector<T> ys1(n + 8, T(-7)), ys2(n + 8, T(-7));
  T* y1 = ys1.data() + xoff;
  T* y2 = ys2.data() + xoff;
  cpu::dropout_apply(x, y1, n, math::DropoutParams{seed, base, thr, scale});
  cuda::dropout_apply(x, y2, n, math::DropoutParams{seed, base, thr, scale});
  ++checks;
  if (std::memcmp(ys1.data(), ys2.data(), ys1.size() * sizeof(T)) != 0) {
    ++fails;
    for (int64_t i = 0; i < n + 8 - xoff; ++i)
      if (std::memcmp(&y1[i], &y2[i], sizeof(T))) {
        std::printf("FAIL dropout at %ld: gpu %g cpu %g [%s]\n", i, double(y2[i]), double(y1[i]), g_case.c_str());
        break;
      }
  }
  // drop path: factors (ops computes the CPU ones with math::dropout_factor) and scale_rows
  const int64_t N = 1 + n % 37, row = 1 + n % 11;
  std::vector<T> f1(N), f2(N, NAN);
  for (int64_t i = 0; i < N; ++i) f1[i] = math::dropout_factor(seed, base, uint64_t(i), thr, T(scale));
  cuda::drop_path_factors(f2.data(), N, seed, base, thr, T(scale));
  cmp(f2, f1, "drop_path factors", 0);
  auto xr = rnd<T>(N * row), r1 = poison<T>(N * row), r2 = poison<T>(N * row);
  cpu::scale_rows(xr.data(), f1.data(), r1.data(), N, row);
  cuda::scale_rows(xr.data(), f1.data(), r2.data(), N, row);
  cmp(r2, r1, "scale_rows", 0);
}

template <class T>
void optim_case(int64_t n) {
  g_case = std::string(sizeof(T) == 4 ? "float" : "double") + " optim n " + std::to_string(n);
  auto p = rnd<T>(n), m = rnd<T>(n), v = rnd<T>(n, 0, 1), g = rnd<T>(n);
  math::AdamCoeffs<T> c{T(0.9), T(0.999), T(0.1), T(0.001), T(ri(0, 1) ? 1e-4 : 0), T(1e-3), T(1.3), T(1e-8)};
  auto p1 = p, m1 = m, v1 = v, p2 = p, m2 = m, v2 = v;
  cpu::adam_update(p1.data(), m1.data(), v1.data(), g.data(), n, c);
  cuda::adam_update(p2.data(), m2.data(), v2.data(), g.data(), n, c);
  const double tol = sizeof(T) == 4 ? 1e-6 : 1e-15;
  cmp(p2, p1, "adam p", tol);
  cmp(m2, m1, "adam m", tol);
  cmp(v2, v1, "adam v", tol);
  math::SgdCoeffs<T> s{T(0.1), T(ri(0, 1) ? 1e-4 : 0), T(0.9)};
  for (int mode = 0; mode < 3; ++mode) {
    auto q1 = p, q2 = p, b1 = m, b2 = m;
    cpu::sgd_update(q1.data(), mode ? b1.data() : nullptr, g.data(), n, s, mode == 2);
    cuda::sgd_update(q2.data(), mode ? b2.data() : nullptr, g.data(), n, s, mode == 2);
    cmp(q2, q1, "sgd p mode " + std::to_string(mode), tol);
    cmp(b2, b1, "sgd buf mode " + std::to_string(mode), tol);
  }
}

int main(int argc, char** argv) {
  const int iters = argc > 1 ? std::atoi(argv[1]) : 100;
  int pools = 0;
  for (int it = 0; it < iters; ++it) {
    const int64_t N = ri(1, 3), H = ri(1, 12), W = ri(1, 12), C = ri(1, 0 == ri(0, 3) ? 70 : 9);
    const Hw k(ri(1, 4), ri(1, 4));
    const Hw s = ri(0, 1) ? Hw(ri(1, 3), ri(1, 3)) : k;
    try {
      const Window2d g = window2d("t", Shape{N, H, W, C}, k, s, ri(0, 1) ? Padding::Same : Padding::Valid);
      ++pools;
      if (it % 2) pool_case<double>(g, 1e-13);
      else pool_case<float>(g, 2e-6);
    } catch (const Error&) {}
    const int64_t n = ri(0, 2) ? ri(0, 70) : ri(64, 5000);
    const uint64_t seed = (uint64_t(rng()) << 32) | rng();
    const uint64_t base =
        ri(0, 2) == 0 ? 0xFFFFFFFFull - ri(0, 40) : (ri(0, 1) ? ri(0, 1000) : (uint64_t(rng()) << 32) | rng());
    const uint32_t thr = ri(0, 5) == 0 ? (ri(0, 1) ? 0xFFFFFFFFu : 0u) : math::keep_threshold(ri(1, 99) / 100.0);
    const double scale = 1.0 / (ri(1, 99) / 100.0);
    if (it % 2) dropout_case<double>(n, seed, base, thr, scale, ri(0, 1));
    else dropout_case<float>(n, seed, base, thr, scale, ri(0, 3));
    const int64_t on = ri(0, 1) ? ri(1, 300) : ri(1793, 4000);  // > 7 blocks * 256: grid-stride wraps
    if (it % 2) optim_case<double>(on);
    else optim_case<float>(on);
  }
  // global average pool with N > the emulated grid.y cap (3) and HW tails
  for (int64_t N : {1, 4, 7}) {
    const Window2d g = window2d("t", Shape{N, 5, 7, 45}, Hw(2, 2), Hw(2, 2), Padding::Same);
    pool_case<double>(g, 1e-13);
    pool_case<float>(g, 2e-6);
  }
  std::printf("pool cases %d\n", pools);
  return finish("pool+dropout+optim");
}
