#include "tu.hpp"
#include "softmax.cu"  // generated: $EMU_BUILD/gen (gen.sh)
#include "loss.cu"     // generated: $EMU_BUILD/gen (gen.sh)
#include "patchnet/cpu/activation.hpp"
#include "patchnet/cpu/loss.hpp"
using namespace patchnet;

template <class T>
void softmax_case(int64_t outer, int64_t D, int64_t I, bool log, double tol) {
  g_case = std::string(sizeof(T) == 4 ? "float" : "double") + (log ? " log_softmax" : " softmax") + " outer " +
           std::to_string(outer) + " dim " + std::to_string(D) + " inner " + std::to_string(I);
  const int64_t n = outer * D * I;
  auto x = rnd<T>(n, -8, 8), g = rnd<T>(n);
  if (ri(0, 3) == 0)
    for (auto& v : x) v = T(std::round(double(v)));  // ties of the max
  const math::SoftmaxParams p{outer, D, I, log};     // one struct for both devices
  auto y1 = poison<T>(n), gx1 = poison<T>(n);
  cpu::softmax_forward(x.data(), y1.data(), p);
  cpu::softmax_backward(y1.data(), g.data(), gx1.data(), p);
  std::vector<T> y[2], gx[2];
  for (int o = 0; o < 2; ++o) {
    emu::g_order = o ? 2 : 0;
    y[o] = poison<T>(n);
    gx[o] = poison<T>(n);
    cuda::softmax_forward(x.data(), y[o].data(), p);
    cuda::softmax_backward(y1.data(), g.data(), gx[o].data(), p);  // from the CPU's y: isolates backward
  }
  emu::g_order = 0;
  cmp(y[0], y1, "softmax fwd", tol);
  cmp(gx[0], gx1, "softmax bwd", tol * (log ? 1 : 1) * (1 + D / 8.0));
  same_bits(y[0], y[1], "softmax fwd");
  same_bits(gx[0], gx[1], "softmax bwd");
}

template <class T>
void loss_case(int64_t N, int64_t K, double tol, int bad_label) {
  g_case =
      std::string(sizeof(T) == 4 ? "float" : "double") + " loss N " + std::to_string(N) + " K " + std::to_string(K);
  auto x = rnd<T>(N * K, -6, 6);
  std::vector<int32_t> lab(N);
  for (auto& l : lab) l = ri(0, int(K) - 1);
  // cross entropy
  std::vector<T> lse1 = poison<T>(N);
  std::vector<double> rows1(N, NAN);
  cpu::cross_entropy_forward(x.data(), lab.data(), N, K, lse1.data(), rows1.data());
  double mean1 = 0;
  for (double r : rows1) mean1 += r;
  mean1 /= double(N);
  const T gout = T(0.75);
  const T scale = static_cast<T>(static_cast<double>(gout) / static_cast<double>(N));
  auto gx1 = poison<T>(N * K);
  cpu::cross_entropy_backward(x.data(), lab.data(), lse1.data(), N, K, scale, gx1.data());
  std::vector<T> lse2[2], gx2[2], out2[2];
  std::vector<double> rows2[2];
  for (int o = 0; o < 2; ++o) {
    emu::g_order = o ? 2 : 0;
    lse2[o] = poison<T>(N);
    rows2[o].assign(N, NAN);
    out2[o] = poison<T>(1);
    gx2[o] = poison<T>(N * K);
    cuda::cross_entropy_forward(x.data(), lab.data(), N, K, lse2[o].data(), rows2[o].data());
    cuda::mean_of_rows(rows2[o].data(), N, out2[o].data());
    cuda::cross_entropy_backward(x.data(), lab.data(), lse2[o].data(), &gout, N, K, gx2[o].data());
  }
  emu::g_order = 0;
  cmp(lse2[0], lse1, "ce lse", tol);
  cmp(rows2[0], rows1, "ce rows", tol * 10);
  cmp(out2[0], std::vector<T>{T(mean1)}, "ce mean", tol * 10);
  cmp(gx2[0], gx1, "ce grad", tol);
  same_bits(lse2[0], lse2[1], "ce lse");
  same_bits(rows2[0], rows2[1], "ce rows");
  same_bits(out2[0], out2[1], "ce mean");
  same_bits(gx2[0], gx2[1], "ce grad");
  // from probs
  auto p = rnd<T>(N * K, 0.0, 1.0);
  for (int64_t r = 0; r < N; ++r)
    if (ri(0, 4) == 0) p[r * K + lab[r]] = T(ri(0, 1) ? 1e-9 : 50.0);  // clipped rows
  const T eps = T(ri(0, 1) ? 1e-7 : 0.02);
  std::vector<double> prow1(N, NAN);
  cpu::cross_entropy_probs_forward(p.data(), lab.data(), N, K, eps, prow1.data());
  double pmean1 = 0;
  for (double r : prow1) pmean1 += r;
  pmean1 /= double(N);
  auto pg1 = poison<T>(N * K);
  cpu::cross_entropy_probs_backward(p.data(), lab.data(), N, K, eps, scale, pg1.data());
  std::vector<double> prow2[2];
  std::vector<T> pout2[2], pg2[2];
  for (int o = 0; o < 2; ++o) {
    emu::g_order = o ? 2 : 0;
    prow2[o].assign(N, NAN);
    pout2[o] = poison<T>(1);
    pg2[o] = poison<T>(N * K);
    cuda::cross_entropy_probs_forward(p.data(), lab.data(), N, K, eps, prow2[o].data());
    cuda::mean_of_rows(prow2[o].data(), N, pout2[o].data());
    cuda::cross_entropy_probs_backward(p.data(), lab.data(), &gout, N, K, eps, pg2[o].data());
  }
  emu::g_order = 0;
  cmp(prow2[0], prow1, "ce_probs rows", tol * 10);
  cmp(pout2[0], std::vector<T>{T(pmean1)}, "ce_probs mean", tol * 10);
  cmp(pg2[0], pg1, "ce_probs grad", tol * 10);
  same_bits(prow2[0], prow2[1], "ce_probs rows");
  same_bits(pg2[0], pg2[1], "ce_probs grad");
  // top-k with ties (integer scores), NaN / inf label scores
  auto s = rnd<T>(N * K, -3, 3);
  for (auto& v : s) v = T(std::round(double(v)));
  for (int64_t r = 0; r < N; ++r) {
    const int k = ri(0, 15);
    if (k == 0) s[r * K + lab[r]] = NAN;
    if (k == 1) s[r * K + lab[r]] = INFINITY;
    if (k == 2) s[r * K + ri(0, int(K) - 1)] = NAN;  // NaN elsewhere in the row
  }
  for (int64_t k : {int64_t(1), int64_t(2), int64_t(5), K}) {
    const int64_t c1 = cpu::topk_correct(s.data(), lab.data(), N, K, k);
    unsigned long long c2 = 12345;
    cuda::topk_correct(s.data(), lab.data(), N, K, k, &c2);
    ++checks;
    if (int64_t(c2) != c1) {
      ++fails;
      std::printf("FAIL topk k=%ld: gpu %llu cpu %ld [%s]\n", k, c2, c1, g_case.c_str());
    }
  }
  // labels outside [0, K): GPU rows / grads NaN (CPU rejects them before the kernel)
  if (bad_label) {
    std::vector<int32_t> bl = lab;
    const int64_t r = ri(0, int(N) - 1);
    bl[r] = ri(0, 1) ? -1 : int32_t(K);
    std::vector<double> rw(N, 0);
    std::vector<T> ls(N), gg(N * K), pr(N * K);
    cuda::cross_entropy_forward(x.data(), bl.data(), N, K, ls.data(), rw.data());
    cuda::cross_entropy_backward(x.data(), bl.data(), ls.data(), &gout, N, K, gg.data());
    ++checks;
    bool ok = std::isnan(rw[r]);
    for (int64_t j = 0; j < K; ++j) ok &= std::isnan(double(gg[r * K + j]));
    for (int64_t q = 0; q < N; ++q)
      if (q != r) ok &= !std::isnan(rw[q]);
    cuda::cross_entropy_probs_forward(p.data(), bl.data(), N, K, eps, rw.data());
    cuda::cross_entropy_probs_backward(p.data(), bl.data(), &gout, N, K, eps, pr.data());
    ok &= std::isnan(rw[r]);
    for (int64_t j = 0; j < K; ++j) ok &= std::isnan(double(pr[r * K + j]));
    unsigned long long c = 0;
    cuda::topk_correct(s.data(), bl.data(), N, K, 1, &c);
    if (!ok) {
      ++fails;
      std::printf("FAIL bad label row %ld [%s]\n", r, g_case.c_str());
    }
  }
}

int main(int argc, char** argv) {
  const int iters = argc > 1 ? std::atoi(argv[1]) : 100;
  for (int it = 0; it < iters; ++it) {
    const int64_t outer = ri(0, 4) == 0 ? ri(57, 130) : ri(1, 20);
    const int k = ri(0, 4);
    const int64_t D = k == 0 ? 1 : k == 1 ? ri(2, 31) : k == 2 ? 32 * ri(1, 3) : ri(33, 300);
    const int64_t I = ri(0, 1) ? 1 : ri(2, 9) * (ri(0, 3) == 0 ? 30 : 1);
    const bool log = ri(0, 1);
    if (it % 2) softmax_case<double>(outer, D, I, log, 1e-13);
    else softmax_case<float>(outer, D, I, log, 3e-6);
    const int64_t N = ri(0, 3) == 0 ? ri(57, 150) : ri(1, 20);
    const int64_t K = k == 0 ? ri(1, 3) : k == 1 ? ri(4, 31) : k == 2 ? 32 * ri(1, 3) : ri(33, 300);
    if (it % 2) loss_case<double>(N, K, 1e-13, ri(0, 3) == 0);
    else loss_case<float>(N, K, 3e-6, ri(0, 3) == 0);
  }
  for (int64_t N : {int64_t(1), int64_t(257), int64_t(1000)}) loss_case<double>(N, 10, 1e-13, 0);  // mean tree: N > 256
  softmax_case<float>(0, 5, 1, false, 1e-6);
  return finish("softmax+loss");
}
