// ImageSet: a labelled image data set held in memory as 8-bit NHWC pixels, the train /
// validation splits of the three seeds, a synthetic set for runs without data, and the
// CIFAR-10 class names.
//
// Pixels stay uint8 (CIFAR-10 training set: 150 MB) and are converted to T per batch by
// the loader (data/loader.hpp), after augmentation.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "patchnet/core/error.hpp"
#include "patchnet/data/keyed_random.hpp"

namespace patchnet::data {

struct ImageSet {
  int64_t n = 0, height = 0, width = 0, channels = 3;
  std::vector<uint8_t> pixels;           // NHWC, n * height * width * channels bytes
  std::vector<int32_t> labels;           // n, each in [0, num_classes())
  std::vector<std::string> class_names;  // label -> name (may be empty)

  int64_t image_bytes() const { return height * width * channels; }
  // Pixels of image i (height * width * channels bytes, HWC).
  const uint8_t* image(int64_t i) const {
    PN_CHECK(i >= 0 && i < n, "ImageSet::image: index ", i, " out of range [0, ", n, ")");
    PN_CHECK(static_cast<int64_t>(pixels.size()) >= (i + 1) * image_bytes(), "ImageSet::image: set holds ",
             pixels.size(), " pixel bytes, too few for image ", i, " of ", height, "x", width, "x", channels);
    return pixels.data() + i * image_bytes();
  }
  // The number of class names; without names, the largest label + 1.
  int64_t num_classes() const {
    if (!class_names.empty()) return static_cast<int64_t>(class_names.size());
    int64_t m = 0;
    for (int32_t l : labels) m = std::max<int64_t>(m, int64_t{l} + 1);
    return m;
  }
};

// Throws unless the set is self-consistent: sizes positive, pixel and label counts match
// n, labels in [0, num_classes()). `what` names the set in the message.
inline void validate(const ImageSet& s, const std::string& what) {
  PN_CHECK(s.n >= 0 && s.height > 0 && s.width > 0 && s.channels > 0, what, ": bad image set geometry: n ", s.n, ", ",
           s.height, "x", s.width, "x", s.channels);
  PN_CHECK(static_cast<int64_t>(s.pixels.size()) == s.n * s.image_bytes(), what, ": ", s.pixels.size(),
           " pixel bytes, expected n * h * w * c = ", s.n, " * ", s.height, " * ", s.width, " * ", s.channels, " = ",
           s.n * s.image_bytes());
  PN_CHECK(static_cast<int64_t>(s.labels.size()) == s.n, what, ": ", s.labels.size(), " labels for ", s.n, " images");
  const int64_t k = s.num_classes();
  for (size_t i = 0; i < s.labels.size(); ++i)
    PN_CHECK(s.labels[i] >= 0 && s.labels[i] < k, what, ": image ", i, ": label ", s.labels[i], " out of range [0, ", k,
             ")");
}

// Images [begin, end) as a new set (pixels copied), class names kept.
inline ImageSet subset(const ImageSet& s, int64_t begin, int64_t end) {
  PN_CHECK(0 <= begin && begin <= end && end <= s.n, "subset: range [", begin, ", ", end,
           ") is not within the set's [0, ", s.n, ")");
  PN_CHECK(
      static_cast<int64_t>(s.pixels.size()) == s.n * s.image_bytes() && static_cast<int64_t>(s.labels.size()) == s.n,
      "subset: inconsistent set: ", s.pixels.size(), " pixel bytes and ", s.labels.size(), " labels for ", s.n,
      " images of ", s.height, "x", s.width, "x", s.channels);
  ImageSet out;
  out.n = end - begin;
  out.height = s.height;
  out.width = s.width;
  out.channels = s.channels;
  out.pixels.assign(s.pixels.begin() + begin * s.image_bytes(), s.pixels.begin() + end * s.image_bytes());
  out.labels.assign(s.labels.begin() + begin, s.labels.begin() + end);
  out.class_names = s.class_names;
  return out;
}

// Random pixels (uniform bytes) and labels (uniform in [0, num_classes)), a pure function
// of the arguments (Philox keyed on seed), for --synthetic runs that need no data.
// Class names are "class0", "class1", ...
inline ImageSet synthetic_image_set(int64_t n, int64_t height, int64_t width, int64_t channels, int64_t num_classes,
                                    uint64_t seed) {
  PN_CHECK(n > 0 && height > 0 && width > 0 && channels > 0, "synthetic_image_set: sizes must be positive, got n ", n,
           ", ", height, "x", width, "x", channels);
  PN_CHECK(num_classes > 0 && num_classes <= 0x7FFFFFFF, "synthetic_image_set: num_classes ", num_classes,
           " must be in [1, 2^31)");
  ImageSet s;
  s.n = n;
  s.height = height;
  s.width = width;
  s.channels = channels;
  s.pixels.resize(static_cast<size_t>(n * s.image_bytes()));
  // Pixels: block k of epoch 0 gives bytes 16k .. 16k+15; labels use epoch 1.
  const int64_t bytes = static_cast<int64_t>(s.pixels.size());
  for (int64_t k = 0; k * 16 < bytes; ++k) {
    const math::PhiloxBlock b = keyed_block(seed, RandomStream::Synthetic, 0, static_cast<uint64_t>(k));
    for (int64_t j = 0; j < 16 && k * 16 + j < bytes; ++j)
      s.pixels[static_cast<size_t>(k * 16 + j)] = static_cast<uint8_t>(b.v[j / 4] >> (8 * (j % 4)));
  }
  s.labels.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const math::PhiloxBlock b = keyed_block(seed, RandomStream::Synthetic, 1, static_cast<uint64_t>(i));
    s.labels[static_cast<size_t>(i)] =
        static_cast<int32_t>(uniform_below(b.v[0], b.v[1], static_cast<uint64_t>(num_classes)));
  }
  for (int64_t c = 0; c < num_classes; ++c) s.class_names.push_back("class" + std::to_string(c));
  return s;
}

// CIFAR-10's classes in label order.
inline const std::vector<std::string>& cifar10_class_names() {
  static const std::vector<std::string> names = {"airplane", "automobile", "bird",  "cat",  "deer",
                                                 "dog",      "frog",       "horse", "ship", "truck"};
  return names;
}

// ---- train / validation splits -------------------------------------------------------
// None of the seeds shuffles before splitting: the split takes a fixed block of the
// training files, in file order.

struct TrainValSplit {
  ImageSet train, val;
};

// Validation = the first n_val images, train = the rest.
inline TrainValSplit split_head(const ImageSet& all, int64_t n_val) {
  PN_CHECK(n_val > 0 && n_val < all.n, "split_head: ", n_val, " validation images out of ", all.n,
           " leave no training or no validation images (need 0 < n_val < ", all.n, ")");
  return {subset(all, n_val, all.n), subset(all, 0, n_val)};
}

// Train = the first n - n_val images, validation = the last n_val.
inline TrainValSplit split_tail(const ImageSet& all, int64_t n_val) {
  PN_CHECK(n_val > 0 && n_val < all.n, "split_tail: ", n_val, " validation images out of ", all.n,
           " leave no training or no validation images (need 0 < n_val < ", all.n, ")");
  return {subset(all, 0, all.n - n_val), subset(all, all.n - n_val, all.n)};
}

namespace detail {
// round(fraction * n) validation images, checked to leave both parts non-empty.
inline int64_t validation_count(const char* op, const ImageSet& all, double fraction) {
  PN_CHECK(fraction > 0.0 && fraction < 1.0, op, ": validation fraction ", fraction, " must be in (0, 1)");
  const int64_t n_val = static_cast<int64_t>(std::llround(fraction * static_cast<double>(all.n)));
  PN_CHECK(n_val > 0 && n_val < all.n, op, ": validation fraction ", fraction, " of ", all.n, " images gives ", n_val,
           " validation images, leaving one part empty");
  return n_val;
}
}  // namespace detail

// The same with the validation size given as a fraction of the set (rounded).
inline TrainValSplit split_head_fraction(const ImageSet& all, double fraction) {
  return split_head(all, detail::validation_count("split_head_fraction", all, fraction));
}
inline TrainValSplit split_tail_fraction(const ImageSet& all, double fraction) {
  return split_tail(all, detail::validation_count("split_tail_fraction", all, fraction));
}

// The seeds' splits of the 50,000 CIFAR-10 training images, proportional on smaller sets
// (the 2,000-image mini set gives 200 / 1,800 and 1,600 / 400).
//
// ConvMixer (Keras example): val_split = 0.1; x_val = x_train[:5000], train = x_train[5000:].
inline TrainValSplit split_convmixer(const ImageSet& train_files) { return split_head_fraction(train_files, 0.1); }
// ShiftViT (Keras example): train = x_train[:40000], validation = x_train[40000:].
inline TrainValSplit split_shiftvit(const ImageSet& train_files) { return split_tail_fraction(train_files, 0.2); }
// Involution (Keras example): trains on all 50,000 and validates on the test set.
inline TrainValSplit split_involution(const ImageSet& train_files, const ImageSet& test_files) {
  return {train_files, test_files};
}

}  // namespace patchnet::data
