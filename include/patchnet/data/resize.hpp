// Bilinear resizing with TensorFlow's semantics: tf.image.resize, method "bilinear",
// antialias off, half-pixel centres, which is what the Keras Resizing layer does (and
// PyTorch's interpolate(mode="bilinear", align_corners=False, antialias=False)).
// Used by the image-folder reader (8-bit, rounded) and by augmentation (unrounded).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "patchnet/core/error.hpp"

namespace patchnet::data {

// The two source taps and the weight of the upper one for output index `o`, as in
// TensorFlow's resize_bilinear_op (half-pixel centres): x = (o + 0.5) * in / out - 0.5,
// lower = max(floor(x), 0), upper = min(ceil(x), in - 1), lerp = x - floor(x).
struct BilinearTap {
  int64_t lower = 0, upper = 0;
  float lerp = 0;
};
// Computed in float, as TensorFlow does (its CachedInterpolation), so the weights match
// bit for bit.
inline BilinearTap bilinear_tap(int64_t o, int64_t in_size, int64_t out_size) {
  const float scale = static_cast<float>(in_size) / static_cast<float>(out_size);
  const float x = (static_cast<float>(o) + 0.5f) * scale - 0.5f;
  const float fl = std::floor(x);
  BilinearTap t;
  t.lower = std::max<int64_t>(static_cast<int64_t>(fl), 0);
  t.upper = std::min<int64_t>(static_cast<int64_t>(std::ceil(x)), in_size - 1);
  t.lerp = x - fl;
  return t;
}

// One output value: top = tl + (tr - tl) * xl, bottom = bl + (br - bl) * xl,
// top + (bottom - top) * yl, evaluated in C (float for float outputs, as TensorFlow).
template <class C, class S>
inline C bilinear_value(const S* src, int64_t w, int64_t c, int64_t ch, const BilinearTap& ty, const BilinearTap& tx) {
  const C tl = static_cast<C>(src[(ty.lower * w + tx.lower) * c + ch]);
  const C tr = static_cast<C>(src[(ty.lower * w + tx.upper) * c + ch]);
  const C bl = static_cast<C>(src[(ty.upper * w + tx.lower) * c + ch]);
  const C br = static_cast<C>(src[(ty.upper * w + tx.upper) * c + ch]);
  const C xl = static_cast<C>(tx.lerp), yl = static_cast<C>(ty.lerp);
  const C top = tl + (tr - tl) * xl, bottom = bl + (br - bl) * xl;
  return top + (bottom - top) * yl;
}

// src [h, w, c] (any arithmetic type) -> dst [oh, ow, c] in T, unrounded (Keras'
// Resizing outputs float). Same size copies exactly.
template <class S, class T>
void resize_bilinear(const S* src, int64_t h, int64_t w, int64_t c, T* dst, int64_t oh, int64_t ow) {
  PN_CHECK(h > 0 && w > 0 && c > 0 && oh > 0 && ow > 0, "resize_bilinear: bad sizes ", h, "x", w, "x", c, " -> ", oh,
           "x", ow);
  std::vector<BilinearTap> xs(static_cast<size_t>(ow));
  for (int64_t x = 0; x < ow; ++x) xs[static_cast<size_t>(x)] = bilinear_tap(x, w, ow);
  for (int64_t y = 0; y < oh; ++y) {
    const BilinearTap ty = bilinear_tap(y, h, oh);
    for (int64_t x = 0; x < ow; ++x)
      for (int64_t ch = 0; ch < c; ++ch)
        dst[(y * ow + x) * c + ch] = bilinear_value<T>(src, w, c, ch, ty, xs[static_cast<size_t>(x)]);
  }
}

// The same for 8-bit images, rounded to nearest and clamped to [0, 255] (computed in
// float, as tf.image.resize does before a cast back to uint8 would).
inline std::vector<uint8_t> resize_bilinear_u8(const uint8_t* src, int64_t h, int64_t w, int64_t c, int64_t oh,
                                               int64_t ow) {
  std::vector<float> tmp(static_cast<size_t>(oh * ow * c));
  resize_bilinear(src, h, w, c, tmp.data(), oh, ow);
  std::vector<uint8_t> out(tmp.size());
  for (size_t i = 0; i < tmp.size(); ++i)
    out[i] = static_cast<uint8_t>(std::clamp(std::nearbyint(tmp[i]), 0.0f, 255.0f));
  return out;
}

}  // namespace patchnet::data
