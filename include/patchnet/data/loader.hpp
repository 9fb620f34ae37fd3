// BatchLoader: shuffled, augmented mini-batches of an ImageSet, prepared on one
// background thread while the training step runs; and to_tensor for plain conversions.
//
// Determinism: the order of epoch e is a permutation of [0, n) that is a pure function of
// (seed, e) (Fisher-Yates driven by keyed Philox, data/keyed_random.hpp, or tf.data's
// buffered shuffle with shuffle_buffer > 0), the identity without shuffle; each image's augmentation is a pure function
// of (seed, e, its index in the set) (data/augment.hpp). So batch k of epoch e is the same whether the epoch runs from
// the start or is resumed at k (start_epoch(e, k), for --resume), and whatever the thread count.
//
// Batching: as Keras, the last partial batch is kept (45,000 / 128 -> 352 batches, the last
// of 72 images) unless drop_last.
//
// Data parallel (ranks > 1): every rank walks the same global batches (same seed, same
// order) and makes only its share of each, rows dist::shard_of(count, rank, ranks); the
// batch size must divide among the ranks (the last partial batch may not: its shares
// differ by one, and Batch::global_size lets the loss weigh them).
//
// Threading: one std::thread fills batches up to `prefetch` ahead into a bounded queue
// (mutex + two condition variables). It uses no OpenMP: the cores belong to the training
// step. An exception on the worker is captured and rethrown by next() after the batches
// made before it. The destructor, stop() and start_epoch() stop and join the worker, also
// while it waits on a full queue.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <numeric>
#include <thread>
#include <utility>
#include <vector>

#include "patchnet/core/error.hpp"
#include "patchnet/core/tensor.hpp"
#include "patchnet/data/augment.hpp"
#include "patchnet/data/image_set.hpp"
#include "patchnet/data/keyed_random.hpp"
#include "patchnet/dist/group.hpp"

namespace patchnet::data {

struct LoaderOptions {
  int64_t batch_size = 128;
  bool shuffle = true;
  // 0: a uniform permutation. N > 0: tf.data's Dataset.shuffle(N), as the Keras examples use
  // (ConvMixer 1,280, the involution example 256): a buffer of the next N images in file order,
  // each output drawn uniformly from it, so an image moves only about N places early.
  int64_t shuffle_buffer = 0;
  bool training = true;  // augmentation on (random crop / flip); off = evaluation path
  uint64_t seed = 0;
  AugmentOptions augment;
  bool drop_last = false;
  int prefetch = 2;         // batches prepared ahead (>= 1)
  int rank = 0, ranks = 1;  // data parallel: this process's share of every batch
};

template <FloatingPoint T>
struct Batch {
  Tensor<T> images;         // [B, H', W', C] NHWC, CPU
  Tensor<int32_t> labels;   // [B]
  int64_t index = 0;        // batch number in the epoch
  int64_t global_size = 0;  // images in the whole batch, over all ranks (B with one process)
};

// The order of epoch `epoch`: the identity without shuffle, else Fisher-Yates where step i
// (from n - 1 down to 1) swaps i with j uniform in [0, i], j from the Philox block of
// (seed, epoch, i).
//
// With buffer > 0, tf.data's buffered shuffle instead: a buffer holds the next `buffer`
// indices in file order; output p takes the slot j uniform in [0, size) (Philox block of
// (seed, epoch, p)), which is refilled with the next index, or, once the input is spent,
// with the buffer's last element. buffer >= n is a uniform permutation again.
inline std::vector<int64_t> epoch_order(int64_t n, bool shuffle, uint64_t seed, uint64_t epoch, int64_t buffer = 0) {
  PN_CHECK(n >= 0, "epoch_order: negative size ", n);
  PN_CHECK(buffer >= 0, "epoch_order: shuffle buffer ", buffer, " must be >= 0 (0: a full shuffle)");
  check_epoch("epoch_order", epoch);
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  if (!shuffle) return order;
  if (buffer > 0) {
    std::vector<int64_t> slots(order.begin(), order.begin() + std::min(buffer, n)), out;
    out.reserve(static_cast<size_t>(n));
    int64_t next = static_cast<int64_t>(slots.size());
    for (int64_t p = 0; p < n; ++p) {
      const math::PhiloxBlock b = keyed_block(seed, RandomStream::Shuffle, epoch, static_cast<uint64_t>(p));
      const auto j = static_cast<size_t>(uniform_below(b.v[0], b.v[1], slots.size()));
      out.push_back(slots[j]);
      if (next < n) {
        slots[j] = next++;
      } else {
        slots[j] = slots.back();
        slots.pop_back();
      }
    }
    return out;
  }
  for (int64_t i = n - 1; i > 0; --i) {
    const math::PhiloxBlock b = keyed_block(seed, RandomStream::Shuffle, epoch, static_cast<uint64_t>(i));
    const auto j = static_cast<int64_t>(uniform_below(b.v[0], b.v[1], static_cast<uint64_t>(i + 1)));
    std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
  }
  return order;
}

// Batches in an epoch of n images.
inline int64_t batches_per_epoch(int64_t n, int64_t batch_size, bool drop_last) {
  PN_CHECK(batch_size > 0, "batches_per_epoch: batch_size ", batch_size, " must be positive");
  return drop_last ? n / batch_size : n / batch_size + (n % batch_size != 0);  // no overflow for any batch_size
}

// Batch b of an epoch whose order is `order`, built on the calling thread (the loader's
// worker calls this; tests and single-threaded callers may too).
template <FloatingPoint T>
Batch<T> make_batch(const ImageSet& set, const LoaderOptions& opt, const std::vector<int64_t>& order, uint64_t epoch,
                    int64_t b) {
  const int64_t n = static_cast<int64_t>(order.size());
  const int64_t begin = b * opt.batch_size;
  PN_CHECK(b >= 0 && begin < n, "make_batch: batch ", b, " is outside an epoch of ", n, " images in batches of ",
           opt.batch_size);
  const int64_t global = std::min(opt.batch_size, n - begin);
  PN_CHECK(global >= opt.ranks, "make_batch: batch ", b, " has ", global, " images, fewer than the ", opt.ranks,
           " processes sharing it");
  const dist::Shard share = dist::shard_of(global, opt.rank, opt.ranks);
  const int64_t count = share.hi - share.lo;
  const Shape s = output_shape(opt.augment, set.height, set.width, set.channels, opt.training);
  const int64_t out_elems = s.numel();
  Batch<T> batch;
  batch.index = b;
  batch.global_size = global;
  batch.images = Tensor<T>::empty({count, s[0], s[1], s[2]});
  batch.labels = Tensor<int32_t>::empty({count});
  T* images = batch.images.data();
  int32_t* labels = batch.labels.data();
  for (int64_t i = 0; i < count; ++i) {
    const int64_t k = order[static_cast<size_t>(begin + share.lo + i)];
    augment_image<T>(set.image(k), set.height, set.width, set.channels, images + i * out_elems, opt.augment,
                     opt.training, opt.seed, epoch, static_cast<uint64_t>(k));
    labels[i] = set.labels[static_cast<size_t>(k)];
  }
  return batch;
}

template <FloatingPoint T>
class BatchLoader {
 public:
  // Keeps a reference to `set`: the set must outlive the loader (a temporary is refused).
  BatchLoader(const ImageSet& set, LoaderOptions opt) : set_(&set), opt_(std::move(opt)) { check(); }
  // Shares ownership of the set.
  BatchLoader(std::shared_ptr<const ImageSet> set, LoaderOptions opt)
      : owned_(std::move(set)), set_(owned_.get()), opt_(std::move(opt)) {
    PN_CHECK(set_ != nullptr, "BatchLoader: null image set");
    check();
  }
  BatchLoader(ImageSet&&, LoaderOptions) = delete;
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;
  ~BatchLoader() { stop(); }

  int64_t batches_per_epoch() const { return data::batches_per_epoch(set_->n, opt_.batch_size, opt_.drop_last); }
  // Images in the set (an epoch delivers all of them unless drop_last).
  int64_t size() const { return set_->n; }
  // {H', W', C} of one image of a batch.
  Shape image_shape() const {
    return output_shape(opt_.augment, set_->height, set_->width, set_->channels, opt_.training);
  }
  const LoaderOptions& options() const { return opt_; }
  const ImageSet& image_set() const { return *set_; }

  // A function run on the worker on each finished batch (e.g. normalisation); it may
  // throw (next() rethrows). Takes effect at the next start_epoch.
  void set_transform(std::function<void(Batch<T>&)> f) {
    std::lock_guard<std::mutex> lock(mu_);
    transform_ = std::move(f);
  }

  // Starts epoch `epoch` at batch `first_batch` (0 = from the beginning; batches_per_epoch()
  // = nothing left). Stops a running epoch first, dropping its prepared batches.
  void start_epoch(int64_t epoch, int64_t first_batch = 0) {
    PN_CHECK(epoch >= 0, "BatchLoader::start_epoch: epoch ", epoch, " must be >= 0");
    check_epoch("BatchLoader::start_epoch", static_cast<uint64_t>(epoch));
    const int64_t nb = batches_per_epoch();
    PN_CHECK(first_batch >= 0 && first_batch <= nb, "BatchLoader::start_epoch: first batch ", first_batch,
             " out of range [0, ", nb, "] (", nb, " batches per epoch)");
    stop();
    order_ = epoch_order(set_->n, opt_.shuffle, opt_.seed, static_cast<uint64_t>(epoch), opt_.shuffle_buffer);
    std::function<void(Batch<T>&)> transform;
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.clear();
      error_ = nullptr;
      stop_requested_ = false;
      done_ = false;
      started_ = true;
      transform = transform_;
    }
    try {
      worker_ = std::thread([this, epoch, first_batch, nb, transform = std::move(transform)] {
        run(static_cast<uint64_t>(epoch), first_batch, nb, transform);
      });
    } catch (...) {  // no thread: leave next() nothing to wait for
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
      started_ = false;
      throw;
    }
  }

  // The next batch of the epoch in `out`; false when the epoch is done (or stopped).
  // Rethrows an exception raised while preparing a batch, on this and later calls, until
  // the next start_epoch.
  bool next(Batch<T>& out) {
    std::unique_lock<std::mutex> lock(mu_);
    PN_CHECK(started_, "BatchLoader::next: no epoch started (call start_epoch first)");
    not_empty_.wait(lock, [&] { return !queue_.empty() || done_; });
    if (!queue_.empty()) {
      out = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      not_full_.notify_one();
      return true;
    }
    if (error_) std::rethrow_exception(error_);
    return false;
  }

  // Stops and joins the worker; prepared batches are dropped and next() returns false.
  void stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_requested_ = true;
    }
    not_full_.notify_all();
    if (worker_.joinable()) worker_.join();
    std::lock_guard<std::mutex> lock(mu_);
    queue_.clear();
    error_ = nullptr;
    done_ = true;
  }

 private:
  void check() const {
    validate(*set_, "BatchLoader");
    PN_CHECK(set_->n > 0, "BatchLoader: empty image set");
    PN_CHECK(opt_.batch_size > 0, "BatchLoader: batch_size ", opt_.batch_size, " must be positive");
    PN_CHECK(opt_.shuffle_buffer >= 0, "BatchLoader: shuffle_buffer ", opt_.shuffle_buffer,
             " must be >= 0 (0: a full shuffle)");
    PN_CHECK(opt_.prefetch >= 1, "BatchLoader: prefetch ", opt_.prefetch, " must be at least 1");
    PN_CHECK(opt_.ranks >= 1 && opt_.rank >= 0 && opt_.rank < opt_.ranks, "BatchLoader: rank ", opt_.rank, " of ",
             opt_.ranks, " processes is out of range");
    PN_CHECK(opt_.batch_size % opt_.ranks == 0, "BatchLoader: the batch size ", opt_.batch_size,
             " does not divide among ", opt_.ranks, " processes (each takes an equal share of every batch)");
    PN_CHECK(!opt_.drop_last || set_->n >= opt_.batch_size, "BatchLoader: drop_last with batch_size ", opt_.batch_size,
             " and ", set_->n, " images leaves no batch");
    (void)output_shape(opt_.augment, set_->height, set_->width, set_->channels, opt_.training);
  }

  // The worker: batches [first, nb) into the queue, waiting while it is full.
  void run(uint64_t epoch, int64_t first, int64_t nb, const std::function<void(Batch<T>&)>& transform) {
    int64_t b = first;
    try {
      for (; b < nb; ++b) {
        {
          std::unique_lock<std::mutex> lock(mu_);
          not_full_.wait(
              lock, [&] { return stop_requested_ || static_cast<int64_t>(queue_.size()) < int64_t{opt_.prefetch}; });
          if (stop_requested_) break;
        }
        Batch<T> batch = make_batch<T>(*set_, opt_, order_, epoch, b);
        if (transform) transform(batch);
        {
          std::lock_guard<std::mutex> lock(mu_);
          if (stop_requested_) break;
          queue_.push_back(std::move(batch));
        }
        not_empty_.notify_one();
      }
    } catch (const Error& e) {
      std::lock_guard<std::mutex> lock(mu_);
      error_ = std::make_exception_ptr(
          Error(::patchnet::detail::concat("BatchLoader: epoch ", epoch, ", batch ", b, ": ", e.what())));
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu_);
      error_ = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    not_empty_.notify_all();
  }

  std::shared_ptr<const ImageSet> owned_;
  const ImageSet* set_;
  LoaderOptions opt_;
  std::vector<int64_t> order_;  // written only while no worker runs

  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<Batch<T>> queue_;
  std::exception_ptr error_;
  std::function<void(Batch<T>&)> transform_;
  bool stop_requested_ = false, done_ = true, started_ = false;
  std::thread worker_;
};

// Images [begin, end) of the set as a [end - begin, H, W, C] tensor, no augmentation,
// times 1/255 if rescale.
template <FloatingPoint T>
Tensor<T> to_tensor(const ImageSet& set, int64_t begin, int64_t end, bool rescale) {
  PN_CHECK(0 <= begin && begin <= end && end <= set.n, "to_tensor: range [", begin, ", ", end,
           ") is not within the set's [0, ", set.n, ")");
  PN_CHECK(static_cast<int64_t>(set.pixels.size()) >= set.n * set.image_bytes(), "to_tensor: set holds ",
           set.pixels.size(), " pixel bytes, fewer than n * h * w * c = ", set.n * set.image_bytes());
  auto t = Tensor<T>::empty({end - begin, set.height, set.width, set.channels});
  const uint8_t* src = set.pixels.data() + begin * set.image_bytes();
  const T scale = rescale ? static_cast<T>(1.0 / 255.0) : T(1);
  T* dst = t.data();
  const int64_t count = t.numel();
  for (int64_t i = 0; i < count; ++i) dst[i] = static_cast<T>(src[i]) * scale;
  return t;
}

// Labels [begin, end) as an int32 tensor.
inline Tensor<int32_t> labels_tensor(const ImageSet& set, int64_t begin, int64_t end) {
  PN_CHECK(0 <= begin && begin <= end && end <= set.n && static_cast<int64_t>(set.labels.size()) >= end,
           "labels_tensor: range [", begin, ", ", end, ") is not within the set's [0, ", set.n, ")");
  auto t = Tensor<int32_t>::empty({end - begin});
  std::copy(set.labels.begin() + begin, set.labels.begin() + end, t.data());
  return t;
}

}  // namespace patchnet::data
