// viz::filter_grid, depthwise_grid, heatmap, image_rgb, colormap and labelled_grid: every
// cell against a reference loop over the HWIO index, min -> 0 and max -> 255, constant and
// non-finite input, cell placement, the seeds' figures written as PNG, and errors.
#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "patchnet/viz/grid.hpp"
#include "patchnet/viz/png.hpp"
#include "patchnet/data/decode.hpp"
#include "support/temp_dir.hpp"
#include "support/test_util.hpp"

using namespace patchnet;
using namespace patchnet::viz;

namespace {
const Rgb kWhite{255, 255, 255};

std::vector<float> normal_weights(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> w(n);
  for (float& v : w) v = d(gen);
  return w;
}

// Checks every pixel of a cell_scale x cell_scale block.
void check_block(const Canvas& c, int x0, int y0, int s, Rgb expected, const std::string& what) {
  for (int y = 0; y < s; ++y)
    for (int x = 0; x < s; ++x) {
      const Rgb got = c.get(x0 + x, y0 + y);
      CHECK_MESSAGE(got == expected, what, " pixel (", x0 + x, ", ", y0 + y, "): got ", int(got.r), ",", int(got.g),
                    ",", int(got.b), " expected ", int(expected.r), ",", int(expected.g), ",", int(expected.b));
    }
}

data::DecodedImage write_and_decode(const Canvas& c, const std::string& name) {
  const test::TempDir dir("viz_grid");
  write_png(dir.file(name), c);
  return data::decode_image_file(dir.file(name));
}
}  // namespace

TEST_CASE("viz::colormap: matplotlib's viridis ends and middle, gray") {
  CHECK(colormap(Colormap::Viridis, 0.0) == Rgb{68, 1, 84});
  CHECK(colormap(Colormap::Viridis, 0.5) == Rgb{33, 145, 140});
  CHECK(colormap(Colormap::Viridis, 1.0) == Rgb{253, 231, 37});
  CHECK(colormap(Colormap::Viridis, 0.25) == Rgb{59, 82, 139});  // entry 64
  CHECK(colormap(Colormap::Viridis, -3.0) == Rgb{68, 1, 84});
  CHECK(colormap(Colormap::Viridis, NAN) == Rgb{68, 1, 84});
  CHECK(colormap(Colormap::Viridis, 7.0) == Rgb{253, 231, 37});
  CHECK(colormap(Colormap::Gray, 0.0) == Rgb{0, 0, 0});
  CHECK(colormap(Colormap::Gray, 1.0) == Rgb{255, 255, 255});
  CHECK(colormap(Colormap::Gray, 0.5) == Rgb{128, 128, 128});
  // Viridis gets lighter along its length (its defining property).
  double prev = -1;
  for (int i = 0; i <= 20; ++i) {
    const Rgb c = colormap(Colormap::Viridis, i / 20.0);
    const double luma = 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b;
    CHECK(luma > prev);
    prev = luma;
  }
}

TEST_CASE("viz::filter_grid: RGB filters from HWIO weights, normalised over all of them") {
  const int kh = 2, kw = 3, cin = 3, count = 5, cols = 2, s = 3, gap = 1;
  std::vector<double> w = [&] {
    auto f = normal_weights(static_cast<size_t>(kh) * kw * cin * count, 7);
    return std::vector<double>(f.begin(), f.end());
  }();
  // Pin the extremes: filter 4's pixel (1, 2) red is the minimum, filter 1's pixel (0, 0) blue the maximum.
  auto at = [&](int y, int x, int c, int i) -> double& { return w[((y * kw + x) * cin + c) * count + i]; };
  at(1, 2, 0, 4) = -10;
  at(0, 0, 2, 1) = 6;
  const Canvas g = filter_grid(w.data(), kh, kw, cin, count, cols, s, gap);
  // 2 columns, 3 rows of 9x6 cells with 1-pixel gaps.
  REQUIRE(g.width() == 2 * kw * s + gap);
  REQUIRE(g.height() == 3 * kh * s + 2 * gap);
  for (int i = 0; i < count; ++i)
    for (int y = 0; y < kh; ++y)
      for (int x = 0; x < kw; ++x) {
        Rgb e;
        uint8_t* ch[3] = {&e.r, &e.g, &e.b};
        for (int c = 0; c < cin; ++c) *ch[c] = static_cast<uint8_t>(std::lround((at(y, x, c, i) + 10) / 16 * 255));
        const int x0 = (i % cols) * (kw * s + gap) + x * s, y0 = (i / cols) * (kh * s + gap) + y * s;
        check_block(g, x0, y0, s, e, "filter " + std::to_string(i));
      }
  CHECK(g.get((4 % 2) * (kw * s + gap) + 2 * s, (4 / 2) * (kh * s + gap) + 1 * s).r == 0);  // the minimum
  CHECK(g.get(1 * (kw * s + gap), 0).b == 255);                                             // the maximum
  // Gaps and the unused sixth cell stay white.
  CHECK(g.get(kw * s, 0) == kWhite);
  CHECK(g.get(0, kh * s) == kWhite);
  check_block(g, kw * s + gap, 2 * (kh * s + gap), s, kWhite, "empty cell");

  // float weights give the same picture.
  const std::vector<float> wf(w.begin(), w.end());
  CHECK(filter_grid(wf.data(), kh, kw, cin, count, cols, s, gap).rgb() == g.rgb());
}

TEST_CASE("viz::filter_grid: one channel through the colormap, constant and non-finite weights") {
  // [1, 2, 1, 2]: filter 0 = {0, 1}, filter 1 = {2, 4}.
  const float w[4] = {0, 2, 1, 4};
  const Canvas g = filter_grid(w, 1, 2, 1, 2, 2, 1, 0, Colormap::Gray);
  REQUIRE(g.width() == 4);
  CHECK(g.get(0, 0) == Rgb{0, 0, 0});
  CHECK(g.get(1, 0) == colormap(Colormap::Gray, 0.25));
  CHECK(g.get(2, 0) == colormap(Colormap::Gray, 0.5));
  CHECK(g.get(3, 0) == Rgb{255, 255, 255});
  const Canvas v = filter_grid(w, 1, 2, 1, 2, 2, 1, 0);  // default: viridis
  CHECK(v.get(0, 0) == Rgb{68, 1, 84});
  CHECK(v.get(3, 0) == Rgb{253, 231, 37});
  // Per filter, as imshow shows a 2-D kernel: each filter spans the whole map.
  const Canvas p = filter_grid(w, 1, 2, 1, 2, 2, 1, 0, Colormap::Gray, Normalize::PerFilter);
  CHECK(p.get(0, 0) == Rgb{0, 0, 0});
  CHECK(p.get(1, 0) == Rgb{255, 255, 255});
  CHECK(p.get(2, 0) == Rgb{0, 0, 0});
  CHECK(p.get(3, 0) == Rgb{255, 255, 255});

  const double flat[3] = {0.3, 0.3, 0.3};
  const Canvas f = filter_grid(flat, 1, 1, 3, 1, 1, 2, 0);
  CHECK(f.get(1, 1) == Rgb{128, 128, 128});  // constant -> the middle, not NaN

  const float odd[4] = {NAN, 1, INFINITY, 3};
  const Canvas o = filter_grid(odd, 1, 1, 1, 4, 4, 1, 0, Colormap::Gray);
  CHECK(o.get(0, 0) == kNonFiniteColor);
  CHECK(o.get(1, 0) == Rgb{0, 0, 0});
  CHECK(o.get(2, 0) == kNonFiniteColor);
  CHECK(o.get(3, 0) == Rgb{255, 255, 255});
}

TEST_CASE("viz::depthwise_grid: [KH, KW, C] kernels, one picture per channel") {
  const int kh = 5, kw = 5, C = 7, cols = 3, s = 2, gap = 2;
  const std::vector<float> w = normal_weights(kh * kw * C, 3);
  const Canvas d = depthwise_grid(w.data(), kh, kw, C, cols, s, gap, Colormap::Gray);
  REQUIRE(d.width() == 3 * kw * s + 2 * gap);
  REQUIRE(d.height() == 3 * kh * s + 2 * gap);
  const float lo = *std::min_element(w.begin(), w.end()), hi = *std::max_element(w.begin(), w.end());
  for (int c = 0; c < C; ++c)
    for (int y = 0; y < kh; ++y)
      for (int x = 0; x < kw; ++x) {
        const double t = (static_cast<double>(w[(y * kw + x) * C + c]) - lo) / (hi - lo);
        check_block(d, (c % cols) * (kw * s + gap) + x * s, (c / cols) * (kh * s + gap) + y * s, s,
                    colormap(Colormap::Gray, t), "channel " + std::to_string(c));
      }
  // The same as filter_grid with one input channel.
  CHECK(depthwise_grid(w.data(), kh, kw, C, cols).rgb() == filter_grid(w.data(), kh, kw, 1, C, cols).rgb());
}

TEST_CASE("viz::heatmap: corners, constant input, non-finite values") {
  const double v[6] = {-1, 0, 1,  //
                       2,  3, 4};
  const Canvas h = heatmap(v, 2, 3, 5);
  REQUIRE(h.width() == 15);
  REQUIRE(h.height() == 10);
  check_block(h, 0, 0, 5, Rgb{68, 1, 84}, "min corner");
  check_block(h, 10, 5, 5, Rgb{253, 231, 37}, "max corner");
  check_block(h, 10, 0, 5, colormap(Colormap::Viridis, 0.4), "top right");
  check_block(h, 0, 5, 5, colormap(Colormap::Viridis, 0.6), "bottom left");
  CHECK(heatmap(v, 2, 3, 1, Colormap::Gray).get(2, 1) == Rgb{255, 255, 255});

  const float flat[4] = {2, 2, 2, 2};
  const Canvas f = heatmap(flat, 2, 2, 1);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 2; ++x) CHECK(f.get(x, y) == colormap(Colormap::Viridis, 0.5));

  const double odd[3] = {NAN, 5, -INFINITY};
  const Canvas o = heatmap(odd, 1, 3, 1, Colormap::Gray);
  CHECK(o.get(0, 0) == kNonFiniteColor);
  CHECK(o.get(1, 0) == Rgb{128, 128, 128});  // the only finite value: a constant
  CHECK(o.get(2, 0) == kNonFiniteColor);
}

TEST_CASE("viz::image_rgb: HWC bytes or [0, 1] floats, scaled") {
  const uint8_t px[2 * 3 * 3] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18};
  const Canvas c = image_rgb(px, 2, 3, 2);
  REQUIRE(c.width() == 6);
  REQUIRE(c.height() == 4);
  check_block(c, 0, 0, 2, {1, 2, 3}, "(0, 0)");
  check_block(c, 4, 0, 2, {7, 8, 9}, "(0, 2)");
  check_block(c, 2, 2, 2, {13, 14, 15}, "(1, 1)");
  const float f[3] = {0.0f, 0.5f, 2.0f};
  CHECK(image_rgb(f, 1, 1).get(0, 0) == Rgb{0, 128, 255});
}

TEST_CASE("viz::labelled_grid: titled columns, pictures enlarged to a common cell and centred") {
  const Canvas big(8, 8, {10, 10, 10}), mid(4, 4, {20, 20, 20}), odd(3, 5, {30, 30, 30});
  Canvas small(2, 2, {40, 40, 40});
  small.set(1, 1, {50, 50, 50});
  const int gap = 6;
  const Canvas g = labelled_grid({{big, mid, small}, {big, odd, small}}, {"Input", "K1", "K2"}, gap);
  // Columns: max(8, title width + gap); rows: 8 pixels; the title row: 12 + gap / 2.
  const int w0 = std::max(8, Canvas::text_width("Input") + gap), w1 = std::max(8, Canvas::text_width("K1") + gap),
            w2 = std::max(8, Canvas::text_width("K2") + gap);
  CHECK(w0 > 8);  // "Input" is wider than the pictures
  REQUIRE(g.width() == gap + w0 + gap + w1 + gap + w2 + gap);
  const int top = gap + Canvas::kLineHeight + gap / 2;
  REQUIRE(g.height() == top + 2 * (8 + gap));
  // The 2x2 picture becomes 8x8 (4x4 blocks), centred in its column.
  const int x2 = gap + w0 + gap + w1 + gap + (w2 - 8) / 2;
  check_block(g, x2, top, 4, {40, 40, 40}, "small (0, 0)");
  check_block(g, x2 + 4, top + 4, 4, {50, 50, 50}, "small (1, 1)");
  // The 4x4 picture becomes 8x8; the 3x5 one grows by 1 (5 is as tall as fits), centred.
  const int x1 = gap + w0 + gap + (w1 - 8) / 2;
  check_block(g, x1, top, 8, {20, 20, 20}, "mid");
  const int y_odd = top + 8 + gap;
  check_block(g, x1 + (8 - 3) / 2, y_odd + (8 - 5) / 2, 1, {30, 30, 30}, "odd");
  CHECK(g.get(x1, y_odd) == kWhite);
  // Titles: dark pixels above each column, none in the gaps between pictures.
  for (int c = 0; c < 3; ++c) {
    const int x0 = c == 0 ? gap : c == 1 ? gap + w0 + gap : gap + w0 + gap + w1 + gap;
    const int wc = c == 0 ? w0 : c == 1 ? w1 : w2;
    int dark = 0;
    for (int y = gap; y < gap + Canvas::kLineHeight; ++y)
      for (int x = x0; x < x0 + wc; ++x) dark += g.get(x, y) == Rgb{0, 0, 0};
    CHECK_MESSAGE(dark > 5, "title of column ", c);
  }
  // Without titles there is no title row.
  const Canvas n = labelled_grid({{big, mid}}, {}, 2);
  CHECK(n.height() == 2 + 8 + 2);
  CHECK(n.width() == 2 + 8 + 2 + 8 + 2);

  CHECK_THROWS_PN(labelled_grid({}, {"a"}), "labelled_grid: no rows");
  CHECK_THROWS_PN(labelled_grid({{big, mid}}, {"a", "b", "c"}), "labelled_grid: row 0 has 2 pictures, expected 3");
  CHECK_THROWS_PN(labelled_grid({{big, mid}, {big}}, {}), "labelled_grid: row 1 has 1 pictures, expected 2");
  CHECK_THROWS_PN(labelled_grid({{}}, {}), "labelled_grid: no columns");
  CHECK_THROWS_PN(labelled_grid({{big}}, {"a"}, -1), "labelled_grid: gap -1");
}

TEST_CASE("viz: the seeds' figures written as PNG (16x16 filters, involution kernels)") {
  // ConvMixer: the patch embedding's 256 2x2 RGB filters in a 16x16 grid.
  const std::vector<float> w = normal_weights(2 * 2 * 3 * 256, 11);
  const Canvas filters = filter_grid(w.data(), 2, 2, 3, 256, 16, 4, 1);
  CHECK(filters.width() == 16 * 8 + 15);
  const data::DecodedImage d = write_and_decode(filters, "filters.png");
  CHECK(d.width == filters.width());
  CHECK(d.height == filters.height());
  CHECK(d.pixels == filters.rgb());

  // Involution: input image and three kernel maps (32, 16, 8) per row.
  std::vector<std::vector<Canvas>> rows;
  for (int r = 0; r < 3; ++r) {
    std::vector<uint8_t> img(32 * 32 * 3);
    for (size_t i = 0; i < img.size(); ++i) img[i] = static_cast<uint8_t>(i * 7 + r * 50);
    std::vector<Canvas> row{image_rgb(img.data(), 32, 32, 2)};
    for (int n : {32, 16, 8}) {
      const std::vector<float> k = normal_weights(static_cast<size_t>(n) * n, 20 + r);
      row.push_back(heatmap(k.data(), n, n, 64 / n));
    }
    rows.push_back(row);
  }
  const Canvas fig =
      labelled_grid(rows, {"Input Image", "Involution Kernel 1", "Involution Kernel 2", "Involution Kernel 3"});
  const data::DecodedImage f = write_and_decode(fig, "involution.png");
  CHECK(f.width == fig.width());
  CHECK(f.pixels == fig.rgb());
}

TEST_CASE("viz: grids reject empty and impossible sizes") {
  const float w[12] = {};
  CHECK_THROWS_PN(filter_grid(w, 2, 2, 3, 0, 4), "filter_grid: kernel 2x2 with 0 filters");
  CHECK_THROWS_PN(filter_grid(w, 0, 2, 3, 1, 4), "filter_grid: kernel 0x2");
  CHECK_THROWS_PN(filter_grid(w, 2, 2, 2, 1, 1), "filter_grid: cin 2 must be 1 (colormap) or 3 (RGB)");
  CHECK_THROWS_PN(filter_grid(w, 2, 2, 3, 1, 0), "filter_grid: cols 0");
  CHECK_THROWS_PN(filter_grid(w, 2, 2, 3, 1, 1, 0), "filter_grid: cell_scale 0");
  CHECK_THROWS_PN(filter_grid(w, 2, 2, 3, 1, 1, 4, -1), "filter_grid: gap -1");
  CHECK_THROWS_PN(filter_grid(static_cast<const float*>(nullptr), 2, 2, 3, 1, 1), "filter_grid: null weights");
  CHECK_THROWS_PN(filter_grid(w, 1, 1, 1, 1, 1, 100000), "filter_grid: width 100000 is out of range");
  CHECK_THROWS_PN(depthwise_grid(w, 3, 3, 0, 4), "depthwise_grid: kernel 3x3 with 0 channels");
  CHECK_THROWS_PN(heatmap(w, 0, 3), "heatmap: size 0x3");
  CHECK_THROWS_PN(heatmap(w, 3, 4, 0), "heatmap: cell_scale 0");
  CHECK_THROWS_PN(heatmap(static_cast<const double*>(nullptr), 1, 1), "heatmap: null values");
  const uint8_t px[3] = {};
  CHECK_THROWS_PN(image_rgb(px, 1, 0), "image_rgb: size 1x0");
  CHECK_THROWS_PN(image_rgb(px, 1, 1, 0), "image_rgb: scale 0");
  CHECK_THROWS_PN(image_rgb(static_cast<const uint8_t*>(nullptr), 1, 1), "image_rgb: null pixels");
}
