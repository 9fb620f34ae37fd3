// Canvas: an RGB raster with clipped drawing (rectangles, thick lines, discs, text), the
// surface every viz picture is drawn on before png.hpp writes it.
//
// Pixels are row-major, 3 bytes each, (0, 0) at the top left. Every drawing call clips to the
// canvas, so a chart may compute coordinates outside it without checks; only get() and the
// constructor throw. Text is stb_easy_font's segment font (about 6 px per character and 12 px
// per line at scale 1), its quads filled as axis-aligned rectangles, `scale` times larger.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "patchnet/core/error.hpp"

// stb_easy_font is all static functions and tables; this header uses only some of them.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-variable"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <stb_easy_font.h>
#pragma GCC diagnostic pop

namespace patchnet::viz {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
  friend bool operator==(const Rgb&, const Rgb&) = default;
};

class Canvas {
 public:
  // Line height of the font at scale 1, in pixels.
  static constexpr int kLineHeight = 12;

  Canvas(int width, int height, Rgb background = {255, 255, 255}) : width_(width), height_(height) {
    PN_CHECK(width > 0 && height > 0, "Canvas: size ", width, "x", height, " must be positive");
    // stb_image_write takes the row stride and buffer size as int.
    PN_CHECK(int64_t{width} * height * 3 <= std::numeric_limits<int>::max(), "Canvas: size ", width, "x", height,
             " is too large (more than 2^31 bytes)");
    pixels_.resize(static_cast<size_t>(width) * static_cast<size_t>(height) * 3);
    for (size_t i = 0; i < pixels_.size(); i += 3) {
      pixels_[i] = background.r;
      pixels_[i + 1] = background.g;
      pixels_[i + 2] = background.b;
    }
  }

  int width() const { return width_; }
  int height() const { return height_; }
  bool contains(int x, int y) const { return x >= 0 && y >= 0 && x < width_ && y < height_; }

  // Out of bounds: ignored (drawing clips).
  void set(int x, int y, Rgb c) {
    if (!contains(x, y)) return;
    uint8_t* p = &pixels_[(static_cast<size_t>(y) * width_ + x) * 3];
    p[0] = c.r;
    p[1] = c.g;
    p[2] = c.b;
  }

  // Out of bounds: an error, since reading outside is a bug in the caller.
  Rgb get(int x, int y) const {
    PN_CHECK(contains(x, y), "Canvas::get: pixel (", x, ", ", y, ") is outside the ", width_, "x", height_, " canvas");
    const uint8_t* p = &pixels_[(static_cast<size_t>(y) * width_ + x) * 3];
    return {p[0], p[1], p[2]};
  }

  // Fills [x, x+w) x [y, y+h), clipped; w or h <= 0 draws nothing.
  void fill_rect(int x, int y, int w, int h, Rgb c) {
    // int64 so that x + w cannot overflow.
    const int64_t x0 = std::max<int64_t>(x, 0), y0 = std::max<int64_t>(y, 0);
    const int64_t x1 = std::min<int64_t>(int64_t{x} + w, width_), y1 = std::min<int64_t>(int64_t{y} + h, height_);
    for (int64_t yy = y0; yy < y1; ++yy)
      for (int64_t xx = x0; xx < x1; ++xx) set(static_cast<int>(xx), static_cast<int>(yy), c);
  }

  // The outline of [x, x+w) x [y, y+h), `thickness` pixels inwards.
  void rect(int x, int y, int w, int h, Rgb c, int thickness = 1) {
    if (w <= 0 || h <= 0 || thickness <= 0) return;
    const int t = std::min({thickness, w, h});
    fill_rect(x, y, w, t, c);
    fill_rect(x, y + h - t, w, t, c);
    fill_rect(x, y, t, h, c);
    fill_rect(x + w - t, y, t, h, c);
  }

  // A segment between pixel centres (x0, y0) and (x1, y1): one sample per pixel step along the
  // longer axis, each stamped as a thickness x thickness square. NaN ends draw nothing; the
  // segment is first clipped to the canvas, so far-away ends cost nothing.
  void line(double x0, double y0, double x1, double y1, Rgb c, int thickness = 1) {
    if (thickness <= 0 || !std::isfinite(x0) || !std::isfinite(y0) || !std::isfinite(x1) || !std::isfinite(y1)) return;
    const double pad = thickness + 1.0;
    if (!clip_segment(x0, y0, x1, y1, -pad, -pad, width_ - 1 + pad, height_ - 1 + pad)) return;
    const double dx = x1 - x0, dy = y1 - y0;
    const int steps = static_cast<int>(std::ceil(std::max(std::abs(dx), std::abs(dy))));
    const int lo = (thickness - 1) / 2;  // a square centred on the sample, the extra pixel right/below
    for (int i = 0; i <= steps; ++i) {
      const double t = steps == 0 ? 0.0 : static_cast<double>(i) / steps;
      const int px = static_cast<int>(std::lround(x0 + t * dx)), py = static_cast<int>(std::lround(y0 + t * dy));
      if (thickness == 1) set(px, py, c);
      else fill_rect(px - lo, py - lo, thickness, thickness, c);
    }
  }

  // A filled disc: pixels whose centre lies within radius r of (cx, cy).
  void fill_circle(double cx, double cy, double r, Rgb c) {
    if (!std::isfinite(cx) || !std::isfinite(cy) || !(r >= 0) || !std::isfinite(r)) return;
    const int x0 = static_cast<int>(std::floor(std::max(cx - r, -1.0)));
    const int x1 = static_cast<int>(std::ceil(std::min(cx + r, static_cast<double>(width_))));
    const int y0 = static_cast<int>(std::floor(std::max(cy - r, -1.0)));
    const int y1 = static_cast<int>(std::ceil(std::min(cy + r, static_cast<double>(height_))));
    for (int y = y0; y <= y1; ++y)
      for (int x = x0; x <= x1; ++x)
        if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r + 1e-9) set(x, y, c);
  }

  // Text with its top-left corner at (x, y); '\n' starts a new line. Characters outside
  // printable ASCII are drawn as '?' (stb_easy_font indexes its tables by character).
  void text(int x, int y, const std::string& s, Rgb c, int scale = 1) {
    PN_CHECK(scale >= 1, "Canvas::text: scale ", scale, " must be >= 1");
    std::string safe = printable(s);
    if (safe.empty()) return;
    // At most 16 segments per character, 64 bytes (4 vertices) each; a little spare.
    std::vector<char> buf(safe.size() * 16 * 64 + 64);
    const int quads = stb_easy_font_print(0.0f, 0.0f, safe.data(), nullptr, buf.data(), static_cast<int>(buf.size()));
    for (int q = 0; q < quads; ++q) {
      // Vertex 0 is the top-left corner, vertex 2 the bottom-right; 16 bytes per vertex.
      float v0[2], v2[2];
      std::copy_n(reinterpret_cast<const char*>(buf.data() + q * 64), sizeof v0, reinterpret_cast<char*>(v0));
      std::copy_n(reinterpret_cast<const char*>(buf.data() + q * 64 + 32), sizeof v2, reinterpret_cast<char*>(v2));
      const int qx = static_cast<int>(std::lround(v0[0])), qy = static_cast<int>(std::lround(v0[1]));
      const int qw = static_cast<int>(std::lround(v2[0] - v0[0])), qh = static_cast<int>(std::lround(v2[1] - v0[1]));
      fill_rect(x + qx * scale, y + qy * scale, qw * scale, qh * scale, c);
    }
  }

  // Width in pixels of the widest line of s (includes each character's advance). Static, so
  // layouts can measure before they have a canvas; c.text_width(s) works too.
  static int text_width(const std::string& s, int scale = 1) {
    PN_CHECK(scale >= 1, "Canvas::text_width: scale ", scale, " must be >= 1");
    std::string safe = printable(s);
    if (safe.empty()) return 0;
    return stb_easy_font_width(safe.data()) * scale;
  }

  // Height in pixels of s: kLineHeight per line.
  static int text_height(const std::string& s, int scale = 1) {
    PN_CHECK(scale >= 1, "Canvas::text_height: scale ", scale, " must be >= 1");
    if (s.empty()) return 0;
    return static_cast<int>(1 + std::count(s.begin(), s.end(), '\n')) * kLineHeight * scale;
  }

  // Copies src with its top-left corner at (x, y), clipped.
  void blit(const Canvas& src, int x, int y) { blit_scaled(src, x, y, 1); }

  // Copies src, each pixel as a scale x scale block (nearest neighbour), clipped.
  void blit_scaled(const Canvas& src, int x, int y, int scale) {
    PN_CHECK(scale >= 1, "Canvas::blit_scaled: scale ", scale, " must be >= 1");
    for (int sy = 0; sy < src.height_; ++sy)
      for (int sx = 0; sx < src.width_; ++sx) {
        const int64_t dx = x + int64_t{sx} * scale, dy = y + int64_t{sy} * scale;
        if (dx >= width_ || dy >= height_ || dx + scale <= 0 || dy + scale <= 0) continue;
        fill_rect(static_cast<int>(dx), static_cast<int>(dy), scale, scale, src.get(sx, sy));
      }
  }

  // This canvas turned 90 degrees counter-clockwise (for a vertical axis label).
  Canvas rotated_ccw() const {
    Canvas out(height_, width_);
    for (int y = 0; y < height_; ++y)
      for (int x = 0; x < width_; ++x) out.set(y, width_ - 1 - x, get(x, y));
    return out;
  }

  // Row-major RGB bytes, width * height * 3.
  const std::vector<uint8_t>& rgb() const { return pixels_; }

 private:
  static std::string printable(const std::string& s) {
    std::string out = s;
    for (char& ch : out)
      if (ch != '\n' && (ch < 32 || ch > 126)) ch = '?';
    return out;
  }

  // Liang-Barsky: clips the segment to [xmin, xmax] x [ymin, ymax]; false when none is left.
  static bool clip_segment(double& x0, double& y0, double& x1, double& y1, double xmin, double ymin, double xmax,
                           double ymax) {
    const double dx = x1 - x0, dy = y1 - y0;
    double t0 = 0, t1 = 1;
    const double p[4] = {-dx, dx, -dy, dy};
    const double q[4] = {x0 - xmin, xmax - x0, y0 - ymin, ymax - y0};
    for (int i = 0; i < 4; ++i) {
      if (p[i] == 0) {
        if (q[i] < 0) return false;
        continue;
      }
      const double r = q[i] / p[i];
      if (p[i] < 0) t0 = std::max(t0, r);
      else t1 = std::min(t1, r);
      if (t0 > t1) return false;
    }
    const double nx0 = x0 + t0 * dx, ny0 = y0 + t0 * dy, nx1 = x0 + t1 * dx, ny1 = y0 + t1 * dy;
    x0 = nx0;
    y0 = ny0;
    x1 = nx1;
    y1 = ny1;
    return true;
  }

  int width_, height_;
  std::vector<uint8_t> pixels_;
};

}  // namespace patchnet::viz
