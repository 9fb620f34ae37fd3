// augment_image: output sizes of the seeds' pipelines, the keyed (seed, epoch, index)
// randomness, exact flips and pad + crop windows, resizes, rescaling and errors.
#include <cmath>
#include <set>
#include <vector>

#include "patchnet/data/augment.hpp"
#include "support/test_util.hpp"

using namespace patchnet;
using namespace patchnet::data;

namespace {
// An h x w x c image of distinct-looking bytes.
std::vector<uint8_t> image(int64_t h, int64_t w, int64_t c, uint64_t seed) {
  std::vector<uint8_t> p(static_cast<size_t>(h * w * c));
  for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<uint8_t>(math::philox_word(seed, 0, i) >> 24);
  return p;
}

template <class T>
std::vector<T> run(const std::vector<uint8_t>& src, int64_t h, int64_t w, int64_t c, const AugmentOptions& o,
                   bool training, uint64_t seed, uint64_t epoch, uint64_t index) {
  const Shape s = output_shape(o, h, w, c, training);
  std::vector<T> out(static_cast<size_t>(s.numel()), T(-1));
  augment_image<T>(src.data(), h, w, c, out.data(), o, training, seed, epoch, index);
  return out;
}

// Which window (top, left) of the zero-padded image `out` equals, searched over all
// offsets; -1 if none or more than one.
std::pair<int64_t, int64_t> find_window(const std::vector<float>& out, const std::vector<uint8_t>& src, int64_t h,
                                        int64_t w, int64_t c, int64_t pad, int64_t crop, bool flipped) {
  std::pair<int64_t, int64_t> found{-1, -1};
  int matches = 0;
  for (int64_t top = 0; top <= h + 2 * pad - crop; ++top)
    for (int64_t left = 0; left <= w + 2 * pad - crop; ++left) {
      bool same = true;
      for (int64_t y = 0; y < crop && same; ++y)
        for (int64_t x = 0; x < crop && same; ++x) {
          const int64_t sx = flipped ? crop - 1 - x : x;
          const int64_t py = top + y - pad, px = left + sx - pad;
          for (int64_t ch = 0; ch < c; ++ch) {
            const float want = (py < 0 || py >= h || px < 0 || px >= w)
                                   ? 0.0f
                                   : float(src[static_cast<size_t>((py * w + px) * c + ch)]);
            if (out[static_cast<size_t>((y * crop + x) * c + ch)] != want) same = false;
          }
        }
      if (same) {
        ++matches;
        found = {top, left};
      }
    }
  return matches == 1 ? found : std::pair<int64_t, int64_t>{-1, -1};
}
}  // namespace

TEST_CASE("data: augment output shapes of the seeds' pipelines") {
  const AugmentOptions shiftvit{.rescale = true, .resize = 52, .crop = 48, .hflip = true, .eval_resize = 48};
  CHECK(output_shape(shiftvit, 32, 32, 3, true) == Shape{48, 48, 3});
  CHECK(output_shape(shiftvit, 32, 32, 3, false) == Shape{48, 48, 3});
  const AugmentOptions convmixer{.hflip = true};
  CHECK(output_shape(convmixer, 32, 32, 3, true) == Shape{32, 32, 3});
  CHECK(output_shape(convmixer, 32, 32, 3, false) == Shape{32, 32, 3});
  const AugmentOptions cifar{.crop = 32, .pad = 4, .hflip = true};
  CHECK(output_shape(cifar, 32, 32, 3, true) == Shape{32, 32, 3});
  CHECK(output_shape(cifar, 32, 32, 3, false) == Shape{32, 32, 3});
  // Without eval_resize, evaluation centre-crops the resized image.
  CHECK(output_shape({.resize = 52, .crop = 48}, 32, 32, 3, false) == Shape{48, 48, 3});
  CHECK(output_shape({.resize = 40}, 32, 24, 1, true) == Shape{40, 40, 1});
  CHECK(output_shape({}, 31, 17, 3, true) == Shape{31, 17, 3});

  CHECK_THROWS_PN(output_shape({.crop = 48}, 32, 32, 3, true), "augment: crop 48 is larger than the image 32x32");
  CHECK_THROWS_PN(output_shape({.crop = 41, .pad = 4}, 32, 32, 3, true),
                  "crop 41 is larger than the padded image 40x40");
  CHECK_THROWS_PN(output_shape({.pad = 4}, 32, 32, 3, true), "augment: pad 4 without crop");
  CHECK_THROWS_PN(output_shape({.resize = -1}, 32, 32, 3, true), "augment: negative option: resize -1");
  CHECK_THROWS_PN(output_shape({}, 0, 32, 3, true), "augment: input image 0x32x3 must have positive sizes");
  std::vector<uint8_t> src(12);
  std::vector<float> dst(12);
  CHECK_THROWS_PN(augment_image<float>(src.data(), 2, 2, 3, dst.data(), {}, true, 1, uint64_t{1} << 32, 0),
                  "augment: epoch 4294967296 is too large");
}

TEST_CASE("data: augmentation is a pure function of (seed, epoch, index)") {
  const AugmentOptions o{.crop = 32, .pad = 4, .hflip = true};
  const auto src = image(32, 32, 3, 7);
  const auto a = run<float>(src, 32, 32, 3, o, true, 5, 3, 17);
  (void)run<float>(src, 32, 32, 3, o, true, 5, 9, 2);  // other draws in between change nothing
  CHECK(run<float>(src, 32, 32, 3, o, true, 5, 3, 17) == a);
  CHECK(run<double>(src, 32, 32, 3, o, true, 5, 3, 17) == std::vector<double>(a.begin(), a.end()));

  // The draws: different epochs, seeds and indices give different windows; over many
  // samples every offset in [0, 8] appears and about half are flipped.
  int differ_epoch = 0, differ_seed = 0, flips = 0;
  std::set<int64_t> tops, lefts;
  for (uint64_t i = 0; i < 2000; ++i) {
    const AugmentDraw d = augment_draw(o, 32, 32, true, 5, 3, i);
    const AugmentDraw e = augment_draw(o, 32, 32, true, 5, 4, i);
    const AugmentDraw s = augment_draw(o, 32, 32, true, 6, 3, i);
    differ_epoch += d.top != e.top || d.left != e.left || d.flip != e.flip;
    differ_seed += d.top != s.top || d.left != s.left || d.flip != s.flip;
    flips += d.flip;
    tops.insert(d.top);
    lefts.insert(d.left);
    CHECK((d.top >= 0 && d.top <= 8 && d.left >= 0 && d.left <= 8));
  }
  CHECK(differ_epoch > 1900);
  CHECK(differ_seed > 1900);
  CHECK(tops.size() == 9u);
  CHECK(lefts.size() == 9u);
  CHECK(flips > 900);
  CHECK(flips < 1100);
  // Evaluation: the centre window, never flipped, whatever the key.
  for (uint64_t i = 0; i < 20; ++i) {
    const AugmentDraw d = augment_draw(o, 32, 32, false, 5, 3, i);
    CHECK(d.top == 4);
    CHECK(d.left == 4);
    CHECK_FALSE(d.flip);
  }
  // Flip only (the ConvMixer pipeline): about half flipped, no offset.
  int flip_only = 0;
  for (uint64_t i = 0; i < 2000; ++i) {
    const AugmentDraw d = augment_draw({.hflip = true}, 32, 32, true, 5, 3, i);
    flip_only += d.flip;
    CHECK((d.top == 0 && d.left == 0));
  }
  CHECK(flip_only > 900);
  CHECK(flip_only < 1100);
  // No hflip: never flipped.
  for (uint64_t i = 0; i < 100; ++i) CHECK_FALSE(augment_draw({.crop = 30}, 32, 32, true, 5, 3, i).flip);
}

TEST_CASE("data: pad + random crop keeps the window's pixels, zeros outside, flip mirrors exactly") {
  const int64_t h = 12, w = 10, c = 3, pad = 3, crop = 9;
  const auto src = image(h, w, c, 3);
  const AugmentOptions o{.crop = crop, .pad = pad, .hflip = true};
  int flipped = 0, with_zeros = 0;
  for (uint64_t i = 0; i < 40; ++i) {
    const auto out = run<float>(src, h, w, c, o, true, 11, 2, i);
    const AugmentDraw d = augment_draw(o, h, w, true, 11, 2, i);
    const auto found = find_window(out, src, h, w, c, pad, crop, d.flip);
    CHECK_MESSAGE(found.first == d.top, "sample ", i);
    CHECK_MESSAGE(found.second == d.left, "sample ", i);
    flipped += d.flip;
    with_zeros += d.top < pad || d.left < pad;
  }
  CHECK(flipped > 5);
  CHECK(with_zeros > 5);

  // Flip alone on the full image: out(y, x) = src(y, w - 1 - x) exactly, else identity.
  const AugmentOptions f{.hflip = true};
  int seen_flip = 0, seen_plain = 0;
  for (uint64_t i = 0; i < 16; ++i) {
    const auto out = run<double>(src, h, w, c, f, true, 1, 0, i);
    const bool flip = augment_draw(f, h, w, true, 1, 0, i).flip;
    (flip ? seen_flip : seen_plain)++;
    int bad = 0;
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        for (int64_t ch = 0; ch < c; ++ch) {
          const int64_t sx = flip ? w - 1 - x : x;
          bad += out[static_cast<size_t>((y * w + x) * c + ch)] != src[static_cast<size_t>((y * w + sx) * c + ch)];
        }
    CHECK(bad == 0);
    // Evaluation never flips.
    const auto ev = run<double>(src, h, w, c, f, false, 1, 0, i);
    CHECK(std::equal(ev.begin(), ev.end(), src.begin()));
  }
  CHECK(seen_flip > 0);
  CHECK(seen_plain > 0);

  // CIFAR pad 4 crop 32 at evaluation: the centre window is the image itself.
  const auto cifar = image(32, 32, 3, 4);
  const auto ev = run<float>(cifar, 32, 32, 3, {.crop = 32, .pad = 4, .hflip = true}, false, 1, 0, 0);
  CHECK(std::equal(ev.begin(), ev.end(), cifar.begin()));
}

TEST_CASE("data: resize in augmentation: constants stay constant, values are TensorFlow's bilinear") {
  std::vector<uint8_t> flat(32 * 32 * 3, 77);
  const AugmentOptions shiftvit{.resize = 52, .crop = 48, .hflip = true, .eval_resize = 48};
  for (bool training : {true, false}) {
    const auto out = run<float>(flat, 32, 32, 3, shiftvit, training, 2, 1, 5);
    CHECK(out.size() == 48u * 48u * 3u);
    CHECK(std::all_of(out.begin(), out.end(), [](float v) { return v == 77.0f; }));
  }
  const auto wide = run<double>(flat, 32, 32, 3, {.resize = 52}, true, 2, 1, 5);
  CHECK(wide.size() == 52u * 52u * 3u);
  CHECK(std::all_of(wide.begin(), wide.end(), [](double v) { return v == 77.0; }));

  // Training: the crop of the 52x52 resize; evaluation: 32 -> 52 -> 48, two bilinear passes
  // (Keras: Resizing(52), then RandomCrop's inference path resizes to 48).
  const auto src = image(32, 32, 3, 8);
  std::vector<float> r52(52 * 52 * 3), r48(48 * 48 * 3);
  resize_bilinear(src.data(), 32, 32, 3, r52.data(), 52, 52);
  resize_bilinear(r52.data(), 52, 52, 3, r48.data(), 48, 48);
  CHECK(run<float>(src, 32, 32, 3, shiftvit, false, 2, 1, 5) == r48);
  for (uint64_t i = 0; i < 6; ++i) {
    const auto out = run<float>(src, 32, 32, 3, shiftvit, true, 2, 1, i);
    const AugmentDraw d = augment_draw(shiftvit, 32, 32, true, 2, 1, i);
    int bad = 0;
    for (int64_t y = 0; y < 48; ++y)
      for (int64_t x = 0; x < 48; ++x)
        for (int64_t ch = 0; ch < 3; ++ch) {
          const int64_t sx = d.left + (d.flip ? 47 - x : x);
          bad += out[static_cast<size_t>((y * 48 + x) * 3 + ch)] !=
                 r52[static_cast<size_t>(((d.top + y) * 52 + sx) * 3 + ch)];
        }
    CHECK_MESSAGE(bad == 0, "sample ", i);
  }
  // Rescale multiplies by 1/255 at the end.
  const auto scaled =
      run<float>(src, 32, 32, 3, {.rescale = true, .resize = 52, .crop = 48, .eval_resize = 48}, false, 2, 1, 5);
  for (size_t i = 0; i < scaled.size(); i += 97) CHECK(scaled[i] == r48[i] * (1.0f / 255.0f));
  const auto plain = run<double>(src, 32, 32, 3, {.rescale = true}, true, 0, 0, 0);
  for (size_t i = 0; i < plain.size(); i += 31) CHECK(std::abs(plain[i] - src[i] / 255.0) < 1e-15);
}
