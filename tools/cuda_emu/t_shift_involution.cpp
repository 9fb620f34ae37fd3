#include "tu.hpp"
// channel_shift.cu and involution.cu both define kThreads and kMax32 in an anonymous
// namespace of patchnet::cuda: one translation unit needs them renamed in one of the files.
#define kThreads cs_kThreads
#define kMax32 cs_kMax32
#include "channel_shift.cu"  // generated: $EMU_BUILD/gen (gen.sh)
#undef kThreads
#undef kMax32
#include "involution.cu"  // generated: $EMU_BUILD/gen (gen.sh)
#include "patchnet/cpu/channel_shift.hpp"
#include "patchnet/cpu/involution.hpp"
#include "patchnet/ops/geometry.hpp"
using namespace patchnet;

static int n_shift_vec = 0, n_shift_scalar = 0, n_inv = 0;
static int n_inv_k[3] = {};      // K 3/5/7 (unrolled kernels), other K (generic), S > 1
static int n_inv_lanes[6] = {};  // dkernel lanes L = 1, 2, 4, .., 32

// ---- channel shift ------------------------------------------------------------------------

// ops/channel_shift.hpp: dims with the shift capped at max(H, W), forward +s, backward -s,
// both through cuda::channel_shift on packed tensors. xoff / ooff: element offsets of the
// input and the output (a non-multiple of 16 bytes takes the scalar path).
template <class T>
void shift_case(int64_t N, int64_t H, int64_t W, int64_t C, int64_t g, int64_t shift, int xoff, int ooff) {
  const math::ChannelShiftDims d{N, H, W, C, g, std::min(shift, std::max(H, W))};
  math::ChannelShiftDims back = d;
  back.shift = -d.shift;
  constexpr int V = 16 / sizeof(T);
  const bool vec = (xoff * sizeof(T)) % 16 == 0 && (ooff * sizeof(T)) % 16 == 0 && C % V == 0 && g % V == 0;
  char b[200];
  std::snprintf(b, sizeof b, "%s shift N%ld H%ld W%ld C%ld g%ld s%ld xoff %d ooff %d (%s path)",
                sizeof(T) == 4 ? "float" : "double", N, H, W, C, g, d.shift, xoff, ooff, vec ? "vector" : "scalar");
  g_case = b;
  ++(vec ? n_shift_vec : n_shift_scalar);
  const int64_t n = N * H * W * C;
  auto x = rnd<T>(n), gy = rnd<T>(n);
  auto y1 = poison<T>(n), dx1 = poison<T>(n);
  cpu::channel_shift(x.data(), y1.data(), d);
  cpu::channel_shift(gy.data(), dx1.data(), back);
  std::vector<T> out[2][2];
  for (int o = 0; o < 2; ++o) {
    emu::g_order = o ? 2 : 0;
    Guarded<T> xb(x, xoff), gb(gy, xoff), yb(poison<T>(n), ooff), dxb(poison<T>(n), ooff);
    cuda::channel_shift(xb.p(), yb.p(), d);
    cuda::channel_shift(gb.p(), dxb.p(), back);
    yb.guards_ok("shift y");
    dxb.guards_ok("shift dx");
    out[o][0] = yb.get();
    out[o][1] = dxb.get();
  }
  emu::g_order = 0;
  cmp(out[0][0], y1, "shift forward", 0);  // copies: exact
  cmp(out[0][1], dx1, "shift backward", 0);
  same_bits(out[0][0], out[1][0], "shift forward");
  same_bits(out[0][1], out[1][1], "shift backward");
}

// ---- involution ---------------------------------------------------------------------------

int lanes_of(int64_t cg) {  // involution.cu's lanes_for
  int L = 1;
  while (L < 32 && int64_t{L} * 4 < cg) L *= 2;
  return L;
}

template <class T>
void inv_case(int64_t N, int64_t H, int64_t W, int64_t C, int64_t K, int64_t S, int64_t G, double tol) {
  // ops/involution.hpp: detail::involution_geometry's window ("same" padding), then the dims
  const Window2d w = window2d("involution", Shape{N, H, W, C}, K, S, Padding::Same);
  const math::InvolutionDims d = math::involution_dims(w, G);
  const int L = lanes_of(C / G);
  char b[200];
  std::snprintf(b, sizeof b, "%s involution N%ld H%ld W%ld C%ld K%ld S%ld G%ld pad t%ld l%ld O%ldx%ld L%d",
                sizeof(T) == 4 ? "float" : "double", N, H, W, C, K, S, G, w.pad.top, w.pad.left, w.OH, w.OW, L);
  g_case = b;
  ++n_inv;
  ++n_inv_k[K == 3 || K == 5 || K == 7 ? 0 : 1];
  if (S > 1) ++n_inv_k[2];
  for (int i = 0, l = 1; i < 6; ++i, l *= 2)
    if (l == L) ++n_inv_lanes[i];
  const int64_t xn = N * H * W * C, yn = N * w.OH * w.OW * C, kn = N * w.OH * w.OW * K * K * G;
  auto x = rnd<T>(xn), k = rnd<T>(kn), gy = rnd<T>(yn);
  auto y1 = poison<T>(yn), dx1 = poison<T>(xn), dk1 = poison<T>(kn);
  cpu::involution_forward(x.data(), k.data(), y1.data(), d);
  cpu::involution_backward_input(k.data(), gy.data(), dx1.data(), d);
  cpu::involution_backward_kernel(x.data(), gy.data(), dk1.data(), d);
  // tolerances relative to the sums of |terms|: the same CPU kernels on |inputs|
  const auto ax = abs_of(x), ak = abs_of(k), ag = abs_of(gy);
  auto ys = poison<T>(yn), dxs = poison<T>(xn), dks = poison<T>(kn);
  cpu::involution_forward(ax.data(), ak.data(), ys.data(), d);
  cpu::involution_backward_input(ak.data(), ag.data(), dxs.data(), d);
  cpu::involution_backward_kernel(ax.data(), ag.data(), dks.data(), d);
  std::vector<T> out[2][3];
  for (int o = 0; o < 2; ++o) {
    emu::g_order = o ? 2 : 0;
    Guarded<T> yb(poison<T>(yn), 0), dxb(poison<T>(xn), 0), dkb(poison<T>(kn), 0);
    cuda::involution_forward(x.data(), k.data(), yb.p(), d);
    cuda::involution_backward_input(k.data(), gy.data(), dxb.p(), d);
    cuda::involution_backward_kernel(x.data(), gy.data(), dkb.p(), d);
    yb.guards_ok("involution out");
    dxb.guards_ok("involution dx");
    dkb.guards_ok("involution dkernel");
    out[o][0] = yb.get();
    out[o][1] = dxb.get();
    out[o][2] = dkb.get();
  }
  emu::g_order = 0;
  const auto s0 = scale_of(ys), s1 = scale_of(dxs), s2 = scale_of(dks);
  cmp(out[0][0], y1, "involution forward", tol, &s0);
  cmp(out[0][1], dx1, "involution dx", tol, &s1);
  cmp(out[0][2], dk1, "involution dkernel", tol, &s2);
  for (int i = 0; i < 3; ++i) same_bits(out[0][i], out[1][i], "involution out " + std::to_string(i));
}

template <class T>
void inv_both(int64_t N, int64_t H, int64_t W, int64_t C, int64_t K, int64_t S, int64_t G) {
  inv_case<T>(N, H, W, C, K, S, G, sizeof(T) == 4 ? 1e-5 : 1e-13);
}

int main(int argc, char** argv) {
  const int iters = argc > 1 ? std::atoi(argv[1]) : 1500;
  for (int it = 0; it < iters; ++it) {
    // channel shift: C a multiple of the vector width or not, g from 0 to C/4
    {
      const int64_t N = ri(1, 3), H = ri(1, 9), W = ri(1, 9);
      const int64_t C = ri(0, 2) ? 4 * ri(1, 24) : ri(1, 70);
      const int k = ri(0, 5);
      const int64_t g = k == 0 ? 0 : k == 1 ? C / 4 : k == 2 ? 4 * ri(0, int(C / 16)) : ri(0, int(C / 4));
      const int64_t s = ri(0, 4) ? ri(1, 3) : ri(4, 12);
      const int xoff = ri(0, 3) == 0 ? ri(1, 3) : ri(0, 1) * 4, ooff = ri(0, 3) == 0 ? ri(1, 3) : ri(0, 1) * 4;
      if (it % 2) shift_case<double>(N, H, W, C, g, s, xoff, ooff);
      else shift_case<float>(N, H, W, C, g, s, xoff, ooff);
    }
    // involution: K 3/5/7 (unrolled) or others (generic), strides 1..3, groups with C/G
    // spanning every lane count of the dkernel kernel
    {
      static const int64_t Ks[] = {3, 3, 5, 5, 7, 7, 1, 2, 4, 6, 9};
      const int64_t K = Ks[ri(0, 10)], S = ri(0, 2) ? 1 : ri(2, 3);
      const int64_t N = ri(1, 2), H = ri(1, 9), W = ri(1, 9);
      const int64_t G = ri(0, 2) ? 1 : ri(2, 6);
      static const int cgs[][2] = {{1, 4}, {5, 8}, {9, 16}, {17, 32}, {33, 64}, {65, 90}};
      const int lc = ri(0, 2) ? ri(0, 3) : ri(4, 5);
      const int64_t CG = ri(cgs[lc][0], cgs[lc][1]);
      const int64_t h = lc >= 4 ? std::min<int64_t>(H, 5) : H, wd = lc >= 4 ? std::min<int64_t>(W, 5) : W;
      if (it % 2) inv_both<double>(N, h, wd, G * CG, K, S, G);
      else inv_both<float>(N, h, wd, G * CG, K, S, G);
    }
  }
  // channel shift edges: empty, identity (g = 0), no pass-through channels (4g = C), shifts
  // of 0 and past the image (capped), a single pixel, more packs than the grid cap
  // (7 blocks x 256) in both paths, misaligned input or output only
  shift_case<float>(0, 4, 4, 8, 2, 1, 0, 0);
  shift_case<float>(2, 3, 3, 0, 0, 1, 0, 0);
  shift_case<float>(2, 5, 6, 16, 0, 1, 0, 0);
  shift_case<double>(2, 5, 6, 16, 4, 0, 0, 0);
  shift_case<float>(1, 5, 7, 16, 4, 1, 0, 0);
  shift_case<double>(1, 5, 7, 16, 4, 1, 0, 0);
  shift_case<float>(1, 5, 7, 12, 3, 2, 0, 0);
  shift_case<float>(1, 1, 1, 8, 2, 1, 0, 0);
  shift_case<float>(2, 4, 9, 24, 4, 100, 0, 0);
  shift_case<double>(2, 9, 4, 26, 5, 7, 1, 0);
  shift_case<float>(3, 12, 12, 64, 8, 1, 0, 0);    // 6912 packs of 4
  shift_case<double>(3, 12, 12, 64, 16, 2, 0, 0);  // 13824 packs of 2
  shift_case<float>(2, 12, 12, 65, 16, 1, 0, 0);   // scalar: C % 4
  shift_case<float>(2, 12, 12, 64, 6, 1, 0, 0);    // scalar: g % 4
  shift_case<float>(2, 12, 12, 64, 8, 3, 1, 0);    // scalar: x misaligned
  shift_case<double>(2, 12, 12, 64, 8, 3, 0, 1);   // scalar: out misaligned
  shift_case<float>(2, 8, 8, 32, 8, 1, 4, 4);      // vector with 16-byte offsets
  // the seed's num_div 12 at C 96: the paper's g = 8 and the Keras seed's g = 12
  shift_case<float>(2, 8, 8, 96, 96 / 12, 1, 0, 0);
  shift_case<double>(2, 8, 8, 96, 96 / (96 / 12), 1, 0, 0);
  // involution edges: no image, 1x1 images, K larger than the image, stride > K (pixels no
  // window reads: dx 0), odd sizes, the seed's shapes (K 3, G 1 with 3 channels / C 16 G 4),
  // a warp's worth and more of lanes, more elements than the grid cap
  inv_both<float>(0, 5, 5, 4, 3, 1, 1);
  inv_both<double>(1, 1, 1, 3, 3, 1, 1);
  inv_both<float>(2, 1, 1, 8, 7, 2, 2);
  inv_both<double>(1, 2, 3, 6, 7, 1, 3);
  inv_both<float>(2, 7, 5, 6, 1, 2, 2);
  inv_both<double>(1, 9, 8, 4, 2, 3, 1);
  inv_both<float>(2, 11, 13, 3, 3, 1, 1);
  inv_both<double>(2, 11, 13, 16, 3, 2, 4);
  inv_both<float>(1, 8, 8, 16, 5, 2, 1);
  inv_both<double>(1, 7, 9, 12, 7, 1, 3);
  inv_both<float>(1, 5, 4, 128, 3, 1, 1);   // L = 32
  inv_both<float>(1, 4, 5, 260, 5, 2, 2);   // L = 32, 130 channels a group
  inv_both<double>(2, 9, 9, 32, 3, 1, 32);  // C / G = 1
  inv_both<float>(2, 16, 14, 24, 9, 2, 3);
  std::printf(
      "channel_shift cases: %d vector path, %d scalar path; involution cases: %d (%d with K 3/5/7, %d other K, "
      "%d strided; dkernel lanes 1/2/4/8/16/32: %d/%d/%d/%d/%d/%d)\n",
      n_shift_vec, n_shift_scalar, n_inv, n_inv_k[0], n_inv_k[1], n_inv_k[2], n_inv_lanes[0], n_inv_lanes[1],
      n_inv_lanes[2], n_inv_lanes[3], n_inv_lanes[4], n_inv_lanes[5]);
  return finish("channel_shift+involution");
}
