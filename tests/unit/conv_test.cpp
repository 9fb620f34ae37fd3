// conv2d (each dispatch path), depthwise_conv2d and pointwise_conv2d: forward and backward
// against a plain 7-loop convolution in double, float against double, TensorFlow "same"
// geometry, chunked lowering, determinism, and errors.
#include <string>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "patchnet/ops/conv.hpp"
#include "support/test_util.hpp"

using namespace patchnet;
using detail::Conv2dPath;
using patchnet::test::check_close;

namespace {

// TensorFlow's padding, written out independently of ops/geometry.hpp.
Pad2d resolve_padding(const Shape& x, const Shape& w, const Conv2dOptions& o) {
  if (o.padding == Padding::Explicit) return o.pad;
  if (o.padding == Padding::Valid) return {};
  auto split = [](int64_t in, int64_t k, int64_t s) {
    const int64_t out = (in + s - 1) / s, total = std::max<int64_t>((out - 1) * s + k - in, 0);
    return std::pair<int64_t, int64_t>{total / 2, total - total / 2};
  };
  const auto [t, b] = split(x[1], w[0], o.stride.h);
  const auto [l, r] = split(x[2], w[1], o.stride.w);
  return {t, b, l, r};
}

struct RefConv {
  Shape xs, ws;
  Hw s;
  Pad2d p;
  int64_t groups, OH, OW;

  RefConv(const Shape& x, const Shape& w, const Conv2dOptions& o) : xs(x), ws(w), s(o.stride), groups(o.groups) {
    p = resolve_padding(x, w, o);
    OH = (x[1] + p.top + p.bottom - w[0]) / s.h + 1;
    OW = (x[2] + p.left + p.right - w[1]) / s.w + 1;
  }
  // Calls f(x index, w index, y index) for every multiply-add of the convolution.
  template <class F>
  void each_mac(F f) const {
    const int64_t N = xs[0], H = xs[1], W = xs[2], C = xs[3], KH = ws[0], KW = ws[1], Cg = ws[2], Cout = ws[3];
    for (int64_t n = 0; n < N; ++n)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow)
          for (int64_t co = 0; co < Cout; ++co) {
            const int64_t gi = co / (Cout / groups), yi = ((n * OH + oh) * OW + ow) * Cout + co;
            for (int64_t kh = 0; kh < KH; ++kh)
              for (int64_t kw = 0; kw < KW; ++kw)
                for (int64_t ci = 0; ci < Cg; ++ci) {
                  const int64_t ih = oh * s.h - p.top + kh, iw = ow * s.w - p.left + kw;
                  if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                  f(((n * H + ih) * W + iw) * C + gi * Cg + ci, ((kh * KW + kw) * Cg + ci) * Cout + co, yi);
                }
          }
  }
  Shape out_shape() const { return {xs[0], OH, OW, ws[3]}; }

  Tensor<double> forward(const Tensor<double>& x, const Tensor<double>& w, const Tensor<double>& b) const {
    const auto xv = x.to_vector(), wv = w.to_vector();
    std::vector<double> y(static_cast<size_t>(out_shape().numel()), 0.0);
    if (b.defined()) {
      const auto bv = b.to_vector();
      for (size_t i = 0; i < y.size(); ++i) y[i] = bv[i % bv.size()];
    }
    each_mac([&](int64_t xi, int64_t wi, int64_t yi) { y[yi] += xv[xi] * wv[wi]; });
    return Tensor<double>::from_vector(y, out_shape());
  }
  // dx, dw, db for the output gradient dy.
  std::vector<Tensor<double>> backward(const Tensor<double>& x, const Tensor<double>& w,
                                       const Tensor<double>& dy) const {
    const auto xv = x.to_vector(), wv = w.to_vector(), dv = dy.to_vector();
    std::vector<double> dx(xv.size(), 0.0), dw(wv.size(), 0.0), db(static_cast<size_t>(ws[3]), 0.0);
    each_mac([&](int64_t xi, int64_t wi, int64_t yi) {
      dx[xi] += dv[yi] * wv[wi];
      dw[wi] += dv[yi] * xv[xi];
    });
    for (size_t i = 0; i < dv.size(); ++i) db[i % db.size()] += dv[i];
    return {Tensor<double>::from_vector(dx, xs), Tensor<double>::from_vector(dw, ws),
            Tensor<double>::from_vector(db, {ws[3]})};
  }
};

struct Config {
  std::string label;
  Shape x, w;
  Conv2dOptions opt;
  Conv2dPath path;
};

const std::vector<Config>& configs() {
  static const std::vector<Config> c = {
      {"pointwise 3x9x11x13 -> 17", {3, 9, 11, 13}, {1, 1, 13, 17}, {}, Conv2dPath::Pointwise},
      {"pointwise, 'same' 1x1", {2, 7, 5, 9}, {1, 1, 9, 6}, {.padding = Padding::Same}, Conv2dPath::Pointwise},
      {"depthwise 5x5 same, 19 channels",
       {2, 13, 11, 19},
       {5, 5, 1, 19},
       {.padding = Padding::Same, .groups = 19},
       Conv2dPath::Depthwise},
      {"depthwise 3x3 valid stride 2, 40 channels",
       {2, 12, 9, 40},
       {3, 3, 1, 40},
       {.stride = 2, .groups = 40},
       Conv2dPath::Depthwise},
      {"patches 4x4 stride 4 same (ShiftViT projection)",
       {3, 12, 12, 3},
       {4, 4, 3, 11},
       {.stride = 4, .padding = Padding::Same},
       Conv2dPath::Patches},
      {"patches 2x2 stride 2 same on 9x9 (merge)",
       {4, 9, 9, 7},
       {2, 2, 7, 13},
       {.stride = 2, .padding = Padding::Same},
       Conv2dPath::Patches},
      {"patches 2x2 stride 2 valid on 11x13 (ConvMixer stem)",
       {2, 11, 13, 3},
       {2, 2, 3, 8},
       {.stride = 2},
       Conv2dPath::Patches},
      {"patches 3x2 stride (3,2) explicit pad",
       {2, 8, 7, 4},
       {3, 2, 4, 5},
       {.stride = Hw(3, 2), .padding = Padding::Explicit, .pad = {2, 0, 1, 1}},
       Conv2dPath::Patches},
      {"im2col 3x3 same 6 -> 8", {2, 13, 11, 6}, {3, 3, 6, 8}, {.padding = Padding::Same}, Conv2dPath::Im2col},
      {"im2col 3x3 same stride 2 groups 2",
       {2, 13, 11, 6},
       {3, 3, 3, 8},
       {.stride = 2, .padding = Padding::Same, .groups = 2},
       Conv2dPath::Im2col},
      {"im2col 3x3 valid groups 3", {1, 8, 8, 6}, {3, 3, 2, 9}, {.groups = 3}, Conv2dPath::Im2col},
      {"im2col 2x3 explicit pad stride (1,2)",
       {2, 10, 9, 5},
       {2, 3, 5, 7},
       {.stride = Hw(1, 2), .padding = Padding::Explicit, .pad = {1, 2, 0, 1}},
       Conv2dPath::Im2col},
      {"im2col channel multiplier 2 (groups = Cin, Cout = 2 Cin)",
       {1, 7, 7, 4},
       {3, 3, 1, 8},
       {.padding = Padding::Same, .groups = 4},
       Conv2dPath::Im2col},
      {"im2col 1x1 stride 2", {2, 9, 7, 5}, {1, 1, 5, 3}, {.stride = 2}, Conv2dPath::Im2col},
  };
  return c;
}

template <class T>
Tensor<T> grad_input(const Shape& s, const std::string& name) {
  return test::uniform<T>(s, test::seed_of(name)).set_requires_grad();
}

}  // namespace

TEST_CASE("conv2d: every dispatch path matches a 7-loop reference, forward and backward") {
  for (const Config& c : configs()) {
    INFO(c.label);
    CHECK(detail::conv2d_plan(c.x, c.w, c.opt).path == c.path);
    auto x = grad_input<double>(c.x, c.label + "x"), w = grad_input<double>(c.w, c.label + "w");
    auto b = grad_input<double>({c.w[3]}, c.label + "b");
    const RefConv ref(c.x, c.w, c.opt);
    auto y = conv2d(x, w, b, c.opt);
    check_close(y, ref.forward(x, w, b), 1e-12, 1e-12, c.label + " forward");
    if (c.path == Conv2dPath::Pointwise) CHECK(y.grad_fn()->name() == "pointwise_conv2d");
    if (c.path == Conv2dPath::Depthwise) CHECK(y.grad_fn()->name() == "depthwise_conv2d");
    if (c.path == Conv2dPath::Patches || c.path == Conv2dPath::Im2col) CHECK(y.grad_fn()->name() == "conv2d");
    auto dy = test::uniform<double>(y.shape(), test::seed_of(c.label + "dy"));
    y.backward(dy);
    const auto g = ref.backward(x, w, dy);
    check_close(x.grad(), g[0], 1e-12, 1e-12, c.label + " dx");
    check_close(w.grad(), g[1], 1e-12, 1e-12, c.label + " dw");
    check_close(b.grad(), g[2], 1e-12, 1e-12, c.label + " db");
    check_close(conv2d(x, w, Tensor<double>(), c.opt), ref.forward(x, w, Tensor<double>()), 1e-12, 1e-12,
                c.label + " no bias");
  }
}

TEST_CASE("conv2d: float matches double on every path") {
  for (const Config& c : configs()) {
    auto x = test::uniform<double>(c.x, 1), w = test::uniform<double>(c.w, 2), b = test::uniform<double>({c.w[3]}, 3);
    check_close(conv2d(to_dtype<float>(x), to_dtype<float>(w), to_dtype<float>(b), c.opt), conv2d(x, w, b, c.opt), 1e-5,
                1e-5, c.label);
  }
}

TEST_CASE("conv2d: TensorFlow 'same' pads the odd pixel at the bottom and right") {
  // 3x3 input, 2x2 kernel, stride 2: out 2x2, total padding 1 -> top/left 0, bottom/right 1.
  const Window2d g = window2d("t", Shape{1, 3, 3, 1}, 2, 2, Padding::Same);
  CHECK(g.OH == 2);
  CHECK(g.OW == 2);
  CHECK(g.pad.top == 0);
  CHECK(g.pad.bottom == 1);
  CHECK(g.pad.left == 0);
  CHECK(g.pad.right == 1);
  // x = 0..8 row-major, all-ones kernel: window sums [[0+1+3+4, 2+5], [6+7, 8]].
  auto x = reshape(Tensor<double>::arange(9), {1, 3, 3, 1});
  auto y = conv2d(x, Tensor<double>::ones({2, 2, 1, 1}), {}, {.stride = 2, .padding = Padding::Same});
  check_close(y, Tensor<double>::from_vector({8, 7, 13, 8}, {1, 2, 2, 1}), "conv2d patches path");
  auto yd = depthwise_conv2d(x, Tensor<double>::ones({2, 2, 1}), {}, {.stride = 2, .padding = Padding::Same});
  check_close(yd, Tensor<double>::from_vector({8, 7, 13, 8}, {1, 2, 2, 1}), "depthwise_conv2d");
  // 3x3 kernel, stride 1 on 4 columns: pad 1 / 1; 2x2 kernel stride 1: pad 0 / 1.
  auto y3 = conv2d(reshape(Tensor<double>::arange(4), {1, 1, 4, 1}), Tensor<double>::ones({1, 2, 1, 1}), {},
                   {.padding = Padding::Same});
  check_close(y3, Tensor<double>::from_vector({1, 3, 5, 3}, {1, 1, 4, 1}), "2-wide kernel, stride 1");
}

TEST_CASE("conv2d: lowering one image per chunk gives the single-chunk result") {
  for (const Config& c : configs()) {
    if (c.path != Conv2dPath::Patches && c.path != Conv2dPath::Im2col) continue;
    INFO(c.label);
    const auto plan = detail::conv2d_plan(c.x, c.w, c.opt);
    const cpu::LoweredConv2d p = plan.lowered();
    auto x = test::uniform<double>(c.x, 4), w = test::uniform<double>(c.w, 5), b = test::uniform<double>({c.w[3]}, 6);
    auto y = Tensor<double>::empty({plan.g.N, plan.g.OH, plan.g.OW, plan.cout});
    std::vector<double> cols(static_cast<size_t>(cpu::conv2d_workspace_elems(p, 1)));
    cpu::conv2d_lowered_forward(x.data(), w.data(), b.data(), y.data(), p, 1, cols.data());
    const RefConv ref(c.x, c.w, c.opt);
    check_close(y, ref.forward(x, w, b), 1e-12, 1e-12, "forward");
    auto dy = test::uniform<double>(y.shape(), 7);
    auto dx = Tensor<double>::empty(c.x), dw = Tensor<double>::empty(c.w);
    cpu::conv2d_lowered_backward(x.data(), w.data(), dy.data(), dx.data(), dw.data(), p, 1, cols.data());
    const auto g = ref.backward(x, w, dy);
    check_close(dx, g[0], 1e-12, 1e-12, "dx");
    check_close(dw, g[1], 1e-12, 1e-12, "dw");
  }
  // The chunk size stays within the budget, and at least one image.
  const auto plan = detail::conv2d_plan(Shape{256, 32, 32, 3}, Shape{3, 3, 3, 32}, {.padding = Padding::Same});
  const cpu::LoweredConv2d p = plan.lowered();
  CHECK(cpu::conv2d_images_per_chunk(p, 4, 1 << 20) == 9);  // 1 MiB / (1024 rows x 27 x 4 B)
  CHECK(cpu::conv2d_images_per_chunk(p, 4, 10) == 1);
  const int64_t chunk = cpu::conv2d_images_per_chunk(p, 4);
  CHECK(chunk >= 1);
  CHECK(cpu::conv2d_workspace_elems(p, chunk) * 4 <= cpu::kChunkBytes);
  CHECK(cpu::conv2d_images_per_chunk(p, 4, int64_t{1} << 40) == 256);  // never more than the batch
}

TEST_CASE("depthwise_conv2d: matches a 7-loop reference, forward and backward") {
  struct Case {
    std::string label;
    Shape x;
    Hw k;
    Conv2dOptions opt;
  };
  const std::vector<Case> cases = {
      {"5x5 same, 64 channels (ConvMixer-like)", {2, 8, 8, 64}, 5, {.padding = Padding::Same}},
      {"3x3 same, 37 channels", {3, 9, 7, 37}, 3, {.padding = Padding::Same}},
      {"5x5 valid, 5 channels", {2, 9, 11, 5}, 5, {}},
      {"3x3 same stride 2, 21 channels", {2, 10, 9, 21}, 3, {.stride = 2, .padding = Padding::Same}},
      {"5x5 same stride 2, 7 channels", {1, 9, 12, 7}, 5, {.stride = 2, .padding = Padding::Same}},
      // 32 doubles / 64 floats are 256 bytes: the padded copy skews its pixels and rows.
      {"3x3 same stride 2, 32 channels", {2, 7, 10, 32}, 3, {.stride = 2, .padding = Padding::Same}},
      {"3x5 same, 128 channels", {2, 5, 6, 128}, Hw(3, 5), {.padding = Padding::Same}},
      {"3x2 explicit pad larger than the kernel",
       {2, 6, 7, 33},
       Hw(3, 2),
       {.padding = Padding::Explicit, .pad = {3, 1, 0, 4}}},
      {"7x7 same, groups = C accepted", {1, 9, 9, 16}, 7, {.padding = Padding::Same, .groups = 16}},
  };
  for (const Case& c : cases) {
    INFO(c.label);
    const int64_t C = c.x[3];
    auto x = grad_input<double>(c.x, c.label + "x"), w = grad_input<double>({c.k.h, c.k.w, C}, c.label + "w");
    auto b = grad_input<double>({C}, c.label + "b");
    Conv2dOptions ro = c.opt;
    ro.groups = C;
    const RefConv ref(c.x, {c.k.h, c.k.w, 1, C}, ro);
    const Tensor<double> w4 = reshape(w.detach(), {c.k.h, c.k.w, 1, C});
    auto y = depthwise_conv2d(x, w, b, c.opt);
    check_close(y, ref.forward(x, w4, b), 1e-12, 1e-12, "forward");
    auto dy = test::uniform<double>(y.shape(), test::seed_of(c.label + "dy"));
    y.backward(dy);
    const auto g = ref.backward(x, w4, dy);
    check_close(x.grad(), g[0], 1e-12, 1e-12, "dx");
    check_close(w.grad(), reshape(g[1], w.shape()), 1e-12, 1e-12, "dw");
    check_close(b.grad(), g[2], 1e-12, 1e-12, "db");
    auto xf = to_dtype<float>(x.detach()), wf = to_dtype<float>(w.detach());
    xf.set_requires_grad();
    wf.set_requires_grad();
    auto yf = depthwise_conv2d(xf, wf, to_dtype<float>(b), c.opt);
    check_close(yf, y, 1e-5, 1e-5, "float vs double");
    yf.backward(to_dtype<float>(dy));
    check_close(xf.grad(), g[0], 1e-5, 1e-5, "float dx");
    check_close(wf.grad(), reshape(g[1], w.shape()), 1e-4, 1e-4, "float dw");
  }
}

TEST_CASE("depthwise_conv2d: gradients are bitwise the same with one thread and with all") {
  auto x = grad_input<float>({6, 16, 16, 96}, "x"), w = grad_input<float>({5, 5, 96}, "w");
  auto b = grad_input<float>({96}, "b");
  auto dy = test::uniform<float>({6, 16, 16, 96}, 9);
  auto run = [&] {
    x.zero_grad();
    w.zero_grad();
    b.zero_grad();
    depthwise_conv2d(x, w, b, {.padding = Padding::Same}).backward(dy);
    return std::vector<std::vector<float>>{x.grad().to_vector(), w.grad().to_vector(), b.grad().to_vector()};
  };
  const auto all = run();
#ifdef _OPENMP
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const auto one = run();
  omp_set_num_threads(threads);
  CHECK(one == all);
#endif
  CHECK(run() == all);
}

TEST_CASE("conv2d: backward is bitwise repeatable on the GEMM paths") {
  for (const Config& c : configs()) {
    if (c.path != Conv2dPath::Patches && c.path != Conv2dPath::Im2col) continue;
    auto x = grad_input<float>(c.x, "x"), w = grad_input<float>(c.w, "w"), b = grad_input<float>({c.w[3]}, "b");
    auto run = [&] {
      x.zero_grad();
      w.zero_grad();
      b.zero_grad();
      auto y = conv2d(x, w, b, c.opt);
      y.backward(Tensor<float>::ones(y.shape()));
      return std::vector<std::vector<float>>{x.grad().to_vector(), w.grad().to_vector(), b.grad().to_vector()};
    };
    CHECK_MESSAGE(run() == run(), c.label);
  }
}

TEST_CASE("pointwise_conv2d: matches a reference loop, and conv2d 1x1") {
  auto x = test::uniform<double>({2, 5, 7, 11}, 1), w = test::uniform<double>({11, 6}, 2);
  auto b = test::uniform<double>({6}, 3);
  const RefConv ref(x.shape(), {1, 1, 11, 6}, {});
  const Tensor<double> w4 = reshape(w, {1, 1, 11, 6});
  check_close(pointwise_conv2d(x, w, b), ref.forward(x, w4, b), 1e-12, 1e-12, "with bias");
  check_close(pointwise_conv2d(x, w), ref.forward(x, w4, Tensor<double>()), 1e-12, 1e-12, "no bias");
  check_close(conv2d(x, w4, b), pointwise_conv2d(x, w, b), 1e-12, 1e-12, "conv2d 1x1");
  check_close(pointwise_conv2d(to_dtype<float>(x), to_dtype<float>(w), to_dtype<float>(b)), pointwise_conv2d(x, w, b),
              1e-5, 1e-5, "float vs double");
}

TEST_CASE("conv2d: bad inputs throw naming the op and the shapes") {
  auto x = Tensor<float>::zeros({1, 5, 5, 4}), w = Tensor<float>::zeros({3, 3, 4, 6});
  CHECK_THROWS_PN(conv2d(Tensor<float>::zeros({5, 5, 4}), w), "conv2d: input [5,5,4] must be NHWC (rank 4)");
  CHECK_THROWS_PN(conv2d(x, Tensor<float>::zeros({3, 3, 4})), "conv2d: weight [3,3,4] must be HWIO");
  CHECK_THROWS_PN(conv2d(x, Tensor<float>::zeros({3, 3, 3, 6})),
                  "conv2d: input [1,5,5,4] vs weight [3,3,3,6]: input has 4 channels but the weight expects 3");
  CHECK_THROWS_PN(conv2d(x, Tensor<float>::zeros({3, 3, 2, 5}), {}, {.groups = 2}),
                  "conv2d: weight [3,3,2,5] has 5 output channels, not divisible by groups 2");
  CHECK_THROWS_PN(conv2d(x, w, {}, {.groups = 3}), "conv2d: input [1,5,5,4] has 4 channels, not divisible by groups 3");
  CHECK_THROWS_PN(conv2d(x, w, {}, {.groups = 0}), "conv2d: groups 0 must be positive");
  CHECK_THROWS_PN(conv2d(x, w, {}, {.stride = 0}), "conv2d: stride 0x0 must be positive");
  CHECK_THROWS_PN(conv2d(x, w, {}, {.stride = Hw(1, -2)}), "conv2d: stride 1x-2 must be positive");
  CHECK_THROWS_PN(conv2d(x, Tensor<float>::zeros({6, 3, 4, 6})),
                  "conv2d: kernel 6x3 is larger than the \"valid\" input 5x5");
  CHECK_THROWS_PN(conv2d(x, w, {}, {.padding = Padding::Explicit, .pad = {-1, 0, 0, 0}}), "conv2d: negative padding");
  CHECK_THROWS_PN(conv2d(x, w, Tensor<float>::zeros({4})), "conv2d: bias [4] does not match weight [3,3,4,6]");
  CHECK_THROWS_PN(conv2d(x, w, Tensor<float>::zeros({1, 6})), "conv2d: bias [1,6]");
  CHECK_THROWS_PN(conv2d(Tensor<float>(), w), "conv2d: input and weight must be defined");
}

TEST_CASE("depthwise_conv2d, pointwise_conv2d: bad inputs throw naming the op and the shapes") {
  auto x = Tensor<float>::zeros({8, 7, 7, 16});
  CHECK_THROWS_PN(depthwise_conv2d(x, Tensor<float>::zeros({5, 5, 8})),
                  "depthwise_conv2d: input [8,7,7,16] vs weight [5,5,8]: channels differ");
  CHECK_THROWS_PN(depthwise_conv2d(x, Tensor<float>::zeros({5, 5, 1, 16})),
                  "depthwise_conv2d: weight [5,5,1,16] must be [KH,KW,C] (rank 3)");
  CHECK_THROWS_PN(depthwise_conv2d(Tensor<float>::zeros({7, 7, 16}), Tensor<float>::zeros({5, 5, 16})),
                  "depthwise_conv2d: input [7,7,16] must be NHWC");
  CHECK_THROWS_PN(depthwise_conv2d(x, Tensor<float>::zeros({9, 3, 16})),
                  "depthwise_conv2d: kernel 9x3 is larger than the \"valid\" input 7x7");
  CHECK_THROWS_PN(depthwise_conv2d(x, Tensor<float>::zeros({3, 3, 16}), {}, {.stride = 0}),
                  "depthwise_conv2d: stride 0x0 must be positive");
  CHECK_THROWS_PN(depthwise_conv2d(x, Tensor<float>::zeros({3, 3, 16}), {}, {.groups = 4}),
                  "depthwise_conv2d: groups 4 must be 1 or the channel count 16");
  CHECK_THROWS_PN(depthwise_conv2d(x, Tensor<float>::zeros({3, 3, 16}), Tensor<float>::zeros({8})),
                  "depthwise_conv2d: bias [8] does not match weight [3,3,16]");
  CHECK_THROWS_PN(pointwise_conv2d(x, Tensor<float>::zeros({8, 4})),
                  "pointwise_conv2d: input [8,7,7,16] vs weight [8,4]: input has 16 channels but the weight expects 8");
  CHECK_THROWS_PN(pointwise_conv2d(x, Tensor<float>::zeros({1, 1, 16, 4})),
                  "pointwise_conv2d: weight [1,1,16,4] must be [Cin,Cout] (rank 2)");
  CHECK_THROWS_PN(pointwise_conv2d(Tensor<float>::zeros({7, 16}), Tensor<float>::zeros({16, 4})),
                  "pointwise_conv2d: input [7,16] must be NHWC");
  CHECK_THROWS_PN(pointwise_conv2d(x, Tensor<float>::zeros({16, 4}), Tensor<float>::zeros({16})),
                  "pointwise_conv2d: bias [16] does not match weight [16,4]");
}
