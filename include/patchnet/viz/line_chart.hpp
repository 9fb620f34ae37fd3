// line_chart: curves of y against x with axes, "nice" ticks (1, 2 or 5 times a power of ten),
// a title, axis labels and a legend, like the Keras history plots in the seeds (loss and
// accuracy per epoch, train against validation). side_by_side (layout.hpp, included here)
// puts the loss and accuracy charts into one PNG.
//
// Points whose x or y is NaN, inf or beyond +-1e300 are skipped and break the line there.
// A constant series or a single point gets a range around its value, so nothing divides by
// zero. With 40 points or fewer each point is marked; a point with no neighbour always is.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "patchnet/core/error.hpp"
#include "patchnet/viz/canvas.hpp"
#include "patchnet/viz/layout.hpp"

namespace patchnet::viz {

struct Series {
  std::string name = {};
  std::vector<double> y = {};
  std::vector<double> x = {};  // empty: 1, 2, ..., y.size() (epochs)
  Rgb color = {0, 0, 0};       // {0, 0, 0}: the palette's colour for this series' index
  // (The "= {}" spare {"train", loss} -Wmissing-field-initializers warnings.)
};

// matplotlib's tab10, the colours of its default property cycle.
inline constexpr std::array<Rgb, 10> kPalette = {{{31, 119, 180},
                                                  {255, 127, 14},
                                                  {44, 160, 44},
                                                  {214, 39, 40},
                                                  {148, 103, 189},
                                                  {140, 86, 75},
                                                  {227, 119, 194},
                                                  {127, 127, 127},
                                                  {188, 189, 34},
                                                  {23, 190, 207}}};

// An axis range [lo, hi] covering the data, its tick step and the ticks lo, lo + step, ...,
// hi, all multiples of step.
struct Ticks {
  double lo = 0, hi = 1, step = 1;
  std::vector<double> values;
};

// Nice ticks for data in [lo, hi] (finite, lo <= hi): about `target` steps of 1, 2 or 5 times
// a power of ten, at least min_step (1 for epochs). An empty range (lo == hi up to rounding)
// is widened by 5% of the value (1 for zero, at least min_step) on each side.
inline Ticks nice_ticks(double lo, double hi, int target = 6, double min_step = 0) {
  PN_CHECK(std::isfinite(lo) && std::isfinite(hi) && lo <= hi, "nice_ticks: range [", lo, ", ", hi,
           "] must be finite and ordered");
  PN_CHECK(target >= 1, "nice_ticks: target ", target, " must be positive");
  PN_CHECK(std::isfinite(min_step) && min_step >= 0, "nice_ticks: min_step ", min_step, " must be >= 0");
  const double mag_abs = std::max(std::abs(lo), std::abs(hi));
  if (hi - lo <= 1e-12 * mag_abs || hi == lo) {
    const double d = std::max(lo == 0 && hi == 0 ? 1.0 : 0.05 * mag_abs, min_step);
    lo -= d;
    hi += d;
  }
  const double raw = (hi - lo) / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double n = raw / mag;
  double step = (n < 1.5 ? 1.0 : n < 3.0 ? 2.0 : n < 7.0 ? 5.0 : 10.0) * mag;
  step = std::max(step, min_step);
  // The small slack keeps 0.30000000000000004 / 0.1 from gaining a tick.
  const double k0 = std::floor(lo / step + 1e-9), k1 = std::ceil(hi / step - 1e-9);
  Ticks t;
  t.step = step;
  t.lo = k0 * step;
  t.hi = k1 * step;
  for (double k = k0; k <= k1 && t.values.size() < 1000; k += 1) {
    const double v = k * step;
    t.values.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
  }
  return t;
}

// A tick label: as many decimals as the step needs ("0.25" for step 0.05 ... "0.3" for 0.1,
// "20" for 10); scientific notation for huge or tiny values.
inline std::string tick_label(double v, double step) {
  char buf[64];
  const double mag = std::max(std::abs(v), step);
  if (mag >= 1e6 || step < 1e-5) {
    const int digits = std::clamp(static_cast<int>(std::floor(std::log10(mag)) - std::floor(std::log10(step))), 0, 10);
    std::snprintf(buf, sizeof buf, "%.*e", digits, v);
  } else {
    const int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  }
  std::string s = buf;
  if (s[0] == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);  // "-0.0" -> "0.0"
  return s;
}

namespace detail {
inline bool plottable(double v) { return std::isfinite(v) && std::abs(v) <= 1e300; }
}  // namespace detail

// A chart of the series, width x height pixels (at least 160 x 120).
inline Canvas line_chart(const std::string& title, const std::string& xlabel, const std::string& ylabel,
                         const std::vector<Series>& series, int width = 640, int height = 400) {
  PN_CHECK(!series.empty(), "line_chart '", title, "': no series");
  PN_CHECK(width >= 160 && height >= 120 && width <= (1 << 15) && height <= (1 << 15), "line_chart '", title,
           "': size ", width, "x", height, " must be within 160x120 .. 32768x32768");
  bool epochs = true;  // every series uses the default x = 1..n
  for (size_t i = 0; i < series.size(); ++i) {
    const Series& s = series[i];
    PN_CHECK(s.x.empty() || s.x.size() == s.y.size(), "line_chart '", title, "': series ", i, " '", s.name, "' has ",
             s.x.size(), " x values for ", s.y.size(), " y values");
    epochs = epochs && s.x.empty();
  }
  auto xat = [](const Series& s, size_t j) { return s.x.empty() ? static_cast<double>(j + 1) : s.x[j]; };
  auto valid = [&](const Series& s, size_t j) { return detail::plottable(xat(s, j)) && detail::plottable(s.y[j]); };

  // Data ranges over the plottable points; [0, 1] when there are none.
  double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
  for (const Series& s : series)
    for (size_t j = 0; j < s.y.size(); ++j)
      if (valid(s, j)) {
        xlo = std::min(xlo, xat(s, j));
        xhi = std::max(xhi, xat(s, j));
        ylo = std::min(ylo, s.y[j]);
        yhi = std::max(yhi, s.y[j]);
      }
  if (xlo > xhi) xlo = ylo = 0, xhi = yhi = 1;
  const Ticks xt = nice_ticks(xlo, xhi, std::max(2, std::min(8, (width - 120) / 70)), epochs ? 1.0 : 0.0);
  const Ticks yt = nice_ticks(ylo, yhi, std::max(2, std::min(8, (height - 100) / 45)));
  std::vector<std::string> ylabels;
  int ylabel_w = 0;
  for (double v : yt.values) {
    ylabels.push_back(tick_label(v, yt.step));
    ylabel_w = std::max(ylabel_w, Canvas::text_width(ylabels.back()));
  }

  // Layout: title on top, y label (turned) and y tick labels on the left, x ticks and label below.
  const Rgb ink{0, 0, 0}, grid{225, 225, 225}, frame{90, 90, 90};
  const int title_scale = Canvas::text_width(title, 2) <= width - 20 ? 2 : 1;
  const int top = 10 + (title.empty() ? 0 : Canvas::text_height(title, title_scale) + 8);
  const int left = 8 + (ylabel.empty() ? 0 : Canvas::kLineHeight + 6) + ylabel_w + 8;
  const int bottom = height - (8 + (xlabel.empty() ? 0 : Canvas::kLineHeight + 4) + Canvas::kLineHeight + 8);
  const int right = width - 1 - std::max(20, Canvas::text_width(tick_label(xt.hi, xt.step)) / 2 + 6);
  PN_CHECK(right - left >= 40 && bottom - top >= 40, "line_chart '", title, "': ", width, "x", height,
           " leaves no room for the plot");
  // The axis ranges sit `pad` pixels inside the frame, so markers at the ends stay off it.
  const int pad = 6;
  auto px = [&](double x) { return left + pad + (x - xt.lo) / (xt.hi - xt.lo) * (right - left - 2 * pad); };
  auto py = [&](double y) { return bottom - pad - (y - yt.lo) / (yt.hi - yt.lo) * (bottom - top - 2 * pad); };

  Canvas c(width, height);
  if (!title.empty())
    c.text((left + right) / 2 - Canvas::text_width(title, title_scale) / 2, 10, title, ink, title_scale);
  for (size_t k = 0; k < yt.values.size(); ++k) {
    const int y = static_cast<int>(std::lround(py(yt.values[k])));
    c.line(left, y, right, y, grid);
    c.line(left - 4, y, left - 1, y, frame);
    c.text(left - 7 - Canvas::text_width(ylabels[k]), y - 3, ylabels[k], ink);
  }
  for (double v : xt.values) {
    const int x = static_cast<int>(std::lround(px(v)));
    const std::string label = tick_label(v, xt.step);
    c.line(x, top, x, bottom, grid);
    c.line(x, bottom + 1, x, bottom + 4, frame);
    c.text(x - Canvas::text_width(label) / 2 + 1, bottom + 8, label, ink);
  }
  c.rect(left, top, right - left + 1, bottom - top + 1, frame);
  if (!xlabel.empty())
    c.text((left + right) / 2 - Canvas::text_width(xlabel) / 2, height - 8 - Canvas::kLineHeight + 2, xlabel, ink);
  if (!ylabel.empty()) {
    Canvas label(std::max(1, Canvas::text_width(ylabel)), Canvas::kLineHeight);
    label.text(0, 2, ylabel, ink);
    const Canvas turned = label.rotated_ccw();
    c.blit(turned, 8, (top + bottom) / 2 - turned.height() / 2);
  }

  // The curves: thick segments between consecutive valid points, then the point markers.
  std::vector<Rgb> colors;
  for (size_t i = 0; i < series.size(); ++i)
    colors.push_back(series[i].color == Rgb{0, 0, 0} ? kPalette[i % kPalette.size()] : series[i].color);
  for (size_t i = 0; i < series.size(); ++i) {
    const Series& s = series[i];
    size_t n_valid = 0;
    for (size_t j = 0; j < s.y.size(); ++j) n_valid += valid(s, j) ? 1 : 0;
    for (size_t j = 0; j < s.y.size(); ++j) {
      if (!valid(s, j)) continue;
      const bool prev = j > 0 && valid(s, j - 1), next = j + 1 < s.y.size() && valid(s, j + 1);
      if (next) c.line(px(xat(s, j)), py(s.y[j]), px(xat(s, j + 1)), py(s.y[j + 1]), colors[i], 2);
      if (n_valid <= 40 || (!prev && !next)) c.fill_circle(px(xat(s, j)), py(s.y[j]), 3.0, colors[i]);
    }
  }

  // Legend: in the corner of the plot that covers the fewest curve pixels (upper right first).
  bool any_name = false;
  int name_w = 0;
  for (const Series& s : series) {
    any_name = any_name || !s.name.empty();
    name_w = std::max(name_w, Canvas::text_width(s.name));
  }
  if (any_name) {
    const int row_h = 14, box_w = 6 + 22 + 4 + name_w + 4, box_h = 4 + row_h * static_cast<int>(series.size()) + 2;
    const int inset = 8;
    const int corners[4][2] = {{right - inset - box_w, top + inset},
                               {left + inset, top + inset},
                               {right - inset - box_w, bottom - inset - box_h},
                               {left + inset, bottom - inset - box_h}};
    int best = 0;
    int64_t best_count = -1;
    for (int k = 0; k < 4; ++k) {
      int64_t count = 0;
      for (int y = corners[k][1]; y < corners[k][1] + box_h; ++y)
        for (int x = corners[k][0]; x < corners[k][0] + box_w; ++x)
          if (c.contains(x, y) && std::find(colors.begin(), colors.end(), c.get(x, y)) != colors.end()) ++count;
      if (best_count < 0 || count < best_count) best = k, best_count = count;
    }
    const int bx = corners[best][0], by = corners[best][1];
    c.fill_rect(bx, by, box_w, box_h, {255, 255, 255});
    c.rect(bx, by, box_w, box_h, {200, 200, 200});
    for (size_t i = 0; i < series.size(); ++i) {
      const int ry = by + 4 + static_cast<int>(i) * row_h;
      c.line(bx + 6, ry + 5, bx + 26, ry + 5, colors[i], 2);
      c.fill_circle(bx + 16.5, ry + 5.5, 3.0, colors[i]);
      c.text(bx + 32, ry + 2, series[i].name, ink);
    }
  }
  return c;
}

}  // namespace patchnet::viz
