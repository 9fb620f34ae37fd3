// viz::Canvas: pixels, clipping of every drawing call, thick lines, discs, stb_easy_font
// text (where it draws and where it does not), blits, rotation, and errors.
#include <chrono>
#include <string>

#include "patchnet/viz/canvas.hpp"
#include "support/test_util.hpp"

using namespace patchnet;
using namespace patchnet::viz;

namespace {
const Rgb kWhite{255, 255, 255}, kBlack{0, 0, 0}, kRed{255, 0, 0};

int count_color(const Canvas& c, Rgb color) {
  int n = 0;
  for (int y = 0; y < c.height(); ++y)
    for (int x = 0; x < c.width(); ++x) n += c.get(x, y) == color ? 1 : 0;
  return n;
}

// Bounding box [x0, x1] x [y0, y1] of the pixels of one colour; x0 = -1 when there are none.
struct Box {
  int x0 = -1, y0 = -1, x1 = -1, y1 = -1;
};
Box bbox(const Canvas& c, Rgb color) {
  Box b;
  for (int y = 0; y < c.height(); ++y)
    for (int x = 0; x < c.width(); ++x)
      if (c.get(x, y) == color) {
        if (b.x0 < 0) b = {x, y, x, y};
        b.x0 = std::min(b.x0, x);
        b.x1 = std::max(b.x1, x);
        b.y0 = std::min(b.y0, y);
        b.y1 = std::max(b.y1, y);
      }
  return b;
}
}  // namespace

TEST_CASE("viz::Canvas: background, set/get, row-major RGB bytes") {
  Canvas c(5, 3, {10, 20, 30});
  CHECK(c.width() == 5);
  CHECK(c.height() == 3);
  REQUIRE(c.rgb().size() == 5 * 3 * 3);
  CHECK(count_color(c, {10, 20, 30}) == 15);
  c.set(4, 1, {1, 2, 3});
  CHECK(c.get(4, 1) == Rgb{1, 2, 3});
  const size_t at = (1 * 5 + 4) * 3;
  CHECK(c.rgb()[at] == 1);
  CHECK(c.rgb()[at + 1] == 2);
  CHECK(c.rgb()[at + 2] == 3);
  // Out-of-bounds set is clipped, get is an error.
  c.set(-1, 0, kRed);
  c.set(5, 0, kRed);
  c.set(0, 3, kRed);
  CHECK(count_color(c, kRed) == 0);
  CHECK_THROWS_PN(c.get(5, 0), "Canvas::get: pixel (5, 0)");
  CHECK_THROWS_PN(c.get(0, -1), "outside the 5x3 canvas");
}

TEST_CASE("viz::Canvas: bad sizes throw") {
  CHECK_THROWS_PN(Canvas(0, 10), "Canvas: size 0x10 must be positive");
  CHECK_THROWS_PN(Canvas(10, -1), "Canvas: size 10x-1");
  CHECK_THROWS_PN(Canvas(50000, 50000), "too large");
}

TEST_CASE("viz::Canvas: fill_rect and rect clip to the canvas") {
  Canvas c(10, 8);
  c.fill_rect(-5, -5, 8, 7, kRed);  // covers [0, 3) x [0, 2)
  CHECK(count_color(c, kRed) == 6);
  CHECK(c.get(2, 1) == kRed);
  CHECK(c.get(3, 1) == kWhite);
  CHECK(c.get(2, 2) == kWhite);
  c.fill_rect(8, 6, 2147483647, 2147483647, kBlack);  // no overflow, clipped to [8, 10) x [6, 8)
  CHECK(count_color(c, kBlack) == 4);
  c.fill_rect(4, 4, -3, 2, kBlack);
  c.fill_rect(4, 4, 2, 0, kBlack);
  CHECK(count_color(c, kBlack) == 4);

  Canvas r(10, 8);
  r.rect(1, 1, 5, 4, kRed);  // outline of [1, 6) x [1, 5): 2*5 + 2*2 pixels
  CHECK(count_color(r, kRed) == 14);
  CHECK(r.get(3, 2) == kWhite);
  CHECK(r.get(5, 4) == kRed);
  r.rect(-3, -3, 30, 30, kBlack, 2);  // only the inside of its left/top edges lands
  CHECK(r.get(0, 0) == kWhite);
}

TEST_CASE("viz::Canvas: lines hit the pixels between their ends, thick ones around them") {
  Canvas c(20, 12);
  c.line(2, 5, 12, 5, kRed);
  CHECK(count_color(c, kRed) == 11);
  CHECK(bbox(c, kRed).x0 == 2);
  CHECK(bbox(c, kRed).x1 == 12);

  Canvas d(20, 20);
  d.line(0, 0, 9, 9, kRed);  // a diagonal: one pixel per step, each on it
  CHECK(count_color(d, kRed) == 10);
  for (int i = 0; i < 10; ++i) CHECK(d.get(i, i) == kRed);

  Canvas t(20, 20);
  t.line(10, 2, 10, 15, kBlack, 3);
  const Box b = bbox(t, kBlack);
  CHECK(b.x0 == 9);
  CHECK(b.x1 == 11);
  CHECK(b.y0 == 1);
  CHECK(b.y1 == 16);
  CHECK(count_color(t, kBlack) == 3 * 16);

  // Far-away ends are clipped first (this must not take 1e12 steps), NaN draws nothing.
  Canvas f(30, 30);
  const auto start = std::chrono::steady_clock::now();
  f.line(-1e12, 15, 1e12, 15, kRed, 2);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
  CHECK(count_color(f, kRed) == 2 * 30);
  f.line(NAN, 0, 10, 10, kBlack);
  f.line(0, 0, 10, INFINITY, kBlack);
  f.line(-50, -5, -10, -40, kBlack, 4);  // wholly outside
  CHECK(count_color(f, kBlack) == 0);
}

TEST_CASE("viz::Canvas: fill_circle is a clipped disc") {
  Canvas c(20, 20);
  c.fill_circle(10, 10, 3, kRed);
  CHECK(count_color(c, kRed) == 29);  // lattice points within radius 3
  CHECK(c.get(13, 10) == kRed);
  CHECK(c.get(12, 12) == kRed);    // 2^2 + 2^2 <= 3^2
  CHECK(c.get(13, 12) == kWhite);  // 3^2 + 2^2 > 3^2
  c.fill_circle(0, 0, 5, kBlack);  // a quarter lands
  CHECK(c.get(0, 0) == kBlack);
  c.fill_circle(NAN, 3, 2, kBlack);
  c.fill_circle(3, 3, -1, kBlack);
  CHECK(c.get(3, 3) == kBlack);  // from the quarter disc, not the calls that draw nothing
}

TEST_CASE("viz::Canvas: text draws dark pixels in its box and nowhere else") {
  Canvas c(120, 40);
  c.text(10, 10, "Loss 0.5", kBlack);
  const Box b = bbox(c, kBlack);
  REQUIRE(b.x0 >= 0);
  CHECK(b.x0 >= 10);
  CHECK(b.y0 >= 10);
  CHECK(b.x1 < 10 + Canvas::text_width("Loss 0.5"));
  CHECK(b.y1 < 10 + Canvas::kLineHeight);
  CHECK(count_color(c, kBlack) > 20);
  CHECK(count_color(c, kBlack) + count_color(c, kWhite) == 120 * 40);  // one colour, no blending

  // About 6 pixels per character and 12 per line at scale 1; scale multiplies both.
  CHECK(Canvas::text_width("abcdefghij") >= 50);
  CHECK(Canvas::text_width("abcdefghij") <= 70);
  CHECK(Canvas::text_width("abc", 3) == 3 * Canvas::text_width("abc"));
  CHECK(Canvas::text_width("ab\nabcd") == Canvas::text_width("abcd"));
  CHECK(Canvas::text_height("ab\nabcd", 2) == 2 * 2 * Canvas::kLineHeight);
  CHECK(Canvas::text_width("") == 0);
  CHECK(c.text_width("x") == Canvas::text_width("x"));

  // Scale 2 covers four times the pixels of scale 1, each glyph pixel as a 2x2 block.
  Canvas s1(60, 30), s2(60, 30);
  s1.text(0, 0, "E", kBlack);
  s2.text(0, 0, "E", kBlack, 2);
  CHECK(count_color(s2, kBlack) == 4 * count_color(s1, kBlack));
  for (int y = 0; y < 12; ++y)
    for (int x = 0; x < 12; ++x) CHECK(s2.get(2 * x, 2 * y) == s1.get(x, y));

  // Empty text draws nothing; a second line lands 12 pixels lower.
  Canvas e(40, 40);
  e.text(0, 0, "", kBlack);
  CHECK(count_color(e, kBlack) == 0);
  Canvas one(40, 40), two(40, 40);
  one.text(0, 12, "H", kBlack);
  two.text(0, 0, "\nH", kBlack);
  CHECK(one.rgb() == two.rgb());

  CHECK_THROWS_PN(c.text(0, 0, "x", kBlack, 0), "Canvas::text: scale 0");
  CHECK_THROWS_PN(Canvas::text_width("x", -1), "Canvas::text_width: scale -1");
}

TEST_CASE("viz::Canvas: text is clipped at the edges and non-ASCII becomes '?'") {
  Canvas c(30, 10);
  c.text(-20, -5, "clipped on every side of the canvas", kBlack, 2);  // must not write outside
  c.text(25, 5, "WWWW", kBlack);
  CHECK(count_color(c, kBlack) > 0);

  Canvas q(40, 20), u(40, 20);
  q.text(2, 2, "a?b", kBlack);
  u.text(2, 2, "a\xc3\xa9", kBlack);  // UTF-8 e-acute: two bytes, two '?'
  Canvas q2(40, 20);
  q2.text(2, 2, "a??", kBlack);
  CHECK(u.rgb() == q2.rgb());
  CHECK(u.rgb() != q.rgb());
}

TEST_CASE("viz::Canvas: blit, blit_scaled and rotated_ccw") {
  Canvas src(2, 2);
  src.set(0, 0, {1, 1, 1});
  src.set(1, 0, {2, 2, 2});
  src.set(0, 1, {3, 3, 3});
  src.set(1, 1, {4, 4, 4});

  Canvas d(5, 5, kRed);
  d.blit(src, 3, 3);  // only (0, 0) of src fits... and (1, 1) lands at (4, 4)
  CHECK(d.get(3, 3) == Rgb{1, 1, 1});
  CHECK(d.get(4, 4) == Rgb{4, 4, 4});
  CHECK(d.get(2, 2) == kRed);
  d.blit(src, -1, -1);
  CHECK(d.get(0, 0) == Rgb{4, 4, 4});

  Canvas s(7, 7, kRed);
  s.blit_scaled(src, 1, 1, 3);
  CHECK(s.get(0, 0) == kRed);
  CHECK(s.get(1, 1) == Rgb{1, 1, 1});
  CHECK(s.get(3, 3) == Rgb{1, 1, 1});
  CHECK(s.get(4, 3) == Rgb{2, 2, 2});
  CHECK(s.get(3, 4) == Rgb{3, 3, 3});
  CHECK(s.get(6, 6) == Rgb{4, 4, 4});
  CHECK_THROWS_PN(s.blit_scaled(src, 0, 0, 0), "Canvas::blit_scaled: scale 0");

  // Counter-clockwise: the top-right pixel becomes the top-left one.
  Canvas w(3, 2);
  w.set(2, 0, kRed);
  w.set(0, 1, kBlack);
  const Canvas r = w.rotated_ccw();
  CHECK(r.width() == 2);
  CHECK(r.height() == 3);
  CHECK(r.get(0, 0) == kRed);
  CHECK(r.get(1, 2) == kBlack);
}
