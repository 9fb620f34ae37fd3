#include "tu.hpp"
#include "batch_norm.cu"  // generated: $EMU_BUILD/gen (gen.sh)
#include "layer_norm.cu"  // generated: $EMU_BUILD/gen (gen.sh)
#include "group_norm.cu"  // generated: $EMU_BUILD/gen (gen.sh)
#include "patchnet/cpu/batch_norm.hpp"
#include "patchnet/cpu/group_norm.hpp"
#include "patchnet/cpu/layer_norm.hpp"
#include "patchnet/math/norm.hpp"
using namespace patchnet;

// Buffers with an element offset (off > 0 breaks 16-byte alignment: the scalar path).
template <class T>
struct Buf {
  std::vector<T> v;
  int off;
  Buf(std::vector<T> x, int o) : off(o) {
    v.assign(o, T(-9));
    v.insert(v.end(), x.begin(), x.end());
  }
  T* p() { return v.data() + off; }
  std::vector<T> get() const { return std::vector<T>(v.begin() + off, v.end()); }
};

template <class T>
void bn_case(int64_t rows, int64_t C, bool training, bool has_gamma, bool has_beta, bool track_in, int stride, int off,
             double tol) {
  const bool track = track_in || !training;  // eval needs the running buffers (ops/batch_norm.hpp checks)
  char b[200];
  std::snprintf(b, sizeof b, "%s bn rows %ld C %ld train %d gamma %d beta %d track %d stride %d off %d",
                sizeof(T) == 4 ? "float" : "double", rows, C, training, has_gamma, has_beta, track, stride, off);
  g_case = b;
  const double eps = 1e-3, mom = 0.9;
  const bool unb = ri(0, 1);
  auto x = rnd<T>(rows * C, -2, 2);
  for (int64_t c = 0; c < C; ++c)
    if (c % 3 == 0)
      for (int64_t r = 0; r < rows; ++r) x[r * C + c] += T(50);  // |mean| >> std
  auto gam = rnd<T>(C, 0.5, 1.5), bet = rnd<T>(C), g = rnd<T>(rows * C);
  std::vector<T> rm0 = rnd<T>(C * stride), rv0 = rnd<T>(C * stride, 0.5, 2);
  // ---- CPU reference: ops/batch_norm.hpp's CPU path
  const cpu::ChannelRows s{rows, C};
  std::vector<double> mean(C), var(C);
  std::vector<T> rm1 = rm0, rv1 = rv0;
  if (training) {
    cpu::batch_norm_stats(x.data(), s, mean.data(), var.data());
    if (track) {
      const double unbias = unb ? double(rows) / double(rows - 1) : 1.0;
      for (int64_t c = 0; c < C; ++c) {
        rm1[c * stride] = T(math::running_blend(mom, double(rm1[c * stride]), mean[c], 1.0));
        rv1[c * stride] = T(math::running_blend(mom, double(rv1[c * stride]), var[c], unbias));
      }
    }
  } else {
    for (int64_t c = 0; c < C; ++c) {
      mean[c] = double(rm0[c * stride]);
      var[c] = double(rv0[c * stride]);
    }
  }
  std::vector<T> mean_t(C), inv_t(C), scale(C), shift(C);
  for (int64_t c = 0; c < C; ++c) {
    const double is = math::norm_inv_std(var[c], eps);
    mean_t[c] = T(mean[c]);
    inv_t[c] = T(is);
    scale[c] = T(is * (has_gamma ? double(gam[c]) : 1.0));
    shift[c] = T(has_beta ? double(bet[c]) : 0.0);
  }
  auto y1 = poison<T>(rows * C);
  cpu::channel_affine<T>(x.data(), s, {mean_t.data(), scale.data(), shift.data()}, y1.data());
  std::vector<double> sg(C), sgx(C);
  cpu::batch_norm_backward_sums(g.data(), x.data(), s, mean_t.data(), sg.data(), sgx.data());
  auto dx1 = poison<T>(rows * C);
  if (training) {
    cpu::batch_norm_backward_input(g.data(), x.data(), s, mean_t.data(), inv_t.data(), has_gamma ? gam.data() : nullptr,
                                   sg.data(), sgx.data(), dx1.data());
  } else {
    std::vector<T> zero(C, T(0)), a(C);
    for (int64_t c = 0; c < C; ++c) a[c] = (has_gamma ? gam[c] : T(1)) * inv_t[c];
    cpu::channel_affine<T>(g.data(), s, {zero.data(), a.data(), zero.data()}, dx1.data());
  }
  std::vector<T> dg1(C), db1(C);
  for (int64_t c = 0; c < C; ++c) {
    dg1[c] = T(sgx[c] * double(inv_t[c]));
    db1[c] = T(sg[c]);
  }
  // ---- emulated CUDA path, as ops/batch_norm.hpp calls it
  const int need = ri(1, 7);  // bit 0 dx, 1 dgamma, 2 dbeta
  std::vector<T> out[2][7];
  for (int o = 0; o < 2; ++o) {
    emu::g_order = o ? 2 : 0;
    cuda::BatchNormParams p{rows, C, eps, mom, training, unb};
    Buf<T> xb(x, off), gb(g, off), yb(poison<T>(rows * C), off), dxb(poison<T>(rows * C), off);
    std::vector<T> rm2 = rm0, rv2 = rv0, stats = poison<T>(3 * C);
    std::vector<double> work = poison<double>(training ? cuda::norm_workspace(rows, C) : 0);
    cuda::batch_norm_forward(xb.p(), has_gamma ? gam.data() : nullptr, has_beta ? bet.data() : nullptr,
                             track ? rm2.data() : nullptr, track ? stride : 0, track ? rv2.data() : nullptr,
                             track ? stride : 0, training ? work.data() : nullptr, stats.data(), yb.p(), p);
    std::vector<T> coef = poison<T>((need & 1) ? 3 * C : 0), dg = poison<T>(C), db = poison<T>(C);
    const bool sums = (need & 6) || (training && (need & 1));
    std::vector<double> work2 = poison<double>(sums ? cuda::norm_workspace(rows, C) : 0);
    cuda::batch_norm_backward(gb.p(), xb.p(), has_gamma ? gam.data() : nullptr, stats.data(),
                              sums ? work2.data() : nullptr, (need & 1) ? coef.data() : nullptr,
                              (need & 1) ? dxb.p() : nullptr, (need & 2) ? dg.data() : nullptr,
                              (need & 4) ? db.data() : nullptr, p);
    out[o][0] = yb.get();
    out[o][1] = rm2;
    out[o][2] = rv2;
    out[o][3] = stats;
    out[o][4] = dxb.get();
    out[o][5] = dg;
    out[o][6] = db;
  }
  emu::g_order = 0;
  std::vector<T> st1(3 * C);
  for (int64_t c = 0; c < C; ++c) {
    st1[c] = mean_t[c];
    st1[C + c] = inv_t[c];
    st1[2 * C + c] = scale[c];
  }
  cmp(out[0][0], y1, "bn y", tol);
  if (track) {
    cmp(out[0][1], rm1, "bn running_mean", tol);
    cmp(out[0][2], rv1, "bn running_var", tol);
  }
  cmp(out[0][3], st1, "bn stats", tol);
  if (need & 1) cmp(out[0][4], dx1, "bn dx", tol * 10);
  if (need & 2) cmp(out[0][5], dg1, "bn dgamma", tol * 10);
  if (need & 4) cmp(out[0][6], db1, "bn dbeta", tol * 10);
  for (int k = 0; k < 7; ++k) same_bits(out[0][k], out[1][k], "bn out " + std::to_string(k));
}

template <class T>
void ln_case(int64_t rows, int64_t C, int off, double tol) {
  char b[200];
  std::snprintf(b, sizeof b, "%s ln rows %ld C %ld off %d", sizeof(T) == 4 ? "float" : "double", rows, C, off);
  g_case = b;
  auto x = rnd<T>(rows * C, -2, 2);
  for (int64_t r = 0; r < rows; r += 2)
    for (int64_t c = 0; c < C; ++c) x[r * C + c] += T(30);
  auto gam = rnd<T>(C, 0.5, 1.5), bet = rnd<T>(C), g = rnd<T>(rows * C);
  const double eps = 1e-5;
  const cpu::ChannelRows s{rows, C};
  auto y1 = poison<T>(rows * C), m1 = poison<T>(rows), r1 = poison<T>(rows), dx1 = poison<T>(rows * C);
  auto dg1 = poison<T>(C), db1 = poison<T>(C);
  cpu::layer_norm_forward(x.data(), s, gam.data(), bet.data(), eps, y1.data(), m1.data(), r1.data());
  const int need = ri(1, 7);
  cpu::layer_norm_backward(g.data(), x.data(), s, m1.data(), r1.data(), gam.data(), (need & 1) ? dx1.data() : nullptr,
                           (need & 2) ? dg1.data() : nullptr, (need & 4) ? db1.data() : nullptr);
  std::vector<T> out[2][6];
  for (int o = 0; o < 2; ++o) {
    emu::g_order = o ? 2 : 0;
    Buf<T> xb(x, off), gb(g, off), yb(poison<T>(rows * C), off), dxb(poison<T>(rows * C), off);
    std::vector<T> m2 = poison<T>(rows), r2 = poison<T>(rows), dg = poison<T>(C), db = poison<T>(C);
    const cuda::LayerNormParams p{rows, C, eps};
    cuda::layer_norm_forward(xb.p(), gam.data(), bet.data(), yb.p(), m2.data(), r2.data(), p);
    std::vector<double> work = poison<double>((need & 6) ? cuda::norm_workspace(rows, C) : 0);
    // backward from the CPU's mean / rstd: isolates the backward kernels
    cuda::layer_norm_backward(gb.p(), xb.p(), m1.data(), r1.data(), gam.data(), (need & 6) ? work.data() : nullptr,
                              (need & 1) ? dxb.p() : nullptr, (need & 2) ? dg.data() : nullptr,
                              (need & 4) ? db.data() : nullptr, p);
    out[o][0] = yb.get();
    out[o][1] = m2;
    out[o][2] = r2;
    out[o][3] = dxb.get();
    out[o][4] = dg;
    out[o][5] = db;
  }
  emu::g_order = 0;
  cmp(out[0][0], y1, "ln y", tol);
  cmp(out[0][1], m1, "ln mean", tol);
  cmp(out[0][2], r1, "ln rstd", tol);
  if (need & 1) cmp(out[0][3], dx1, "ln dx", tol * 10);
  if (need & 2) cmp(out[0][4], dg1, "ln dgamma", tol * 10);
  if (need & 4) cmp(out[0][5], db1, "ln dbeta", tol * 10);
  for (int k = 0; k < 6; ++k) same_bits(out[0][k], out[1][k], "ln out " + std::to_string(k));
}

// group_norm: forward, then dx and g * xhat from the CPU's mean / rstd (the op sums g xhat
// with column_sum, emulated in t_conv); g xhat is checked against the CPU's formula.
template <class T>
void gn_case(int64_t N, int64_t HW, int64_t C, int64_t groups, int off, double tol) {
  char b[200];
  std::snprintf(b, sizeof b, "%s gn N %ld HW %ld C %ld groups %ld off %d", sizeof(T) == 4 ? "float" : "double", N, HW,
                C, groups, off);
  g_case = b;
  const int64_t n = N * HW * C;
  auto x = rnd<T>(n, -2, 2);
  for (int64_t i = 0; i < n; i += 3) x[i] += T(20);  // a large mean: the two-pass variance matters
  auto gam = rnd<T>(C, 0.5, 1.5), bet = rnd<T>(C), g = rnd<T>(n);
  const math::GroupNormParams p{N, HW, C, groups, 1e-5};
  auto y1 = poison<T>(n), m1 = poison<T>(N * groups), r1 = poison<T>(N * groups), dx1 = poison<T>(n);
  cpu::group_norm_forward(x.data(), p, gam.data(), bet.data(), y1.data(), m1.data(), r1.data());
  cpu::group_norm_backward<T>(g.data(), x.data(), p, m1.data(), r1.data(), gam.data(), dx1.data(), nullptr, nullptr);
  std::vector<T> gx1(n);  // g * xhat, as the kernel computes it
  for (int64_t i = 0; i < n; ++i) {
    const int64_t ng = (i / (HW * C)) * groups + (i % C) / (C / groups);
    gx1[i] = g[i] * ((x[i] - m1[ng]) * r1[ng]);
  }
  const bool want_dx = ri(0, 3) != 0, want_gx = ri(0, 1);
  std::vector<T> out[2][5];
  for (int o = 0; o < 2; ++o) {
    emu::g_order = o ? 2 : 0;
    Buf<T> xb(x, off), gb(g, off), yb(poison<T>(n), off), dxb(poison<T>(n), off), gxb(poison<T>(n), off);
    std::vector<T> m2 = poison<T>(N * groups), r2 = poison<T>(N * groups);
    cuda::group_norm_forward(xb.p(), gam.data(), bet.data(), yb.p(), m2.data(), r2.data(), p);
    cuda::group_norm_backward(gb.p(), xb.p(), m1.data(), r1.data(), gam.data(), want_dx ? dxb.p() : nullptr,
                              want_gx ? gxb.p() : nullptr, p);
    out[o][0] = yb.get();
    out[o][1] = m2;
    out[o][2] = r2;
    out[o][3] = dxb.get();
    out[o][4] = gxb.get();
  }
  emu::g_order = 0;
  cmp(out[0][0], y1, "gn y", tol);
  cmp(out[0][1], m1, "gn mean", tol);
  cmp(out[0][2], r1, "gn rstd", tol);
  if (want_dx) cmp(out[0][3], dx1, "gn dx", tol * 10);
  else cmp(out[0][3], poison<T>(n), "gn dx not written", 0);
  if (want_gx) cmp(out[0][4], gx1, "gn g xhat", tol);
  else cmp(out[0][4], poison<T>(n), "gn g xhat not written", 0);
  for (int k = 0; k < 5; ++k) same_bits(out[0][k], out[1][k], "gn out " + std::to_string(k));
}

// Synchronised batch norm (BatchNormParams::sync) as this rank of two: the launchers see
// rows A, the other rank holds rows B. The merge functions check that the launcher hands
// over A's own figures and answer with those over A and B, as the ranks' collectives would;
// y, the running buffers, stats and dx must then be those of batch norm over all rows
// (dgamma and dbeta A's alone).
template <class T>
struct SyncRef {
  std::vector<double> mean_a, var_a, mean_all, var_all, sg_a, sgx_a, sg_all, sgx_all;
  int64_t rows_a = 0, rows_all = 0;
  double tol = 0;
  int calls = 0;
};

template <class T>
int64_t sync_merge_stats(void* ctx, double* mean, double* var, int64_t C, int64_t rows) {
  auto& r = *static_cast<SyncRef<T>*>(ctx);
  ++r.calls;
  if (rows != r.rows_a) {
    std::printf("FAIL bn sync: merge_stats got %ld rows, not %ld [%s]\n", long(rows), long(r.rows_a), g_case.c_str());
    ++fails;
  }
  cmp(std::vector<double>(mean, mean + C), r.mean_a, "bn sync this rank's mean", r.tol);
  cmp(std::vector<double>(var, var + C), r.var_a, "bn sync this rank's var", r.tol);
  std::copy(r.mean_all.begin(), r.mean_all.end(), mean);
  std::copy(r.var_all.begin(), r.var_all.end(), var);
  return r.rows_all;
}

template <class T>
int64_t sync_merge_sums(void* ctx, double* sum_g, double* sum_gx, int64_t C, int64_t rows) {
  auto& r = *static_cast<SyncRef<T>*>(ctx);
  ++r.calls;
  cmp(std::vector<double>(sum_g, sum_g + C), r.sg_a, "bn sync this rank's sum g", r.tol);
  cmp(std::vector<double>(sum_gx, sum_gx + C), r.sgx_a, "bn sync this rank's sum gx", r.tol * 10);
  std::copy(r.sg_all.begin(), r.sg_all.end(), sum_g);
  std::copy(r.sgx_all.begin(), r.sgx_all.end(), sum_gx);
  return rows == r.rows_a ? r.rows_all : -1;
}

template <class T>
void bn_sync_case(int64_t rows_a, int64_t rows_b, int64_t C, int off, double tol) {
  char b[160];
  std::snprintf(b, sizeof b, "%s bn sync rows %ld + %ld C %ld off %d", sizeof(T) == 4 ? "float" : "double",
                long(rows_a), long(rows_b), long(C), off);
  g_case = b;
  const double eps = 1e-3, mom = 0.9;
  const int64_t rows = rows_a + rows_b;
  auto x = rnd<T>(rows * C, -2, 2), g = rnd<T>(rows * C), gam = rnd<T>(C, 0.5, 1.5), bet = rnd<T>(C);
  for (int64_t r = rows_a; r < rows; ++r)
    for (int64_t c = 0; c < C; ++c) x[r * C + c] += T(1 + c % 5);  // the other rank's rows differ
  const std::vector<T> rm0 = rnd<T>(C), rv0 = rnd<T>(C, 0.5, 2);
  SyncRef<T> ref;
  ref.rows_a = rows_a;
  ref.rows_all = rows;
  ref.tol = tol;
  ref.mean_a.resize(C), ref.var_a.resize(C), ref.mean_all.resize(C), ref.var_all.resize(C);
  const cpu::ChannelRows sa{rows_a, C}, sall{rows, C};
  cpu::batch_norm_stats(x.data(), sa, ref.mean_a.data(), ref.var_a.data());
  cpu::batch_norm_stats(x.data(), sall, ref.mean_all.data(), ref.var_all.data());
  std::vector<T> rm1 = rm0, rv1 = rv0, mean_t(C), inv_t(C), scale(C), shift(C);
  for (int64_t c = 0; c < C; ++c) {
    rm1[c] = T(math::running_blend(mom, double(rm0[c]), ref.mean_all[c], 1.0));
    rv1[c] = T(math::running_blend(mom, double(rv0[c]), ref.var_all[c], double(rows) / double(rows - 1)));
    const double is = math::norm_inv_std(ref.var_all[c], eps);
    mean_t[c] = T(ref.mean_all[c]);
    inv_t[c] = T(is);
    scale[c] = T(is * double(gam[c]));
    shift[c] = bet[c];
  }
  auto y1 = poison<T>(rows_a * C);
  cpu::channel_affine<T>(x.data(), sa, {mean_t.data(), scale.data(), shift.data()}, y1.data());
  ref.sg_a.resize(C), ref.sgx_a.resize(C), ref.sg_all.resize(C), ref.sgx_all.resize(C);
  cpu::batch_norm_backward_sums(g.data(), x.data(), sa, mean_t.data(), ref.sg_a.data(), ref.sgx_a.data());
  cpu::batch_norm_backward_sums(g.data(), x.data(), sall, mean_t.data(), ref.sg_all.data(), ref.sgx_all.data());
  auto dx1 = poison<T>(rows_a * C);
  cpu::batch_norm_backward_input(g.data(), x.data(), sa, mean_t.data(), inv_t.data(), gam.data(), ref.sg_all.data(),
                                 ref.sgx_all.data(), dx1.data(), cpu::Identity{}, rows);
  std::vector<T> dg1(C), db1(C);
  for (int64_t c = 0; c < C; ++c) {
    dg1[c] = T(ref.sgx_a[c] * double(inv_t[c]));
    db1[c] = T(ref.sg_a[c]);
  }
  std::vector<T> out[2][6];
  for (int o = 0; o < 2; ++o) {
    emu::g_order = o ? 2 : 0;
    cuda::BatchNormParams p{rows_a, C, eps, mom, true, true};
    p.sync = {&sync_merge_stats<T>, &sync_merge_sums<T>, &ref};
    Buf<T> xb(std::vector<T>(x.begin(), x.begin() + rows_a * C), off);
    Buf<T> gb(std::vector<T>(g.begin(), g.begin() + rows_a * C), off);
    Buf<T> yb(poison<T>(rows_a * C), off), dxb(poison<T>(rows_a * C), off);
    std::vector<T> rm2 = rm0, rv2 = rv0, stats = poison<T>(3 * C), coef = poison<T>(3 * C);
    std::vector<T> dg = poison<T>(C), db = poison<T>(C);
    // work in emulated device memory: the launchers copy the merged figures in and out of it
    const size_t wn = static_cast<size_t>(cuda::norm_workspace(rows_a, C));
    double* work = nullptr;
    if (cudaMalloc(reinterpret_cast<void**>(&work), wn * sizeof(double)) != cudaSuccess) std::abort();
    const std::vector<double> nan_work = poison<double>(static_cast<int64_t>(wn));
    std::memcpy(work, nan_work.data(), wn * sizeof(double));
    cuda::batch_norm_forward(xb.p(), gam.data(), bet.data(), rm2.data(), 1, rv2.data(), 1, work, stats.data(), yb.p(),
                             p);
    std::memcpy(work, nan_work.data(), wn * sizeof(double));
    cuda::batch_norm_backward(gb.p(), xb.p(), gam.data(), stats.data(), work, coef.data(), dxb.p(), dg.data(),
                              db.data(), p);
    cudaFree(work);
    out[o][0] = yb.get();
    out[o][1] = rm2;
    out[o][2] = rv2;
    out[o][3] = stats;
    out[o][4] = dxb.get();
    out[o][5] = dg;
    out[o][5].insert(out[o][5].end(), db.begin(), db.end());
  }
  emu::g_order = 0;
  ++checks;
  if (ref.calls != 4) {
    std::printf("FAIL bn sync: %d merge calls, expected 2 a pass pair x 2 schedules [%s]\n", ref.calls, g_case.c_str());
    ++fails;
  }
  std::vector<T> st1(3 * C), dgb1 = dg1;
  dgb1.insert(dgb1.end(), db1.begin(), db1.end());
  for (int64_t c = 0; c < C; ++c) {
    st1[c] = mean_t[c];
    st1[C + c] = inv_t[c];
    st1[2 * C + c] = scale[c];
  }
  cmp(out[0][0], y1, "bn sync y", tol);
  cmp(out[0][1], rm1, "bn sync running_mean", tol);
  cmp(out[0][2], rv1, "bn sync running_var", tol);
  cmp(out[0][3], st1, "bn sync stats", tol);
  cmp(out[0][4], dx1, "bn sync dx", tol * 10);
  cmp(out[0][5], dgb1, "bn sync dgamma, dbeta", tol * 10);
  for (int k = 0; k < 6; ++k) same_bits(out[0][k], out[1][k], "bn sync out " + std::to_string(k));
}

int main(int argc, char** argv) {
  const int iters = argc > 1 ? std::atoi(argv[1]) : 60;
  for (int it = 0; it < iters; ++it) {
    const int k = ri(0, 5);
    const int64_t C = k == 0   ? ri(1, 8)
                      : k == 1 ? 4 * ri(1, 12)
                      : k == 2 ? ri(9, 70)
                      : k == 3 ? 2 * ri(33, 100)
                      : k == 4 ? ri(129, 300)
                               : 32;
    const int64_t rows = ri(0, 2) ? ri(1, 40) : ri(41, std::max<int>(42, int(40000 / C)));
    const bool training = ri(0, 3) != 0;
    const int off = ri(0, 3) == 0 ? 1 : 0;
    if (training && rows < 2 && ri(0, 1)) continue;
    if (it % 2) bn_case<double>(rows, C, training, ri(0, 1), ri(0, 1), ri(0, 1), ri(1, 2), off, 1e-12);
    else bn_case<float>(rows, C, training, ri(0, 1), ri(0, 1), ri(0, 1), ri(1, 2), off, 2e-5);
    if (it % 2) ln_case<double>(rows, C, off, 1e-12);
    else ln_case<float>(rows, C, off, 2e-5);
    const int64_t groups = ri(1, 6), gN = ri(1, 4), gHW = ri(0, 3) ? ri(1, 20) : ri(60, 400);
    const int64_t gC = groups * ri(1, 9);
    if (it % 2) gn_case<double>(gN, gHW, gC, groups, off, 1e-12);
    else gn_case<float>(gN, gHW, gC, groups, off, 2e-5);
  }
  // eval with zero rows; rows giving many row groups and a y-grid wider than the emulated cap
  bn_case<double>(0, 5, false, true, true, true, 1, 0, 1e-12);
  bn_case<float>(5000, 3, true, true, true, true, 1, 0, 2e-5);
  bn_case<double>(3000, 130, true, false, true, true, 2, 0, 1e-12);
  ln_case<float>(3000, 7, 0, 2e-5);
  ln_case<double>(1000, 130, 0, 1e-12);
  gn_case<float>(5, 7, 6, 3, 0, 2e-5);  // 15 (image, group) pairs: more than the emulated grid cap
  gn_case<double>(2, 300, 8, 8, 1, 1e-12);
  // synchronised batch norm, as one rank of two: small and odd channel counts, unequal shares,
  // many row groups, the scalar path
  for (int it = 0; it < 6; ++it) {
    const int64_t C = it % 3 == 0 ? ri(1, 9) : (it % 3 == 1 ? 4 * ri(8, 40) : ri(33, 200));
    const int64_t ra = ri(1, 3) == 1 ? ri(1, 8) : ri(9, 3000 / int(C) + 10), rb = ri(1, 200);
    if (it % 2) bn_sync_case<double>(ra, rb, C, it == 3, 1e-12);
    else bn_sync_case<float>(ra, rb, C, it == 4, 2e-5);
  }
  return finish("batch_norm+layer_norm+group_norm");
}
