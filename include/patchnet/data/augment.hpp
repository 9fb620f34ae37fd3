// Per-image augmentation: bilinear resize, zero padding, random crop, random horizontal
// flip, rescaling; from 8-bit HWC pixels to a T image, one sample at a time.
//
// Training:   resize (if set) -> pad -> random crop (if crop set) -> random flip (if hflip)
// Evaluation: resize (if set) -> then, if eval_resize is set, a second bilinear resize to
//             eval_resize x eval_resize; otherwise pad -> centre crop (if crop set). No flip.
// `rescale` multiplies the result by 1/255 (Keras' Rescaling(1/255), in T).
//
// The centre crop at evaluation takes the same window size as training, offset
// floor((size - crop) / 2), so for the standard CIFAR pad-4 crop-32 it is the identity and
// training and evaluation images always have one shape. The pad needs a crop (it only
// makes room for the crop).
//
// Keras semantics of the seeds:
// - ConvMixer: RandomCrop(32, 32) on 32x32 images is the identity, RandomFlip("horizontal")
//   is the only augmentation: {.hflip = true} (crop / pad are there for experiments).
// - ShiftViT: Resizing(52, 52) (bilinear) -> RandomCrop(48, 48) -> RandomFlip("horizontal")
//   -> Rescaling(1/255): {.rescale = true, .resize = 52, .crop = 48, .hflip = true,
//   .eval_resize = 48}. At inference Keras' RandomCrop does not crop: it resizes the 52x52
//   image to 48x48 (smart_resize; for square images a plain bilinear resize), hence
//   eval_resize, applied after `resize` as Keras does (two bilinear passes, 32->52->48).
// - Departure: Keras 2 / 3 RandomCrop uses one offset for a whole batch; here every image
//   gets its own, as torchvision's RandomCrop does (more variety, no batch dependence).
//
// Randomness is keyed, not sequential: the crop offset and flip of a sample are a pure
// function of (seed, epoch, index) (data/keyed_random.hpp), so a resumed run, any thread
// count and any batch boundary produce identical images. `index` is the sample's index in
// its data set (not its position in the shuffled epoch).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "patchnet/core/dtype.hpp"
#include "patchnet/core/error.hpp"
#include "patchnet/core/shape.hpp"
#include "patchnet/data/resize.hpp"
#include "patchnet/data/keyed_random.hpp"

namespace patchnet::data {

struct AugmentOptions {
  bool rescale = false;     // multiply by 1/255
  int64_t resize = 0;       // bilinear resize to resize x resize first (ShiftViT: 52); 0 = none
  int64_t crop = 0;         // random crop to crop x crop (training), centre crop (evaluation); 0 = none
  int64_t pad = 0;          // zeros on each side before the crop (CIFAR: pad 4, crop 32)
  bool hflip = false;       // random horizontal flip, p = 0.5 (training only)
  int64_t eval_resize = 0;  // at evaluation, bilinear resize to this size after `resize` (ShiftViT: 48)
};

namespace detail {
// Sizes at each stage for an h x w input: after resize (h1, w1), after padding (h2, w2).
struct AugmentGeometry {
  int64_t h1 = 0, w1 = 0, h2 = 0, w2 = 0, out_h = 0, out_w = 0;
  bool eval_resized = false;  // evaluation output comes from the second resize
};

inline AugmentGeometry augment_geometry(const AugmentOptions& o, int64_t h, int64_t w, int64_t c, bool training) {
  PN_CHECK(h > 0 && w > 0 && c > 0, "augment: input image ", h, "x", w, "x", c, " must have positive sizes");
  PN_CHECK(o.resize >= 0 && o.crop >= 0 && o.pad >= 0 && o.eval_resize >= 0, "augment: negative option: resize ",
           o.resize, ", crop ", o.crop, ", pad ", o.pad, ", eval_resize ", o.eval_resize);
  PN_CHECK(o.pad == 0 || o.crop > 0, "augment: pad ", o.pad,
           " without crop (padding only makes room for the random crop; set crop too)");
  AugmentGeometry g;
  g.h1 = o.resize ? o.resize : h;
  g.w1 = o.resize ? o.resize : w;
  g.h2 = g.h1 + 2 * o.pad;
  g.w2 = g.w1 + 2 * o.pad;
  PN_CHECK(o.crop <= g.h2 && o.crop <= g.w2, "augment: crop ", o.crop, " is larger than the ", o.pad ? "padded " : "",
           o.resize ? "resized " : "", "image ", g.h2, "x", g.w2);
  g.out_h = o.crop ? o.crop : g.h2;
  g.out_w = o.crop ? o.crop : g.w2;
  if (!training && o.eval_resize > 0) {
    g.out_h = g.out_w = o.eval_resize;
    g.eval_resized = true;
  }
  return g;
}
}  // namespace detail

// {H', W', C} of the augmented image of an h x w x c input; throws on inconsistent options.
inline Shape output_shape(const AugmentOptions& o, int64_t h, int64_t w, int64_t c, bool training) {
  const detail::AugmentGeometry g = detail::augment_geometry(o, h, w, c, training);
  return Shape{g.out_h, g.out_w, c};
}

// The random choices for one sample: crop window (in padded coordinates) and flip.
struct AugmentDraw {
  int64_t top = 0, left = 0;
  bool flip = false;
};

// Training: top in [0, h2 - crop], left in [0, w2 - crop], flip with p = 0.5, from one
// Philox block keyed on (seed, epoch, index). Evaluation: the centre window, no flip.
inline AugmentDraw augment_draw(const AugmentOptions& o, int64_t h, int64_t w, bool training, uint64_t seed,
                                uint64_t epoch, uint64_t index) {
  check_epoch("augment", epoch);
  const detail::AugmentGeometry g = detail::augment_geometry(o, h, w, 1, training);
  AugmentDraw d;
  if (g.eval_resized) return d;
  if (!training) {  // centre window, no flip
    if (o.crop) {
      d.top = (g.h2 - o.crop) / 2;
      d.left = (g.w2 - o.crop) / 2;
    }
    return d;
  }
  const math::PhiloxBlock b = keyed_block(seed, RandomStream::Augment, epoch, index);
  if (o.crop) {
    // Multiply-shift on one 32-bit word: the bias is at most range / 2^32.
    d.top = static_cast<int64_t>((uint64_t{b.v[0]} * static_cast<uint64_t>(g.h2 - o.crop + 1)) >> 32);
    d.left = static_cast<int64_t>((uint64_t{b.v[1]} * static_cast<uint64_t>(g.w2 - o.crop + 1)) >> 32);
  }
  d.flip = o.hflip && (b.v[2] >> 31) != 0;
  return d;
}

// Writes the augmented image of src [h, w, c] (uint8, HWC) to dst [H', W', c]
// (output_shape), values in [0, 255] unless rescale. Allocates only for a two-pass
// evaluation resize.
template <FloatingPoint T>
void augment_image(const uint8_t* src, int64_t h, int64_t w, int64_t c, T* dst, const AugmentOptions& o, bool training,
                   uint64_t seed, uint64_t epoch, uint64_t index) {
  check_epoch("augment", epoch);
  const detail::AugmentGeometry g = detail::augment_geometry(o, h, w, c, training);
  const T scale = o.rescale ? static_cast<T>(1.0 / 255.0) : T(1);
  if (g.eval_resized) {
    if (o.resize) {
      std::vector<T> tmp(static_cast<size_t>(g.h1 * g.w1 * c));
      resize_bilinear(src, h, w, c, tmp.data(), g.h1, g.w1);
      resize_bilinear(tmp.data(), g.h1, g.w1, c, dst, g.out_h, g.out_w);
    } else {
      resize_bilinear(src, h, w, c, dst, g.out_h, g.out_w);
    }
    if (o.rescale)
      for (int64_t i = 0; i < g.out_h * g.out_w * c; ++i) dst[i] *= scale;
    return;
  }
  const AugmentDraw d = augment_draw(o, h, w, training, seed, epoch, index);
  // With flip, output column x reads window column out_w - 1 - x. Window (y, x) is padded
  // (top + y, left + x), resized-image (top + y - pad, left + x - pad), zero outside.
  // Each output column's source (and its bilinear taps) is worked out once per image.
  const bool resized = o.resize > 0 && (g.h1 != h || g.w1 != w);
  struct Column {
    int64_t rx;  // column of the (resized) image, -1 in the padding
    BilinearTap tap;
  };
  std::vector<Column> cols(static_cast<size_t>(g.out_w));
  for (int64_t x = 0; x < g.out_w; ++x) {
    const int64_t rx = d.left + (d.flip ? g.out_w - 1 - x : x) - o.pad;
    Column& col = cols[static_cast<size_t>(x)];
    col.rx = (rx < 0 || rx >= g.w1) ? -1 : rx;
    if (resized && col.rx >= 0) col.tap = bilinear_tap(rx, w, g.w1);
  }
  for (int64_t y = 0; y < g.out_h; ++y) {
    const int64_t ry = d.top + y - o.pad;
    T* row = dst + y * g.out_w * c;
    if (ry < 0 || ry >= g.h1) {
      std::fill(row, row + g.out_w * c, T(0));
      continue;
    }
    const BilinearTap ty = resized ? bilinear_tap(ry, h, g.h1) : BilinearTap{};
    const uint8_t* upper_row = src + ty.lower * w * c;  // TensorFlow's "top" row
    const uint8_t* lower_row = src + ty.upper * w * c;
    const T yl = static_cast<T>(ty.lerp);
    for (int64_t x = 0; x < g.out_w; ++x) {
      const Column& col = cols[static_cast<size_t>(x)];
      T* px = row + x * c;
      if (col.rx < 0) {
        for (int64_t ch = 0; ch < c; ++ch) px[ch] = T(0);
      } else if (resized) {
        // bilinear_value's arithmetic, with the row and column offsets hoisted.
        const int64_t xa = col.tap.lower * c, xb = col.tap.upper * c;
        const T xl = static_cast<T>(col.tap.lerp);
        for (int64_t ch = 0; ch < c; ++ch) {
          const T tl = upper_row[xa + ch], tr = upper_row[xb + ch];
          const T bl = lower_row[xa + ch], br = lower_row[xb + ch];
          const T top = tl + (tr - tl) * xl, bottom = bl + (br - bl) * xl;
          px[ch] = (top + (bottom - top) * yl) * scale;
        }
      } else {
        const uint8_t* sp = src + (ry * w + col.rx) * c;
        for (int64_t ch = 0; ch < c; ++ch) px[ch] = static_cast<T>(sp[ch]) * scale;
      }
    }
  }
}

}  // namespace patchnet::data
