#include "tu.hpp"
#include "depthwise_conv.cu"  // generated: $EMU_BUILD/gen (gen.sh)
#include "conv_im2col.cu"     // generated: $EMU_BUILD/gen (gen.sh)
#include "patchnet/cpu/depthwise_conv2d.hpp"
#include "patchnet/cpu/im2col.hpp"
#include "patchnet/cpu/patches.hpp"
#include "patchnet/ops/geometry.hpp"
using namespace patchnet;

static int n_dw = 0, n_dw_fwd_strip = 0, n_dw_dx_strip = 0, n_dw_dx_gather = 0, n_dw_w_fast = 0, n_dw_parts = 0;
static int n_low = 0, n_low_patches = 0, n_low_groups = 0, n_low_chunked = 0, n_colsum = 0, n_colsum_2pass = 0;

std::string pad_str(const Window2d& g) {
  char b[120];
  std::snprintf(b, sizeof b, "pad t%ld b%ld l%ld r%ld O%ldx%ld", g.pad.top, g.pad.bottom, g.pad.left, g.pad.right, g.OH,
                g.OW);
  return b;
}

// A random padding: "same", "valid" or explicit (asymmetric, up to K + 1 a side).
struct PadChoice {
  Padding mode;
  Pad2d pad;
};
PadChoice random_pad(Hw k) {
  const int m = ri(0, 2);
  if (m == 0) return {Padding::Same, {}};
  if (m == 1) return {Padding::Valid, {}};
  return {Padding::Explicit, {ri(0, int(k.h) + 1), ri(0, int(k.h) + 1), ri(0, int(k.w) + 1), ri(0, int(k.w) + 1)}};
}

// ---- depthwise ----------------------------------------------------------------------------

bool is_strip_k(int64_t k) { return k == 3 || k == 5 || k == 7 || k == 9; }

// ops/conv.hpp's depthwise_conv2d on the device: forward, dx, dw with
// depthwise_weight_workspace(g) elements of workspace, db by cuda_column_sum (column_sum
// over dy as [N*OH*OW, C] with column_sum_workspace). CPU: cpu/depthwise_conv2d.hpp.
template <class T>
void dw_case(int64_t N, int64_t H, int64_t W, int64_t C, Hw k, Hw s, PadChoice pc, bool has_bias, double tol) {
  Window2d g;
  try {
    g = window2d("depthwise_conv2d", Shape{N, H, W, C}, k, s, pc.mode, pc.pad);
  } catch (const Error&) {
    return;  // kernel larger than the (padded) input
  }
  const bool square = k.h == k.w && is_strip_k(k.h);
  const bool fwd_strip = square && (s.h == 1 || s.h == 2);
  const bool dx_flip = s.h == 1 && s.w == 1;
  const bool w_fast = square && (s.w == 1 || s.w == 2);
  const int64_t parts = cuda::depthwise_weight_parts(g);
  char b[240];
  std::snprintf(
      b, sizeof b, "%s depthwise N%ld H%ld W%ld C%ld K%ldx%ld S%ldx%ld %s %s bias %d fwd %s dx %s dw %s parts %ld",
      sizeof(T) == 4 ? "float" : "double", N, H, W, C, k.h, k.w, s.h, s.w, padding_name(pc.mode), pad_str(g).c_str(),
      has_bias, fwd_strip ? "strip" : "generic", dx_flip ? (square ? "flipped-strip" : "flipped-generic") : "gather",
      w_fast ? "fast" : "generic", long(parts));
  g_case = b;
  ++n_dw;
  n_dw_fwd_strip += fwd_strip;
  n_dw_dx_strip += dx_flip && square;
  n_dw_dx_gather += !dx_flip;
  n_dw_w_fast += w_fast;
  n_dw_parts += parts > 1;
  const int64_t xn = N * H * W * C, yn = N * g.OH * g.OW * C, wn = k.h * k.w * C, rows = N * g.OH * g.OW;
  auto x = rnd<T>(xn), w = rnd<T>(wn), bias = rnd<T>(C), dy = rnd<T>(yn);
  const T* bp = has_bias ? bias.data() : nullptr;
  auto y1 = poison<T>(yn), dx1 = poison<T>(xn), dw1 = poison<T>(wn), db1 = poison<T>(C);
  cpu::depthwise_conv2d_forward(x.data(), w.data(), bp, y1.data(), g);
  cpu::depthwise_conv2d_backward_input(dy.data(), w.data(), dx1.data(), g);
  cpu::depthwise_conv2d_backward_weight(x.data(), dy.data(), dw1.data(), db1.data(), g);
  const auto ax = abs_of(x), aw = abs_of(w), ab = abs_of(bias), ady = abs_of(dy);
  auto ys = poison<T>(yn), dxs = poison<T>(xn), dws = poison<T>(wn), dbs = poison<T>(C);
  cpu::depthwise_conv2d_forward(ax.data(), aw.data(), has_bias ? ab.data() : nullptr, ys.data(), g);
  cpu::depthwise_conv2d_backward_input(ady.data(), aw.data(), dxs.data(), g);
  cpu::depthwise_conv2d_backward_weight(ax.data(), ady.data(), dws.data(), dbs.data(), g);
  std::vector<T> out[2][4];
  for (int o = 0; o < 2; ++o) {
    emu::g_order = o ? 2 : 0;
    Guarded<T> yb(poison<T>(yn), 0), dxb(poison<T>(xn), 0), dwb(poison<T>(wn), 0), dbb(poison<T>(C), 0);
    Guarded<T> ws(poison<T>(cuda::depthwise_weight_workspace(g)), 0);
    Guarded<T> ws2(poison<T>(cuda::column_sum_workspace(rows, C)), 0);
    cuda::depthwise_conv2d_forward(x.data(), w.data(), bp, yb.p(), g);
    cuda::depthwise_conv2d_backward_input(dy.data(), w.data(), dxb.p(), g);
    cuda::depthwise_conv2d_backward_weight(x.data(), dy.data(), dwb.p(), g, ws.p());
    cuda::column_sum(dy.data(), dbb.p(), rows, C, ws2.p());
    yb.guards_ok("depthwise y");
    dxb.guards_ok("depthwise dx");
    dwb.guards_ok("depthwise dw");
    dbb.guards_ok("depthwise db");
    ws.guards_ok("depthwise dw workspace");
    ws2.guards_ok("depthwise db workspace");
    out[o][0] = yb.get();
    out[o][1] = dxb.get();
    out[o][2] = dwb.get();
    out[o][3] = dbb.get();
  }
  emu::g_order = 0;
  const auto s0 = scale_of(ys), s1 = scale_of(dxs), s2 = scale_of(dws), s3 = scale_of(dbs);
  cmp(out[0][0], y1, "depthwise forward", tol, &s0);
  cmp(out[0][1], dx1, "depthwise dx", tol, &s1);
  cmp(out[0][2], dw1, "depthwise dw", tol, &s2);
  cmp(out[0][3], db1, "depthwise db", tol, &s3);
  for (int i = 0; i < 4; ++i) same_bits(out[0][i], out[1][i], "depthwise out " + std::to_string(i));
}

template <class T>
void dw_both(int64_t N, int64_t H, int64_t W, int64_t C, Hw k, Hw s, PadChoice pc, bool has_bias) {
  dw_case<T>(N, H, W, C, k, s, pc, has_bias, sizeof(T) == 4 ? 1e-5 : 1e-13);
}

// ---- column sum and fill_rows ---------------------------------------------------------------

template <class T>
void colsum_case(int64_t rows, int64_t cols) {
  const int64_t parts = cuda::column_sum_parts(rows);
  g_case = std::string(sizeof(T) == 4 ? "float" : "double") + " column_sum rows " + std::to_string(rows) + " cols " +
           std::to_string(cols) + " parts " + std::to_string(parts);
  ++n_colsum;
  n_colsum_2pass += parts > 1;
  auto a = rnd<T>(rows * cols);
  std::vector<T> ref(cols), refs(cols);
  for (int64_t c = 0; c < cols; ++c) {
    long double s = 0, sa = 0;
    for (int64_t r = 0; r < rows; ++r) {
      s += a[r * cols + c];
      sa += std::abs(a[r * cols + c]);
    }
    ref[c] = T(s);
    refs[c] = T(sa);
  }
  std::vector<T> out[2], fill[2];
  auto row = rnd<T>(cols);
  std::vector<T> fill1(rows * cols);
  for (int64_t r = 0; r < rows; ++r) std::copy(row.begin(), row.end(), fill1.begin() + r * cols);
  for (int o = 0; o < 2; ++o) {
    emu::g_order = o ? 2 : 0;
    Guarded<T> ob(poison<T>(cols), 0), ws(poison<T>(cuda::column_sum_workspace(rows, cols)), 0);
    Guarded<T> fb(poison<T>(rows * cols), 0);
    cuda::column_sum(a.data(), ob.p(), rows, cols, ws.p());
    cuda::fill_rows(row.data(), fb.p(), rows, cols);
    ob.guards_ok("column_sum out");
    ws.guards_ok("column_sum workspace");
    fb.guards_ok("fill_rows out");
    out[o] = ob.get();
    fill[o] = fb.get();
  }
  emu::g_order = 0;
  const auto sc = scale_of(refs);
  cmp(out[0], ref, "column_sum", sizeof(T) == 4 ? 2e-7 : 1e-15, &sc);
  cmp(fill[0], fill1, "fill_rows", 0);
  same_bits(out[0], out[1], "column_sum");
  same_bits(fill[0], fill[1], "fill_rows");
}

// ---- lowering: im2col, col2im, scatter_patches ------------------------------------------------

// ops/conv.hpp's lowered conv2d on the device: per chunk of images, im2col into the
// workspace (conv2d_workspace_elems(p, chunk) elements); backward the GEMM's dcols in the
// same workspace, then col2im (im2col path) or scatter_patches (patches path: kernel ==
// stride, one group) into dx. Here the GEMMs (cuBLAS) are left out: the test compares the
// workspace after im2col with cpu::im2col, and dx from a random dcols with cpu::col2im /
// cpu::scatter_patches (cpu/conv2d.hpp's cols_to_input). col2im also runs on the patches
// shapes. chunk_bytes stands in for kCudaChunkBytes, small so images come in several chunks.
template <class T>
void lower_case(int64_t N, int64_t H, int64_t W, int64_t C, Hw k, Hw s, PadChoice pc, int64_t groups,
                int64_t chunk_bytes, double tol) {
  Window2d g;
  try {
    g = window2d("conv2d", Shape{N, H, W, C}, k, s, pc.mode, pc.pad);
  } catch (const Error&) {
    return;
  }
  const bool patches = g.kernel == g.stride && groups == 1;  // detail::conv2d_plan's Patches path
  // cpu::LoweredConv2d's width / rows_per_image, cpu::conv2d_images_per_chunk
  const int64_t width = g.kernel.h * g.kernel.w * C, rpi = g.OH * g.OW;
  const int64_t per_image = std::max<int64_t>(1, rpi * width * int64_t(sizeof(T)));
  const int64_t chunk = std::clamp<int64_t>(chunk_bytes / per_image, 1, std::max<int64_t>(N, 1));
  char b[240];
  std::snprintf(b, sizeof b, "%s lowering N%ld H%ld W%ld C%ld K%ldx%ld S%ldx%ld %s %s groups %ld chunk %ld%s",
                sizeof(T) == 4 ? "float" : "double", N, H, W, C, k.h, k.w, s.h, s.w, padding_name(pc.mode),
                pad_str(g).c_str(), groups, chunk, patches ? " (patches)" : "");
  g_case = b;
  ++n_low;
  n_low_patches += patches;
  n_low_groups += groups > 1;
  n_low_chunked += chunk < N;
  const int64_t xn = N * H * W * C, cn = N * rpi * width, img = H * W * C;
  auto x = rnd<T>(xn), dcols = rnd<T>(cn);
  auto cols1 = poison<T>(cn), dx1 = poison<T>(xn), sp1 = poison<T>(xn);
  cpu::im2col(x.data(), g, groups, N, cols1.data());
  cpu::col2im(dcols.data(), g, groups, N, dx1.data());
  if (patches) cpu::scatter_patches(dcols.data(), g, N, sp1.data());
  const auto adc = abs_of(dcols);
  auto dxs = poison<T>(xn);
  cpu::col2im(adc.data(), g, groups, N, dxs.data());
  std::vector<T> out[2][3];
  for (int o = 0; o < 2; ++o) {
    emu::g_order = o ? 2 : 0;
    out[o][0] = poison<T>(cn);
    Guarded<T> dxb(poison<T>(xn), 0), spb(poison<T>(xn), 0);
    Guarded<T> ws(poison<T>(chunk * rpi * width), 0);  // cpu::conv2d_workspace_elems(p, chunk)
    for (int64_t n0 = 0; n0 < N; n0 += chunk) {
      const int64_t nb = std::min(chunk, N - n0), part = nb * rpi * width;
      std::fill(ws.p(), ws.p() + ws.n, std::numeric_limits<T>::quiet_NaN());
      cuda::im2col(x.data() + n0 * img, ws.p(), g, groups, nb);
      std::copy(ws.p(), ws.p() + part, out[o][0].begin() + n0 * rpi * width);
      // the dcols GEMM writes this chunk's rows into the workspace; then the gather
      std::copy(dcols.begin() + n0 * rpi * width, dcols.begin() + n0 * rpi * width + part, ws.p());
      cuda::col2im(ws.p(), dxb.p() + n0 * img, g, groups, nb);
      if (patches) cuda::scatter_patches(ws.p(), spb.p() + n0 * img, g, nb);
    }
    ws.guards_ok("lowering workspace");
    dxb.guards_ok("col2im dx");
    spb.guards_ok("scatter_patches dx");
    out[o][1] = dxb.get();
    out[o][2] = spb.get();
  }
  emu::g_order = 0;
  cmp(out[0][0], cols1, "im2col", 0);  // copies: exact
  const auto sc = scale_of(dxs);
  cmp(out[0][1], dx1, "col2im", tol, &sc);
  if (patches) cmp(out[0][2], sp1, "scatter_patches", 0);
  for (int i = 0; i < 3; ++i) same_bits(out[0][i], out[1][i], "lowering out " + std::to_string(i));
}

template <class T>
void lower_both(int64_t N, int64_t H, int64_t W, int64_t C, Hw k, Hw s, PadChoice pc, int64_t groups,
                int64_t chunk_bytes) {
  lower_case<T>(N, H, W, C, k, s, pc, groups, chunk_bytes, sizeof(T) == 4 ? 1e-5 : 1e-13);
}

int main(int argc, char** argv) {
  const int iters = argc > 1 ? std::atoi(argv[1]) : 1200;
  for (int it = 0; it < iters; ++it) {
    const bool dbl = it % 2;
    // depthwise: square 3/5/7/9 at stride 1 / 2 (strip and fast weight kernels) or any
    // other shape (generic kernels)
    {
      const int m = ri(0, 3);
      Hw k, s;
      if (m <= 1) {
        k = Hw(2 * ri(1, 4) + 1);
        s = ri(0, 2) ? Hw(1) : Hw(ri(1, 2), ri(0, 3) ? ri(1, 2) : 3);
      } else if (m == 2) {
        k = Hw(ri(1, 6), ri(1, 6));
        s = Hw(ri(1, 3), ri(1, 3));
      } else {
        k = Hw(2 * ri(1, 4) + 1);
        s = Hw(ri(1, 3), ri(1, 3));
      }
      // one case in four: enough output rows (N*OH >= 32) for several weight partial blocks
      const bool tall = ri(0, 3) == 0;
      const int64_t N = tall ? ri(3, 8) : ri(1, 3), H = tall ? ri(12, 30) : ri(1, 14), W = tall ? ri(1, 6) : ri(1, 14);
      const int64_t C = tall ? ri(1, 12) : ri(0, 3) ? ri(1, 40) : ri(41, 70);
      const PadChoice pc = random_pad(k);
      if (dbl) dw_both<double>(N, H, W, C, k, s, pc, ri(0, 1));
      else dw_both<float>(N, H, W, C, k, s, pc, ri(0, 1));
    }
    // lowering: patches (kernel == stride) or im2col shapes, 1 to 4 groups
    {
      const bool patch = ri(0, 1);
      const Hw k(ri(1, 4), ri(1, 4));
      const Hw s = patch ? k : Hw(ri(1, 3), ri(1, 3));
      const int64_t groups = patch ? 1 : (ri(0, 1) ? 1 : ri(2, 4));
      const int64_t N = ri(1, 3), H = ri(1, 11), W = ri(1, 11), C = groups * ri(1, ri(0, 2) ? 5 : 12);
      const PadChoice pc = random_pad(k);
      const int64_t chunk_bytes = ri(0, 1) ? int64_t{512} << 20 : ri(1, 6000);
      if (dbl) lower_both<double>(N, H, W, C, k, s, pc, groups, chunk_bytes);
      else lower_both<float>(N, H, W, C, k, s, pc, groups, chunk_bytes);
    }
    // column sums (bias gradients): one pass up to 2048 rows, two above
    {
      const int64_t rows = ri(0, 3) ? ri(0, 300) : ri(2049, 4000), cols = ri(1, 3) ? ri(1, 40) : ri(41, 70);
      if (dbl) colsum_case<double>(rows, cols);
      else colsum_case<float>(rows, cols);
    }
  }
  const PadChoice same{Padding::Same, {}}, valid{Padding::Valid, {}};
  auto expl = [](int64_t t, int64_t b, int64_t l, int64_t r) { return PadChoice{Padding::Explicit, {t, b, l, r}}; };
  // depthwise edges: no image, no channel, 1x1 images, every strip K at both strides with
  // OH not a multiple of the strip height, padding past K - 1 (negative padding of the
  // flipped stride-1 dx), the models' shapes (ConvMixer 5x5 "same", C 256 channel tiles
  // with inactive threads), enough rows for several weight partial blocks, more elements
  // than the grid cap
  dw_both<float>(0, 5, 5, 3, 3, 1, same, true);
  dw_both<double>(2, 5, 5, 0, 3, 1, same, true);
  dw_both<float>(1, 1, 1, 5, 3, 1, same, true);
  dw_both<double>(2, 1, 1, 5, 9, 2, same, false);
  for (int64_t K : {3, 5, 7, 9})
    for (int64_t S : {1, 2}) {
      dw_both<float>(2, 13, 11, 37, K, S, same, true);
      dw_both<double>(1, 11 + K, 9, 33, K, Hw(S, 3 - S), valid, true);
      dw_both<float>(1, 10, 12, 7, K, S, expl(K, 0, 1, K + 1), false);
    }
  dw_both<double>(1, 6, 7, 5, 3, 1, expl(4, 5, 6, 3), true);
  dw_both<float>(2, 12, 12, 64, 5, 1, same, true);
  dw_both<float>(1, 8, 8, 70, Hw(3, 5), Hw(1, 1), same, true);
  dw_both<double>(1, 8, 9, 33, Hw(1, 7), Hw(1, 2), expl(0, 0, 3, 3), true);
  dw_both<float>(1, 9, 9, 9, 4, 1, same, true);
  dw_both<float>(1, 9, 9, 9, 3, 3, same, true);
  dw_both<double>(6, 16, 8, 40, 5, 1, same, true);  // 96 rows: 6 weight blocks
  dw_both<float>(12, 40, 3, 5, 3, 1, valid, true);  // 456 rows: 28 weight blocks
  dw_both<double>(8, 24, 5, 3, Hw(2, 3), Hw(1, 2), same, false);
  // lowering edges: the stems (ConvMixer patch 2 "valid", ShiftViT 4x4 and 2x2 "same" with
  // sizes not a multiple of the patch), explicit padding past the kernel, the involution
  // baseline's 3x3 "same", groups up to one per channel, one image a chunk
  lower_both<float>(0, 4, 4, 3, 2, 2, valid, 1, 1 << 20);
  lower_both<float>(3, 10, 10, 3, 2, 2, valid, 1, 1 << 20);
  lower_both<double>(2, 9, 11, 3, 4, 4, same, 1, 1 << 20);
  lower_both<float>(2, 7, 5, 6, 2, 2, same, 1, 1);
  lower_both<double>(2, 6, 7, 2, Hw(2, 3), Hw(2, 3), expl(3, 1, 4, 2), 1, 1);
  lower_both<float>(2, 8, 8, 4, 3, 1, same, 1, 1 << 20);
  lower_both<double>(3, 9, 7, 6, 3, 2, same, 3, 1);
  lower_both<float>(1, 6, 6, 5, 3, 1, expl(4, 0, 0, 4), 5, 1 << 20);
  lower_both<double>(2, 5, 8, 4, Hw(1, 3), Hw(3, 1), expl(1, 2, 0, 1), 2, 1);
  lower_both<float>(2, 16, 16, 3, 3, 1, same, 1, 1 << 20);  // above the grid cap
  // column sums: empty, one row, one column, exactly 2048 rows (one pass), 2049 (two)
  colsum_case<float>(0, 5);
  colsum_case<double>(1, 33);
  colsum_case<float>(7, 1);
  colsum_case<float>(2048, 3);
  colsum_case<double>(2049, 37);
  colsum_case<float>(6000, 2);
  std::printf(
      "depthwise cases %d (forward strip %d, dx flipped-strip %d, dx gather %d, dw fast %d, dw several blocks "
      "%d); lowering cases %d (patches %d, groups %d, chunked %d); column_sum cases %d (two passes %d)\n",
      n_dw, n_dw_fwd_strip, n_dw_dx_strip, n_dw_dx_gather, n_dw_w_fast, n_dw_parts, n_low, n_low_patches, n_low_groups,
      n_low_chunked, n_colsum, n_colsum_2pass);
  return finish("depthwise_conv+conv_im2col");
}
