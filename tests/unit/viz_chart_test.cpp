// viz::line_chart, nice_ticks, tick_label and side_by_side: tick values, curves drawn in
// their colours inside the plot and the right way up, legend and title text, NaN/inf,
// constant and single-point series, the written PNG, and errors.
#include <cmath>
#include <string>
#include <vector>

#include "patchnet/viz/line_chart.hpp"
#include "patchnet/viz/png.hpp"
#include "patchnet/data/decode.hpp"
#include "support/temp_dir.hpp"
#include "support/test_util.hpp"

using namespace patchnet;
using namespace patchnet::viz;

namespace {
const Rgb kInk{0, 0, 0};

struct Stats {
  int count = 0;
  double mean_x = 0, mean_y = 0;
  int x0 = 1 << 30, x1 = -1, y0 = 1 << 30, y1 = -1;
};
// Pixels of one colour within columns [xa, xb).
Stats stats(const Canvas& c, Rgb color, int xa = 0, int xb = 1 << 30) {
  Stats s;
  for (int y = 0; y < c.height(); ++y)
    for (int x = std::max(0, xa); x < std::min(c.width(), xb); ++x)
      if (c.get(x, y) == color) {
        ++s.count;
        s.mean_x += x;
        s.mean_y += y;
        s.x0 = std::min(s.x0, x);
        s.x1 = std::max(s.x1, x);
        s.y0 = std::min(s.y0, y);
        s.y1 = std::max(s.y1, y);
      }
  if (s.count) s.mean_x /= s.count, s.mean_y /= s.count;
  return s;
}

std::vector<double> epochs_curve(int n, double a, double b) {
  std::vector<double> v;
  for (int e = 1; e <= n; ++e) v.push_back(a + b * std::exp(-0.3 * e));
  return v;
}

bool is_nice(double step) {
  const double m = step / std::pow(10.0, std::floor(std::log10(step)));
  return std::abs(m - 1) < 1e-9 || std::abs(m - 2) < 1e-9 || std::abs(m - 5) < 1e-9 || std::abs(m - 10) < 1e-9;
}
}  // namespace

TEST_CASE("viz::nice_ticks: 1/2/5 steps covering the data, multiples of the step") {
  Ticks t = nice_ticks(0, 1);
  CHECK(t.step == doctest::Approx(0.2));
  CHECK(t.lo == 0);
  CHECK(t.hi == doctest::Approx(1));
  REQUIRE(t.values.size() == 6);
  CHECK(t.values[3] == doctest::Approx(0.6));

  t = nice_ticks(0.13, 0.87);
  CHECK(t.step == doctest::Approx(0.1));
  CHECK(t.lo == doctest::Approx(0.1));
  CHECK(t.hi == doctest::Approx(0.9));
  CHECK(t.values.size() == 9);

  t = nice_ticks(1, 100, 6, 1.0);  // 100 epochs
  CHECK(t.step == 20);
  CHECK(t.lo == 0);
  CHECK(t.hi == 100);

  t = nice_ticks(1, 3, 6, 1.0);  // 3 epochs: no ticks at 1.5
  CHECK(t.step == 1);
  CHECK(t.values == std::vector<double>{1, 2, 3});

  t = nice_ticks(-2.5e-4, 7.1e-3);
  CHECK(t.step == doctest::Approx(1e-3));
  CHECK(t.lo == doctest::Approx(-1e-3));
  CHECK(t.hi == doctest::Approx(8e-3));

  // Many ranges: every tick a multiple of a nice step, the range covering the data.
  for (double lo : {-1234.5, -3.0, -0.02, 0.0, 1e-6, 0.7, 42.0, 9.9e5})
    for (double span : {1e-5, 0.03, 1.0, 7.5, 333.0, 1e6}) {
      const double hi = lo + span;
      t = nice_ticks(lo, hi);
      CAPTURE(lo);
      CAPTURE(span);
      CHECK(is_nice(t.step));
      CHECK(t.lo <= lo + 1e-9 * t.step);  // up to rounding of lo / step
      CHECK(t.hi >= hi - 1e-9 * t.step);
      CHECK(t.values.size() >= 3);
      CHECK(t.values.size() <= 15);
      for (double v : t.values) CHECK(std::abs(v / t.step - std::round(v / t.step)) < 1e-6);
    }
}

TEST_CASE("viz::nice_ticks: empty ranges are widened, never NaN") {
  Ticks t = nice_ticks(0.5, 0.5);
  CHECK(t.lo < 0.5);
  CHECK(t.hi > 0.5);
  CHECK(std::isfinite(t.step));
  CHECK(t.step > 0);
  t = nice_ticks(0, 0);
  CHECK(t.lo == -1);
  CHECK(t.hi == 1);
  t = nice_ticks(3, 3, 6, 1.0);  // one epoch
  CHECK(t.step == 1);
  CHECK(t.lo == 2);
  CHECK(t.hi == 4);
  t = nice_ticks(-1e15, -1e15);
  CHECK(t.lo < -1e15);
  CHECK(t.hi > -1e15);

  CHECK_THROWS_PN(nice_ticks(1, 0), "nice_ticks: range [1, 0]");
  CHECK_THROWS_PN(nice_ticks(0, INFINITY), "must be finite");
  CHECK_THROWS_PN(nice_ticks(0, 1, 0), "nice_ticks: target 0");
}

TEST_CASE("viz::tick_label: the decimals the step needs") {
  CHECK(tick_label(0.2, 0.2) == "0.2");
  CHECK(tick_label(0.25, 0.05) == "0.25");
  CHECK(tick_label(20, 10) == "20");
  CHECK(tick_label(3, 1) == "3");
  CHECK(tick_label(-0.0, 0.1) == "0.0");
  CHECK(tick_label(-1e-17, 0.1) == "0.0");
  CHECK(tick_label(-0.4, 0.2) == "-0.4");
  CHECK(tick_label(2e7, 5e6) == "2.0e+07");
  CHECK(tick_label(3e-6, 1e-6) == "3e-06");
}

TEST_CASE("viz::line_chart: two curves in their colours, the right way up, with legend and title") {
  // Loss falls, accuracy-like curve rises; default colours are tab10's blue and orange.
  const std::vector<double> falling = epochs_curve(12, 0.3, 2.0), rising = epochs_curve(12, 1.0, -0.9);
  const Canvas c = line_chart("Model loss", "epoch", "loss", {{"train", falling}, {"val", rising}});
  CHECK(c.width() == 640);
  CHECK(c.height() == 400);
  const Stats blue = stats(c, kPalette[0]), orange = stats(c, kPalette[1]);
  REQUIRE(blue.count > 300);
  REQUIRE(orange.count > 300);
  // Both curves span most of the width, inside the canvas margins.
  CHECK(blue.x0 > 30);
  CHECK(blue.x1 < 630);
  CHECK(blue.x1 - blue.x0 > 450);
  CHECK(blue.y0 > 30);
  CHECK(blue.y1 < 370);
  // The falling curve is high (small y) on the left and low on the right; the rising one not.
  const Stats blue_left = stats(c, kPalette[0], 0, 200), blue_right = stats(c, kPalette[0], 450, 560);
  const Stats orange_left = stats(c, kPalette[1], 0, 200), orange_right = stats(c, kPalette[1], 450, 560);
  CHECK(blue_left.mean_y < blue_right.mean_y - 50);
  CHECK(orange_left.mean_y > orange_right.mean_y + 50);

  // Title text: dark pixels in the top band, centred.
  const Stats title = [&] {
    Canvas top(c.width(), 34);
    top.blit(c, 0, 0);
    return stats(top, kInk);
  }();
  CHECK(title.count > 50);
  CHECK(std::abs((title.x0 + title.x1) / 2 - 330) < 40);

  // The legend: drawing without names removes the legend's text and swatches only.
  const Canvas bare = line_chart("Model loss", "epoch", "loss", {{"", falling}, {"", rising}});
  int ink_diff = 0, blue_diff = 0, orange_diff = 0;
  for (int y = 0; y < c.height(); ++y)
    for (int x = 0; x < c.width(); ++x)
      if (!(c.get(x, y) == bare.get(x, y))) {
        ink_diff += c.get(x, y) == kInk;
        blue_diff += c.get(x, y) == kPalette[0];
        orange_diff += c.get(x, y) == kPalette[1];
      }
  CHECK(ink_diff > 20);   // "train", "val"
  CHECK(blue_diff > 20);  // the swatches
  CHECK(orange_diff > 20);
}

TEST_CASE("viz::line_chart: explicit colours and x values, few points marked") {
  const Rgb red{200, 0, 0};
  const Canvas c = line_chart("", "", "", {{"a", {1, 4, 9}, {0.5, 1.0, 1.5}, red}}, 300, 200);
  CHECK(c.width() == 300);
  CHECK(stats(c, kPalette[0]).count == 0);
  const Stats s = stats(c, red);
  CHECK(s.count > 100);
  // Three points: the markers (radius 3) make the curve 7 pixels tall at the first point,
  // whose centre is 3 pixels right of the disc's left edge (the legend is to the right).
  CHECK(stats(c, red, s.x0 + 3, s.x0 + 4).count >= 7);
}

TEST_CASE("viz::line_chart: NaN and inf are skipped, constant, single-point and empty series plot") {
  std::vector<double> y = epochs_curve(30, 0.1, 1.0);
  y[10] = NAN;
  y[20] = INFINITY;
  y[25] = -1e305;  // beyond +-1e300: skipped too, so it cannot squash the axis
  const Canvas c = line_chart("nan", "epoch", "loss", {{"train", y}});
  const Stats s = stats(c, kPalette[0]);
  CHECK(s.count > 200);
  CHECK(s.y1 - s.y0 > 150);  // the axis still spans the finite values

  const Canvas k = line_chart("constant", "epoch", "acc", {{"", {0.5, 0.5, 0.5, 0.5}}});  // no legend
  const Stats ks = stats(k, kPalette[0]);
  CHECK(ks.count > 100);
  // A flat line (2 pixels thick, markers 7 tall) in the vertical middle of the plot area.
  CHECK(ks.y1 - ks.y0 <= 8);
  CHECK(std::abs((ks.y0 + ks.y1) / 2 - 200) < 30);

  const Canvas one = line_chart("one", "epoch", "loss", {{"only", {2.5}}});
  const Stats os = stats(one, kPalette[0]);
  CHECK(os.count >= 25);  // the marker disc, plus the legend swatch
  const Canvas lone = line_chart("lone", "", "", {{"", {NAN, 1.0, NAN, 2.0, NAN}}});
  CHECK(stats(lone, kPalette[0]).count >= 2 * 25);  // two isolated points, both marked

  CHECK_NOTHROW(line_chart("nothing finite", "", "", {{"a", {NAN, INFINITY}}, {"b", {}}}));
}

TEST_CASE("viz::line_chart: the written PNG decodes to the chart") {
  const test::TempDir dir("viz_chart");
  const Canvas loss = line_chart("Model loss", "epoch", "loss",
                                 {{"train", epochs_curve(20, 0.3, 2)}, {"val", epochs_curve(20, 0.5, 2)}});
  const Canvas acc = line_chart("Model accuracy", "epoch", "accuracy",
                                {{"train", epochs_curve(20, 1, -0.9)}, {"val", epochs_curve(20, 0.9, -0.9)}});
  const Canvas both = side_by_side({loss, acc});
  const std::string file = dir.file("history.png");
  write_png(file, both);
  const data::DecodedImage img = data::decode_image_file(file);
  CHECK(img.width == 640 + 10 + 640);
  CHECK(img.height == 400);
  CHECK(img.pixels == both.rgb());
}

TEST_CASE("viz::side_by_side: left to right, top-aligned, gap apart") {
  const Canvas a(3, 5, {1, 1, 1}), b(4, 2, {2, 2, 2});
  const Canvas s = side_by_side({a, b}, 2);
  CHECK(s.width() == 9);
  CHECK(s.height() == 5);
  CHECK(s.get(2, 4) == Rgb{1, 1, 1});
  CHECK(s.get(3, 0) == Rgb{255, 255, 255});
  CHECK(s.get(5, 0) == Rgb{2, 2, 2});
  CHECK(s.get(8, 1) == Rgb{2, 2, 2});
  CHECK(s.get(8, 2) == Rgb{255, 255, 255});
  CHECK(side_by_side({a}).rgb() == a.rgb());
  CHECK_THROWS_PN(side_by_side({}), "side_by_side: no canvases");
  CHECK_THROWS_PN(side_by_side({a, b}, -1), "side_by_side: gap -1");
}

TEST_CASE("viz::line_chart: errors") {
  CHECK_THROWS_PN(line_chart("Loss", "epoch", "loss", {}), "line_chart 'Loss': no series");
  CHECK_THROWS_PN(line_chart("Loss", "epoch", "loss", {{"val", {1, 2, 3}, {1, 2}}}),
                  "series 0 'val' has 2 x values for 3 y values");
  CHECK_THROWS_PN(line_chart("Loss", "", "", {{"a", {1}}}, 100, 400), "size 100x400");
  CHECK_THROWS_PN(line_chart("Loss", "", "", {{"a", {1}}}, 640, 0), "line_chart 'Loss': size 640x0");
}
