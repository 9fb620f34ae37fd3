// Pictures of arrays: a grid of convolution filters (HWIO weights, or depthwise [KH, KW, C]),
// a heat map of a 2-D array, and an HWC image. Also brings in labelled_grid (layout.hpp),
// which arranges these into a titled table.
//
// Filters are min-max normalised over all weights together, as the ConvMixer seed's
// visualization_plot does before imshow: (w - min) / (max - min). Three input channels are
// shown as RGB, one through a colormap (viridis by default, imshow's default). For one
// channel, imshow also rescales each 2-D kernel to its own range; Normalize::PerFilter
// reproduces that look. A constant array maps to the middle of the range (0.5), never NaN;
// NaN and inf are left out of min and max and drawn magenta, so a diverged run still plots.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>
#include <tuple>
#include <utility>
#include <vector>

#include "patchnet/core/error.hpp"
#include "patchnet/viz/canvas.hpp"
#include "patchnet/viz/colormap.hpp"
#include "patchnet/viz/layout.hpp"

namespace patchnet::viz {

enum class Normalize { Global, PerFilter };

// The colour of non-finite values.
inline constexpr Rgb kNonFiniteColor = {255, 0, 255};

namespace detail {
// Sides beyond this are a mistake (a swapped argument), not a picture.
inline constexpr int64_t kMaxSide = 1 << 15;

inline int checked_side(const char* op, const char* what, int64_t v) {
  PN_CHECK(v >= 1 && v <= kMaxSide, op, ": ", what, " ", v, " is out of range [1, ", kMaxSide, "]");
  return static_cast<int>(v);
}

// min and max of the finite values among n, read as p(i); {0, 0} when none is finite.
template <class F>
std::pair<double, double> finite_range(int64_t n, F p) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (int64_t i = 0; i < n; ++i) {
    const double v = static_cast<double>(p(i));
    if (!std::isfinite(v)) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (lo > hi) return {0.0, 0.0};
  return {lo, hi};
}

// (v - lo) / (hi - lo), 0.5 when the range is empty.
inline double normalise(double v, double lo, double hi) { return hi > lo ? (v - lo) / (hi - lo) : 0.5; }

inline uint8_t to_byte(double t) { return static_cast<uint8_t>(std::lround(std::clamp(t, 0.0, 1.0) * 255.0)); }
}  // namespace detail

// Filters of an HWIO weight [kh, kw, cin, count]: filter i's pixel (y, x), channel c is
// w[(y*kw + x)*cin*count + c*count + i]. cin 3: RGB, each channel normalised to a byte
// round(t * 255) (min -> 0, max -> 255); cin 1: the colormap. Filter i sits in row i / cols,
// column i % cols; each weight pixel is a cell_scale x cell_scale block; `gap` white pixels
// between filters. cols larger than count is reduced to count.
template <std::floating_point T>
Canvas filter_grid(const T* w, int kh, int kw, int cin, int count, int cols, int cell_scale = 4, int gap = 1,
                   Colormap cm = Colormap::Viridis, Normalize norm = Normalize::Global) {
  PN_CHECK(w != nullptr, "filter_grid: null weights");
  PN_CHECK(kh >= 1 && kw >= 1 && count >= 1, "filter_grid: kernel ", kh, "x", kw, " with ", count,
           " filters: sizes must be positive");
  PN_CHECK(cin == 1 || cin == 3, "filter_grid: cin ", cin, " must be 1 (colormap) or 3 (RGB)");
  PN_CHECK(cols >= 1, "filter_grid: cols ", cols, " must be positive");
  PN_CHECK(cell_scale >= 1, "filter_grid: cell_scale ", cell_scale, " must be positive");
  PN_CHECK(gap >= 0, "filter_grid: gap ", gap, " must be >= 0");
  cols = std::min(cols, count);
  const int rows = (count + cols - 1) / cols;
  const int64_t cw = int64_t{kw} * cell_scale, ch = int64_t{kh} * cell_scale;
  const int width = detail::checked_side("filter_grid", "width", cols * cw + int64_t{cols - 1} * gap);
  const int height = detail::checked_side("filter_grid", "height", rows * ch + int64_t{rows - 1} * gap);
  const int64_t per_pixel = int64_t{cin} * count;  // stride between weight pixels
  const int64_t taps = int64_t{kh} * kw * cin;     // values of one filter
  auto value = [&](int64_t tap, int i) {           // tap = (y*kw + x)*cin + c
    return static_cast<double>(w[(tap / cin) * per_pixel + (tap % cin) * count + i]);
  };
  auto [lo, hi] =
      detail::finite_range(taps * count, [&](int64_t k) { return value(k / count, static_cast<int>(k % count)); });
  Canvas out(width, height);
  for (int i = 0; i < count; ++i) {
    if (norm == Normalize::PerFilter)
      std::tie(lo, hi) = detail::finite_range(taps, [&](int64_t k) { return value(k, i); });
    const int ox = static_cast<int>((i % cols) * (cw + gap)), oy = static_cast<int>((i / cols) * (ch + gap));
    for (int y = 0; y < kh; ++y)
      for (int x = 0; x < kw; ++x) {
        const int64_t tap = (int64_t{y} * kw + x) * cin;
        Rgb c;
        bool finite = true;
        for (int k = 0; k < cin; ++k) finite = finite && std::isfinite(value(tap + k, i));
        if (!finite) c = kNonFiniteColor;
        else if (cin == 3)
          c = {detail::to_byte(detail::normalise(value(tap, i), lo, hi)),
               detail::to_byte(detail::normalise(value(tap + 1, i), lo, hi)),
               detail::to_byte(detail::normalise(value(tap + 2, i), lo, hi))};
        else c = colormap(cm, detail::normalise(value(tap, i), lo, hi));
        out.fill_rect(ox + x * cell_scale, oy + y * cell_scale, cell_scale, cell_scale, c);
      }
  }
  return out;
}

// Depthwise kernels [kh, kw, channels] (kernel c's pixel (y, x) is w[(y*kw + x)*channels + c]),
// one colormapped picture per channel: filter_grid with cin 1 and count = channels.
template <std::floating_point T>
Canvas depthwise_grid(const T* w, int kh, int kw, int channels, int cols, int cell_scale = 4, int gap = 1,
                      Colormap cm = Colormap::Viridis, Normalize norm = Normalize::Global) {
  PN_CHECK(w != nullptr, "depthwise_grid: null weights");
  PN_CHECK(kh >= 1 && kw >= 1 && channels >= 1, "depthwise_grid: kernel ", kh, "x", kw, " with ", channels,
           " channels: sizes must be positive");
  return filter_grid(w, kh, kw, 1, channels, cols, cell_scale, gap, cm, norm);
}

// A row-major h x w array through a colormap, min-max normalised (constant -> the middle
// colour), each value a cell_scale x cell_scale block.
template <std::floating_point T>
Canvas heatmap(const T* v, int h, int w, int cell_scale = 4, Colormap cm = Colormap::Viridis) {
  PN_CHECK(v != nullptr, "heatmap: null values");
  PN_CHECK(h >= 1 && w >= 1, "heatmap: size ", h, "x", w, " must be positive");
  PN_CHECK(cell_scale >= 1, "heatmap: cell_scale ", cell_scale, " must be positive");
  const int width = detail::checked_side("heatmap", "width", int64_t{w} * cell_scale);
  const int height = detail::checked_side("heatmap", "height", int64_t{h} * cell_scale);
  const auto [lo, hi] = detail::finite_range(int64_t{h} * w, [&](int64_t i) { return v[i]; });
  Canvas out(width, height);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const double a = static_cast<double>(v[int64_t{y} * w + x]);
      const Rgb c = std::isfinite(a) ? colormap(cm, detail::normalise(a, lo, hi)) : kNonFiniteColor;
      out.fill_rect(x * cell_scale, y * cell_scale, cell_scale, cell_scale, c);
    }
  return out;
}

// An h x w RGB image, bytes in HWC order, each pixel a scale x scale block.
inline Canvas image_rgb(const uint8_t* hwc, int h, int w, int scale = 1) {
  PN_CHECK(hwc != nullptr, "image_rgb: null pixels");
  PN_CHECK(h >= 1 && w >= 1, "image_rgb: size ", h, "x", w, " must be positive");
  PN_CHECK(scale >= 1, "image_rgb: scale ", scale, " must be positive");
  const int width = detail::checked_side("image_rgb", "width", int64_t{w} * scale);
  const int height = detail::checked_side("image_rgb", "height", int64_t{h} * scale);
  Canvas out(width, height);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const uint8_t* p = hwc + (int64_t{y} * w + x) * 3;
      out.fill_rect(x * scale, y * scale, scale, scale, {p[0], p[1], p[2]});
    }
  return out;
}

// The same for floating-point pixels in [0, 1] (clamped; NaN -> 0), e.g. images already
// divided by 255.
template <std::floating_point T>
Canvas image_rgb(const T* hwc, int h, int w, int scale = 1) {
  PN_CHECK(hwc != nullptr, "image_rgb: null pixels");
  PN_CHECK(h >= 1 && w >= 1, "image_rgb: size ", h, "x", w, " must be positive");
  detail::checked_side("image_rgb", "width", w);
  detail::checked_side("image_rgb", "height", h);
  std::vector<uint8_t> bytes(static_cast<size_t>(h) * static_cast<size_t>(w) * 3);
  for (size_t i = 0; i < bytes.size(); ++i) {
    const double v = static_cast<double>(hwc[i]);
    bytes[i] = std::isnan(v) ? 0 : detail::to_byte(v);
  }
  return image_rgb(bytes.data(), h, w, scale);
}

}  // namespace patchnet::viz
