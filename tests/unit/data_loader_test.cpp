// BatchLoader: each index once per epoch, order keyed on (seed, epoch), resume at batch k,
// partial last batch, prefetch depth not changing results, errors from the worker, and
// stopping mid-epoch; to_tensor.
#include <algorithm>
#include <chrono>
#include <limits>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "patchnet/data/loader.hpp"
#include "support/test_util.hpp"

using namespace patchnet;
using namespace patchnet::data;

namespace {
// n images of 6x5x3 where label = index (so a batch says which images it holds) and
// pixels are random.
ImageSet indexed_set(int64_t n) {
  ImageSet s = synthetic_image_set(n, 6, 5, 3, 1, 99);
  for (int64_t i = 0; i < n; ++i) s.labels[static_cast<size_t>(i)] = static_cast<int32_t>(i);
  s.class_names.clear();  // num_classes = n
  return s;
}

struct Epoch {
  std::vector<std::vector<float>> images;
  std::vector<std::vector<int32_t>> labels;
  std::vector<int64_t> index;
};

Epoch collect(BatchLoader<float>& loader, int64_t epoch, int64_t first = 0, int64_t max_batches = -1) {
  Epoch e;
  loader.start_epoch(epoch, first);
  Batch<float> b;
  while ((max_batches < 0 || static_cast<int64_t>(e.index.size()) < max_batches) && loader.next(b)) {
    e.images.push_back(b.images.to_vector());
    e.labels.push_back(b.labels.to_vector());
    e.index.push_back(b.index);
  }
  return e;
}

std::vector<int32_t> flat_labels(const Epoch& e) {
  std::vector<int32_t> all;
  for (const auto& l : e.labels) all.insert(all.end(), l.begin(), l.end());
  return all;
}
}  // namespace

TEST_CASE("data: epoch_order is a keyed permutation, batches_per_epoch keeps the partial batch") {
  const auto a = epoch_order(1000, true, 7, 3);
  auto sorted = a;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> iota(1000);
  for (int64_t i = 0; i < 1000; ++i) iota[static_cast<size_t>(i)] = i;
  CHECK(sorted == iota);
  CHECK(a != iota);
  CHECK(epoch_order(1000, true, 7, 3) == a);
  CHECK(epoch_order(1000, true, 7, 4) != a);
  CHECK(epoch_order(1000, true, 8, 3) != a);
  CHECK(epoch_order(1000, false, 7, 3) == iota);
  // Roughly uniform: element 0 lands in the first half in about half of 400 epochs.
  int first_half = 0;
  for (uint64_t e = 0; e < 400; ++e) {
    const auto o = epoch_order(10, true, 1, e);
    first_half += std::find(o.begin(), o.end(), 0) - o.begin() < 5;
  }
  CHECK(first_half > 160);
  CHECK(first_half < 240);

  CHECK(batches_per_epoch(45000, 128, false) == 352);  // Keras: the last batch has 72 images
  CHECK(batches_per_epoch(45000, 128, true) == 351);
  CHECK(batches_per_epoch(58, std::numeric_limits<int64_t>::max(), false) == 1);  // no overflow in the rounding
  CHECK(batches_per_epoch(40000, 128, false) == 313);
  CHECK(batches_per_epoch(256, 128, false) == 2);
  CHECK_THROWS_PN(batches_per_epoch(10, 0, false), "batches_per_epoch: batch_size 0 must be positive");
}

TEST_CASE("data: a shuffle buffer moves each image only about the buffer's length early, as tf.data's") {
  const int64_t n = 5000, buffer = 64;
  const auto a = epoch_order(n, true, 7, 0, buffer);
  auto sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < n; ++i) REQUIRE(sorted[static_cast<size_t>(i)] == i);  // a permutation
  CHECK(epoch_order(n, true, 7, 0, buffer) == a);
  CHECK(epoch_order(n, true, 7, 1, buffer) != a);  // reshuffled every epoch
  CHECK(epoch_order(n, true, 7, 0, buffer) != epoch_order(n, true, 7, 0, 0));
  // Image i can leave no earlier than position i - buffer + 1 (it enters the buffer when
  // image i - buffer leaves); a full shuffle moves images thousands of places.
  int64_t earliest = 0, far_late = 0;
  for (int64_t p = 0; p < n; ++p) {
    const int64_t i = a[static_cast<size_t>(p)];
    earliest = std::max(earliest, i - p);
    far_late += p - i > 4 * buffer;
  }
  CHECK(earliest <= buffer - 1);
  CHECK(earliest >= buffer / 2);  // and the buffer is used: some image does leave early
  CHECK(far_late < n / 20);       // waiting k draws has probability (1 - 1/buffer)^k
  int64_t full_far = 0;
  const auto f = epoch_order(n, true, 7, 0, 0);
  for (int64_t p = 0; p < n; ++p) full_far += std::abs(f[static_cast<size_t>(p)] - p) > 4 * buffer;
  CHECK(full_far > n / 2);
  // A buffer as large as the set is a uniform permutation again: element 0 lands in the
  // first half about half of the time.
  int first_half = 0;
  for (uint64_t e = 0; e < 400; ++e) {
    const auto o = epoch_order(10, true, 1, e, 10);
    first_half += std::find(o.begin(), o.end(), 0) - o.begin() < 5;
  }
  CHECK(first_half > 160);
  CHECK(first_half < 240);
  CHECK_THROWS_PN(epoch_order(10, true, 1, 0, -1), "epoch_order: shuffle buffer -1 must be >= 0");
  const ImageSet set = indexed_set(10);
  CHECK_THROWS_PN(BatchLoader<float>(set, {.shuffle_buffer = -2}), "BatchLoader: shuffle_buffer -2 must be >= 0");
}

TEST_CASE("data: BatchLoader delivers every image once per epoch, in a keyed order") {
  const ImageSet set = indexed_set(103);
  BatchLoader<float> loader(set, {.batch_size = 10, .shuffle = true, .training = false, .seed = 4});
  CHECK(loader.size() == 103);
  CHECK(loader.batches_per_epoch() == 11);
  CHECK(loader.image_shape() == Shape{6, 5, 3});
  const Epoch e0 = collect(loader, 0);
  REQUIRE(e0.index.size() == 11u);
  for (size_t b = 0; b < 11; ++b) {
    CHECK(e0.index[b] == static_cast<int64_t>(b));
    CHECK(e0.labels[b].size() == (b < 10 ? 10u : 3u));  // the partial last batch
  }
  auto order = flat_labels(e0);
  auto sorted = order;
  std::sort(sorted.begin(), sorted.end());
  for (int32_t i = 0; i < 103; ++i) CHECK(sorted[static_cast<size_t>(i)] == i);
  // The order is epoch_order(seed, epoch); images match their labels (no augmentation).
  const auto expected = epoch_order(103, true, 4, 0);
  for (size_t k = 0; k < 103; ++k) CHECK(order[k] == expected[k]);
  const auto all = to_tensor<float>(set, 0, 103, false).to_vector();
  for (size_t b = 0; b < 11; ++b)
    for (size_t i = 0; i < e0.labels[b].size(); ++i) {
      const auto label = static_cast<size_t>(e0.labels[b][i]);
      CHECK(std::equal(e0.images[b].begin() + static_cast<long>(i * 90),
                       e0.images[b].begin() + static_cast<long>((i + 1) * 90),
                       all.begin() + static_cast<long>(label * 90)));
    }

  // Another epoch, another order; the same epoch again, the same order; another seed differs.
  const auto order1 = flat_labels(collect(loader, 1));
  CHECK(order1 != order);
  CHECK(flat_labels(collect(loader, 0)) == order);
  BatchLoader<float> other_seed(set, {.batch_size = 10, .training = false, .seed = 5});
  CHECK(flat_labels(collect(other_seed, 0)) != order);
  // No shuffle: file order.
  BatchLoader<float> plain(set, {.batch_size = 10, .shuffle = false, .training = false});
  const auto in_order = flat_labels(collect(plain, 6));
  for (int32_t i = 0; i < 103; ++i) CHECK(in_order[static_cast<size_t>(i)] == i);

  // drop_last drops the 3-image batch.
  BatchLoader<float> dropping(set, {.batch_size = 10, .drop_last = true});
  CHECK(dropping.batches_per_epoch() == 10);
  const Epoch d = collect(dropping, 0);
  CHECK(d.index.size() == 10u);
  CHECK(flat_labels(d).size() == 100u);
}

TEST_CASE("data: BatchLoader resumed at batch k gives the uninterrupted epoch's batches, any prefetch") {
  const ImageSet set = indexed_set(77);
  const LoaderOptions opt{.batch_size = 8, .seed = 21, .augment = {.crop = 5, .pad = 2, .hflip = true}, .prefetch = 3};
  BatchLoader<float> loader(set, opt);
  const Epoch full = collect(loader, 5);
  REQUIRE(full.index.size() == 10u);
  for (int64_t k : {0, 1, 4, 9, 10}) {
    BatchLoader<float> resumed(set, opt);
    const Epoch rest = collect(resumed, 5, k);
    REQUIRE(rest.index.size() == static_cast<size_t>(10 - k));
    for (size_t j = 0; j < rest.index.size(); ++j) {
      CHECK(rest.index[j] == k + static_cast<int64_t>(j));
      CHECK(rest.labels[j] == full.labels[static_cast<size_t>(k) + j]);
      CHECK(rest.images[j] == full.images[static_cast<size_t>(k) + j]);  // same crops and flips
    }
  }
  // Augmentation is on and keyed by epoch: epoch 6 shows the same images differently.
  const Epoch e6 = collect(loader, 6);
  int64_t same_label_diff_pixels = 0;
  // Compare image of index 0 in both epochs.
  auto image_of = [](const Epoch& e, int32_t label) {
    for (size_t b = 0; b < e.labels.size(); ++b)
      for (size_t i = 0; i < e.labels[b].size(); ++i)
        if (e.labels[b][i] == label)
          return std::vector<float>(e.images[b].begin() + static_cast<long>(i * 75),
                                    e.images[b].begin() + static_cast<long>((i + 1) * 75));
    return std::vector<float>();
  };
  for (int32_t l = 0; l < 77; ++l) same_label_diff_pixels += image_of(full, l) != image_of(e6, l);
  CHECK(same_label_diff_pixels > 50);

  // Prefetch depth and a slow consumer change nothing; the worker equals make_batch.
  BatchLoader<float> slow(set, {.batch_size = 8, .seed = 21, .augment = opt.augment, .prefetch = 1});
  slow.start_epoch(5);
  Batch<float> b;
  const auto order = epoch_order(77, true, 21, 5);
  for (size_t j = 0; j < 10; ++j) {
    std::this_thread::sleep_for(std::chrono::milliseconds(j % 3));
    REQUIRE(slow.next(b));
    CHECK(b.images.to_vector() == full.images[j]);
    CHECK(b.images.shape() == Shape{j < 9 ? 8 : 5, 5, 5, 3});
    CHECK(b.labels.shape() == Shape{j < 9 ? 8 : 5});
    const Batch<float> direct = make_batch<float>(set, opt, order, 5, static_cast<int64_t>(j));
    CHECK(direct.images.to_vector() == full.images[j]);
  }
  CHECK_FALSE(slow.next(b));
  CHECK_FALSE(slow.next(b));  // stays done

  CHECK_THROWS_PN(loader.start_epoch(5, 11), "BatchLoader::start_epoch: first batch 11 out of range [0, 10]");
  CHECK_THROWS_PN(loader.start_epoch(-1), "BatchLoader::start_epoch: epoch -1 must be >= 0");
}

TEST_CASE("data: BatchLoader rethrows an error raised on the worker, after the batches before it") {
  const ImageSet set = indexed_set(50);
  BatchLoader<double> loader(set, {.batch_size = 10, .shuffle = false});
  loader.set_transform([](Batch<double>& b) {
    if (b.index == 2) fail("normalise: batch ", b.index, " is bad");
  });
  loader.start_epoch(3);
  Batch<double> b;
  REQUIRE(loader.next(b));
  CHECK(b.index == 0);
  REQUIRE(loader.next(b));
  CHECK(b.index == 1);
  CHECK_THROWS_PN(loader.next(b), "BatchLoader: epoch 3, batch 2: normalise: batch 2 is bad");
  CHECK_THROWS_PN(loader.next(b), "normalise: batch 2 is bad");  // until the next epoch

  // A non-patchnet exception keeps its type.
  loader.set_transform([](Batch<double>& b) {
    if (b.index == 0) throw std::runtime_error("custom failure");
  });
  loader.start_epoch(0);
  CHECK_THROWS_AS(loader.next(b), std::runtime_error);

  // Without the transform the epoch runs through.
  loader.set_transform(nullptr);
  loader.start_epoch(0);
  int count = 0;
  while (loader.next(b)) ++count;
  CHECK(count == 5);
}

TEST_CASE("data: BatchLoader stops cleanly mid-epoch: destroy, restart, stop") {
  const auto set = std::make_shared<const ImageSet>(indexed_set(200));
  for (int round = 0; round < 30; ++round) {
    BatchLoader<float> loader(set, {.batch_size = 4, .seed = static_cast<uint64_t>(round), .prefetch = 1 + round % 3});
    loader.start_epoch(round);
    Batch<float> b;
    for (int k = 0; k < round % 4; ++k) REQUIRE(loader.next(b));
    if (round % 2) {
      // A new epoch while batches are in flight: it starts from its own beginning.
      loader.start_epoch(round + 1, 2);
      REQUIRE(loader.next(b));
      CHECK(b.index == 2);
    }
  }  // destructors join workers blocked on a full queue
  BatchLoader<float> loader(set, {.batch_size = 4});
  loader.start_epoch(0);
  Batch<float> b;
  REQUIRE(loader.next(b));
  loader.stop();
  CHECK_FALSE(loader.next(b));
  loader.start_epoch(0, 49);
  REQUIRE(loader.next(b));
  CHECK(b.index == 49);
  CHECK_FALSE(loader.next(b));
  BatchLoader<float> never_started(set, {});
  CHECK_THROWS_PN(never_started.next(b), "BatchLoader::next: no epoch started (call start_epoch first)");
}

TEST_CASE("data: BatchLoader checks its options, to_tensor and labels_tensor") {
  const ImageSet set = indexed_set(12);
  CHECK_THROWS_PN(BatchLoader<float>(set, {.batch_size = 0}), "BatchLoader: batch_size 0 must be positive");
  CHECK_THROWS_PN(BatchLoader<float>(set, {.prefetch = 0}), "BatchLoader: prefetch 0 must be at least 1");
  CHECK_THROWS_PN(BatchLoader<float>(set, {.batch_size = 20, .drop_last = true}),
                  "BatchLoader: drop_last with batch_size 20 and 12 images leaves no batch");
  CHECK_THROWS_PN(BatchLoader<float>(set, {.augment = {.crop = 7}}), "augment: crop 7 is larger than the image 6x5");
  ImageSet broken = set;
  broken.labels.pop_back();
  CHECK_THROWS_PN(BatchLoader<float>(broken, {}), "BatchLoader: 11 labels for 12 images");
  const ImageSet empty{.height = 6, .width = 5};
  CHECK_THROWS_PN(BatchLoader<float>(empty, {}), "BatchLoader: empty image set");

  const auto t = to_tensor<double>(set, 3, 5, true);
  CHECK(t.shape() == Shape{2, 6, 5, 3});
  const auto v = t.to_vector();
  for (size_t i = 0; i < v.size(); ++i) CHECK(v[i] == set.pixels[3 * 90 + i] * (1.0 / 255.0));
  const auto raw = to_tensor<float>(set, 0, 12, false).to_vector();
  for (size_t i = 0; i < raw.size(); ++i) CHECK(raw[i] == float(set.pixels[i]));
  CHECK(to_tensor<float>(set, 4, 4, false).shape() == Shape{0, 6, 5, 3});
  CHECK(labels_tensor(set, 2, 6).to_vector() == std::vector<int32_t>{2, 3, 4, 5});
  CHECK_THROWS_PN(to_tensor<float>(set, 10, 13, false), "to_tensor: range [10, 13) is not within the set's [0, 12)");
  CHECK_THROWS_PN(labels_tensor(set, -1, 2), "labels_tensor: range [-1, 2)");
}

TEST_CASE("data: ranks' shares of each batch put together are the one-process batch") {
  const ImageSet set = synthetic_image_set(45, 6, 5, 3, 10, 21);  // batches of 12: 12, 12, 12, 9
  const LoaderOptions one{.batch_size = 12, .seed = 4, .augment = {.hflip = true}};
  const std::vector<int64_t> order = epoch_order(set.n, true, one.seed, 1, 0);
  for (int ranks : {2, 3}) {
    CAPTURE(ranks);
    for (int64_t b = 0; b < 4; ++b) {
      const Batch<float> whole = make_batch<float>(set, one, order, 1, b);
      std::vector<float> images;
      std::vector<int32_t> labels;
      for (int r = 0; r < ranks; ++r) {
        LoaderOptions o = one;
        o.rank = r;
        o.ranks = ranks;
        const Batch<float> part = make_batch<float>(set, o, order, 1, b);
        CHECK(part.global_size == whole.labels.numel());
        CHECK(part.labels.numel() ==
              dist::shard_of(whole.labels.numel(), r, ranks).hi - dist::shard_of(whole.labels.numel(), r, ranks).lo);
        const auto pi = part.images.to_vector();
        const auto pl = part.labels.to_vector();
        images.insert(images.end(), pi.begin(), pi.end());
        labels.insert(labels.end(), pl.begin(), pl.end());
      }
      CHECK(images == whole.images.to_vector());  // same images, same flips, same order
      CHECK(labels == whole.labels.to_vector());
    }
  }
  CHECK_THROWS_PN(BatchLoader<float>(set, LoaderOptions{.batch_size = 12, .rank = 0, .ranks = 5}),
                  "BatchLoader: the batch size 12 does not divide among 5 processes");
  CHECK_THROWS_PN(BatchLoader<float>(set, LoaderOptions{.batch_size = 12, .rank = 2, .ranks = 2}),
                  "BatchLoader: rank 2 of 2 processes is out of range");
  LoaderOptions tiny{.batch_size = 4, .rank = 0, .ranks = 4};  // 45 = 11 x 4 + 1: the last batch has 1 image
  CHECK_THROWS_PN(make_batch<float>(set, tiny, order, 1, 11), "make_batch: batch 11 has 1 images, fewer than the 4");
}
