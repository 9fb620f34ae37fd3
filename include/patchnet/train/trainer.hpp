// The training loop: Keras' fit() with its ModelCheckpoint(save_best_only, monitor
// val_accuracy) and EarlyStopping(monitor val_accuracy, patience) callbacks, plus what a
// long run needs: checkpoints to resume from, a CSV log, a progress bar.
//
// Per step: lr = schedule(optimizer.steps()) (Keras passes `iterations`, 0 at the first
// update), forward in training mode, loss, backward, optimizer step. Per epoch: evaluation
// on the validation loader (eval mode, no graph), one summary line, the CSV log rewritten,
// best.safetensors written when validation accuracy improves (strictly, as Keras), and
// last.safetensors (model, optimizer, training state) always.
//
// Resume: every random choice is a pure function of the seed and the position (the data
// order and augmentation of (epoch, index), data/loader.hpp; dropout masks from a
// Generator whose offset is saved), so a run resumed from last.safetensors at (epoch,
// batch) computes exactly what the uninterrupted run computes. last.safetensors is also
// written every `checkpoint_every` steps, when --max-steps stops a run, and on Ctrl-C
// (SIGINT stops the run after the current step, with a checkpoint, instead of losing it).
//
// Data parallel (FitConfig::group with more than one rank, dist/group.hpp): each rank's
// loaders make its share of every global batch; each rank scales its loss by its share of
// the global batch, so the gradients summed over the ranks (one all-reduce, dist/
// data_parallel.hpp) are those of the global batch's mean loss, and every rank applies the
// same update; dropout and drop path draw the global batch's masks and keep their rows
// (Generator::set_batch_shard), so the masks, and the mask counter saved in checkpoints,
// are one process's. Rank 0's parameters and buffers are broadcast when fit() starts, its buffers
// after every step unless BatchNorm is synchronised (sync_batch_norm). Metrics and
// evaluations are summed over the ranks, so every rank takes the same decisions (early
// stopping, best checkpoint, Ctrl-C); rank 0 alone writes files and lines. On GPUs, pass
// dist::on_device(world, device) to sum the gradients in GPU memory with NCCL; the MPI
// world itself works too, through host copies.
#pragma once

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <string>

#include "patchnet/autograd/grad_mode.hpp"
#include "patchnet/core/random.hpp"
#include "patchnet/data/loader.hpp"
#include "patchnet/dist/data_parallel.hpp"
#include "patchnet/io/atomic_file.hpp"
#include "patchnet/ops/loss.hpp"
#include "patchnet/train/checkpoint.hpp"
#include "patchnet/train/history.hpp"
#include "patchnet/train/progress.hpp"

namespace patchnet::train {

// What the model outputs: logits (cross_entropy) or probabilities from a softmax head
// (cross_entropy_from_probs, Keras' sparse_categorical_crossentropy; the ConvMixer seed).
enum class LossKind { Logits, Probabilities };

template <FloatingPoint T>
Tensor<T> classification_loss(const Tensor<T>& out, const Tensor<int32_t>& labels, LossKind kind) {
  return kind == LossKind::Logits ? cross_entropy(out, labels) : cross_entropy_from_probs(out, labels);
}

struct FitConfig {
  int64_t epochs = 10;
  int64_t max_steps = 0;  // stop after this many optimizer steps in all (0: no limit)
  int64_t patience = 0;   // early stopping on validation accuracy (0: off)
  LossKind loss = LossKind::Logits;
  bool top5 = false;                            // also report top-5 accuracy (ShiftViT)
  std::string out_dir;                          // last.safetensors, best.safetensors, log.csv; empty: save nothing
  std::string csv_path;                         // the per-epoch log (default: <out_dir>/log.csv)
  int64_t checkpoint_every = 0;                 // also write last.safetensors every N steps (0: epoch ends only)
  std::string model_tag;                        // written into checkpoints, checked when loading one
  std::map<std::string, std::string> metadata;  // more checkpoint metadata (the model's config)
  std::function<double(int64_t)> lr;            // learning rate for an optimizer step count
  Device device = Device::cpu();                // where the model lives; batches are moved there
  bool progress = true;                         // the bar, on a terminal
  bool allow_nonfinite = false;                 // keep going when the loss is NaN or inf (default: an Error)
  // Settings that decide the run's course (batch size, seed, shuffle, data size, learning
  // rate...), by flag name: saved in last.safetensors, and a resume whose value differs is an
  // Error unless allow_changed_settings (images would be skipped or seen twice, the order
  // would change). The epoch count is not one: a run may be resumed to train longer.
  std::map<std::string, std::string> run_settings;
  bool allow_changed_settings = false;
  std::ostream* log = &std::cout;  // epoch lines; null for silence
  // Data parallel: this process's group (null or one rank: alone), and whether BatchNorm
  // normalises over every rank's rows (PyTorch's SyncBatchNorm) instead of this rank's.
  dist::Group* group = nullptr;
  bool sync_batch_norm = false;
};

struct EvalResult {
  double loss = NAN, acc = NAN, top5 = NAN;
  int64_t n = 0;
};

// Loss and accuracy of the model on every batch of `loader` (eval mode, no graph). The
// model's train/eval mode is restored afterwards.
// With a group, the loader holds this rank's share of each batch and the sums are over all
// ranks (the same result on every rank).
template <FloatingPoint T>
EvalResult evaluate(nn::Module<T>& model, data::BatchLoader<T>& loader, LossKind loss, Device device = Device::cpu(),
                    int64_t epoch = 0, dist::Group* group = nullptr) {
  const bool was_training = model.is_training();
  model.eval();
  NoGrad no_grad;
  double loss_sum = 0;
  int64_t n = 0, correct = 0, correct5 = 0;
  loader.start_epoch(epoch);
  data::Batch<T> b;
  while (loader.next(b)) {
    const Tensor<T> out = model(b.images.to(device)).to(Device::cpu());
    const int64_t B = b.labels.numel();
    loss_sum += static_cast<double>(classification_loss(out, b.labels, loss).item()) * static_cast<double>(B);
    correct += topk_correct(out, b.labels, 1);
    if (out.size(1) >= 5) correct5 += topk_correct(out, b.labels, 5);
    n += B;
  }
  model.train(was_training);
  if (group && group->distributed()) {
    group->all_reduce_sum(&loss_sum, 1);
    int64_t counts[3] = {n, correct, correct5};
    group->all_reduce_sum(counts, 3);
    n = counts[0];
    correct = counts[1];
    correct5 = counts[2];
  }
  PN_CHECK(n > 0, "evaluate: the loader gave no images");
  const double dn = static_cast<double>(n);
  return {loss_sum / dn, static_cast<double>(correct) / dn, static_cast<double>(correct5) / dn, n};
}

namespace detail {
// A recorded point in the GPU's stream after a step (nothing on the CPU).
struct StepMarker {
  cuda::Marker m;
  bool recorded = false;
  void release() {
    if (recorded) PN_CUDA("train", cuda::release_marker(m));
    recorded = false;
  }
};

inline StepMarker mark(Device device) {
  StepMarker s;
  if (device.is_cuda()) {
    PN_CUDA("train", s.m = cuda::record_marker(device.index));
    s.recorded = true;
  }
  return s;
}

// A CPU copy of t made of the work queued before the marker only.
template <class T>
Tensor<T> read_after(const Tensor<T>& t, const StepMarker& s) {
  if (t.is_cpu()) return t;
  PN_CHECK(t.is_contiguous(), "train: a step result to read back must be contiguous, got ", t.shape());
  PN_CHECK(s.recorded, "train: no marker recorded for a GPU step");
  Tensor<T> h = Tensor<T>::empty(t.shape(), Device::cpu());
  PN_CUDA("train",
          cuda::copy_device_to_host_after(s.m, h.data(), t.data(), sizeof(T) * static_cast<size_t>(t.numel())));
  return h;
}

inline std::atomic<bool>& stop_requested() {
  static std::atomic<bool> flag{false};
  return flag;
}
// SIGINT asks the loop to stop after the current step; a second Ctrl-C kills as usual.
class SigintGuard {
 public:
  SigintGuard() {
    stop_requested() = false;
    prev_ = std::signal(SIGINT, [](int) {
      stop_requested() = true;
      std::signal(SIGINT, SIG_DFL);
    });
  }
  ~SigintGuard() { std::signal(SIGINT, prev_ == SIG_ERR ? SIG_DFL : prev_); }

 private:
  void (*prev_)(int) = SIG_DFL;
};

inline std::string exact(double v) {  // round-trips through strtod
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}
}  // namespace detail

template <FloatingPoint T>
class Trainer {
 public:
  // `masks` is the generator the model's dropout layers draw from; its offset is saved.
  Trainer(nn::Module<T>& model, optim::Optimizer<T>& opt, Generator& masks, FitConfig cfg)
      : model_(model), opt_(opt), masks_(masks), cfg_(std::move(cfg)) {
    if (cfg_.group && cfg_.group->distributed()) group_ = cfg_.group;
    writer_ = !group_ || group_->is_root();
    if (!writer_) {
      cfg_.log = nullptr;
      cfg_.progress = false;
    }
    if (group_ && cfg_.sync_batch_norm) dist::sync_batch_norm(model_, group_);
    PN_CHECK(cfg_.epochs > 0, "Trainer: epochs ", cfg_.epochs, " must be positive");
    PN_CHECK(cfg_.max_steps >= 0 && cfg_.patience >= 0 && cfg_.checkpoint_every >= 0,
             "Trainer: max_steps, patience and checkpoint_every must be >= 0");
    PN_CHECK(static_cast<bool>(cfg_.lr), "Trainer: no learning-rate schedule");
    if (!cfg_.out_dir.empty() && writer_) {
      // Before the first step, not after the first epoch: the folder takes files.
      io::prepare_output_folder(cfg_.out_dir, "Trainer");
      io::remove_stale_temporaries(cfg_.out_dir);
    }
    if (!cfg_.csv_path.empty() && writer_) {  // the log elsewhere (--log): its folder takes files too
      namespace fs = std::filesystem;
      std::error_code ec;
      PN_CHECK(!fs::is_directory(cfg_.csv_path, ec), "Trainer: the log ", cfg_.csv_path, " is a folder, not a file");
      const fs::path folder = fs::path(cfg_.csv_path).parent_path();
      if (!folder.empty()) fs::create_directories(folder, ec);
      PN_CHECK(!ec, "Trainer: cannot create the log's folder ", folder.string(), ": ", ec.message());
      const std::string probe = (folder.empty() ? fs::path(".") : folder).string() + "/.write_test";
      io::write_file_atomic(probe, "", 0);
      fs::remove(probe, ec);
    }
  }

  std::string last_path() const { return cfg_.out_dir + "/last.safetensors"; }
  std::string best_path() const { return cfg_.out_dir + "/best.safetensors"; }
  std::string log_path() const { return cfg_.csv_path.empty() ? cfg_.out_dir + "/log.csv" : cfg_.csv_path; }
  const History& history() const { return history_; }
  bool stopped_early() const { return stopped_early_; }
  bool interrupted() const { return interrupted_; }
  double best_val_acc() const { return best_; }

  // Continues from a checkpoint written by this trainer (last.safetensors).
  void resume(const std::string& path) {
    io::SafeTensors f = io::load_safetensors(path);
    PN_CHECK(f.metadata.count("epoch") && f.metadata.count("batch"), "checkpoint ", path,
             ": not a training checkpoint (no epoch / batch); a best.safetensors model file cannot be resumed, ",
             "use last.safetensors");
    for (const auto& [flag, value] : cfg_.run_settings) {
      auto it = f.metadata.find("setting " + flag);
      if (it == f.metadata.end() || it->second == value || cfg_.allow_changed_settings) continue;
      fail("checkpoint ", path, " was taken with ", flag, " ", it->second, ", this run has ", flag, " ", value,
           ": resuming would silently change the run (other batches, images skipped or seen twice). Use ", flag, " ",
           it->second, ", or allow it on purpose (--allow-changed-settings, FitConfig::allow_changed_settings)");
    }
    io::load_state_dict(f, model_, cfg_.model_tag);
    load_optimizer_state(f, opt_);
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
    epoch_ = meta_int(f, "epoch", 0, kMax);
    batch_ = meta_int(f, "batch", 0, kMax);
    masks_.manual_seed(meta_uint(f, "mask_seed"));
    masks_.set_offset(meta_uint(f, "mask_offset"));
    best_ = meta_double(f, "best_val_acc");
    wait_ = meta_int(f, "wait", 0, kMax);
    stopped_early_ = meta_int(f, "stopped_early", 0, 1) != 0;
    run_.loss_sum = meta_double(f, "epoch_loss_sum");
    run_.correct = meta_int(f, "epoch_correct", 0, kMax);
    run_.correct5 = meta_int(f, "epoch_correct5", 0, kMax);
    run_.seen = meta_int(f, "epoch_seen", 0, kMax);
    run_.seconds = meta_double(f, "epoch_seconds");
    history_ = History::parse(meta_string(f, "history"), "checkpoint " + path);
    if (cfg_.log)
      *cfg_.log << "resumed from " << path << " at epoch " << epoch_ + 1 << ", batch " << batch_ << " (step "
                << opt_.steps() << ")\n";
  }

  // Runs until the last epoch, early stopping, --max-steps or Ctrl-C.
  const History& fit(data::BatchLoader<T>& train, data::BatchLoader<T>* val) {
    if (cfg_.max_steps > 0 && opt_.steps() >= cfg_.max_steps) return history_;  // resumed at the limit
    if (group_) {
      const data::LoaderOptions& lo = train.options();
      PN_CHECK(lo.ranks == group_->size() && lo.rank == group_->rank(), "Trainer: the training loader is sharded for ",
               "rank ", lo.rank, " of ", lo.ranks, ", this process is rank ", group_->rank(), " of ", group_->size(),
               " (set LoaderOptions::rank and ranks)");
      dist::broadcast_module(*group_, model_);
    }
    detail::SigintGuard sigint;
    ProgressBar bar(cfg_.progress);
    for (; epoch_ < cfg_.epochs && !stopped_early_; ++epoch_, batch_ = 0, run_ = {}) {
      model_.train();
      train.start_epoch(epoch_, batch_);
      bar.start(epoch_ + 1, cfg_.epochs, train.batches_per_epoch());
      const auto t0 = std::chrono::steady_clock::now();
      const double seconds_before = run_.seconds;
      const int64_t first_batch = batch_;
      int64_t images_this_session = 0;
      data::Batch<T> b;
      bool stop = false;
      while (!stop && train.next(b)) {
        const double lr = cfg_.lr(opt_.steps());
        if (group_) {  // dropout masks: this rank's rows of the global batch's draw
          const int64_t rows = b.labels.numel();
          masks_.set_batch_shard(
              {dist::shard_of(b.global_size, group_->rank(), group_->size()).lo, rows, b.global_size});
        }
        const Tensor<T> out = model_(b.images.to(cfg_.device));
        const Tensor<T> loss = classification_loss(out, b.labels.to(cfg_.device), cfg_.loss);
        opt_.zero_grad();
        if (group_) {  // this rank's share of the global batch's mean loss; gradients summed
          mul(loss, static_cast<T>(static_cast<double>(b.labels.numel()) / static_cast<double>(b.global_size)))
              .backward();
          dist::all_reduce_gradients(*group_, model_);
        } else {
          loss.backward();
        }
        masks_.set_batch_shard({});
        opt_.step(lr);
        if (group_ && !cfg_.sync_batch_norm) dist::broadcast_buffers(*group_, model_);
        last_lr_ = lr;
        // The step's loss and scores are read while the next step runs (see settle()).
        const int64_t B = b.labels.numel();
        settle();
        pending_ = {out.detach(), loss.detach(), b.labels, B, detail::mark(cfg_.device), true, opt_.steps(), b.index};
        images_this_session += B;
        batch_ = b.index + 1;
        const double elapsed = seconds_since(t0);
        run_.seconds = seconds_before + elapsed;
        const double rate = static_cast<double>(images_this_session) / std::max(elapsed, 1e-9);
        const double left = static_cast<double>(train.batches_per_epoch() - batch_) * elapsed /
                            static_cast<double>(batch_ - first_batch);
        if (run_.seen > 0)
          bar.update(batch_, run_.loss_sum / static_cast<double>(run_.seen),
                     static_cast<double>(run_.correct) / static_cast<double>(run_.seen), rate, left);
        const bool by_steps = cfg_.max_steps > 0 && opt_.steps() >= cfg_.max_steps;
        interrupted_ = detail::stop_requested().load();
        if (group_) {  // any rank's Ctrl-C stops every rank after the same step
          int64_t flag = interrupted_ ? 1 : 0;
          group_->all_reduce_sum(&flag, 1);
          interrupted_ = flag > 0;
        }
        stop = by_steps || interrupted_;
        if (!stop && cfg_.checkpoint_every > 0 && opt_.steps() % cfg_.checkpoint_every == 0) {
          settle();
          save_last(epoch_, batch_);
        }
      }
      settle();
      bar.clear();
      const bool epoch_done = batch_ >= train.batches_per_epoch();
      if (!epoch_done) {  // stopped inside the epoch: keep the position, report the partial epoch
        save_last(epoch_, batch_);
        if (cfg_.log)
          *cfg_.log << (interrupted_ ? "interrupted" : "stopped by --max-steps") << " at epoch " << epoch_ + 1
                    << ", batch " << batch_ << "/" << train.batches_per_epoch() << " (step " << opt_.steps()
                    << "): loss " << run_.loss_sum / static_cast<double>(std::max<int64_t>(run_.seen, 1)) << ", acc "
                    << static_cast<double>(run_.correct) / static_cast<double>(std::max<int64_t>(run_.seen, 1))
                    << (cfg_.out_dir.empty() ? "" : "; resume with --resume " + last_path()) << "\n";
        return history_;
      }
      finish_epoch(val);
      if (interrupted_ || (cfg_.max_steps > 0 && opt_.steps() >= cfg_.max_steps)) {
        ++epoch_;
        return history_;
      }
    }
    return history_;
  }

 private:
  struct Running {
    double loss_sum = 0, seconds = 0;
    int64_t correct = 0, correct5 = 0, seen = 0;
  };

  // A queued step whose loss and scores are not yet counted.
  struct Pending {
    Tensor<T> out, loss;
    Tensor<int32_t> labels;  // on the CPU
    int64_t batch_size = 0;
    detail::StepMarker marker;
    bool active = false;
    int64_t step = 0, batch = 0;  // for the divergence message
  };

  // Counts the pending step's loss and accuracy. On the GPU this waits only for that step
  // (its marker), not for the step queued after it, so reading the metrics every step
  // does not leave the GPU idle while the host queues the next one.
  void settle() {
    if (!pending_.active) return;
    Pending p = std::move(pending_);
    pending_ = {};
    const Tensor<T> out = detail::read_after(p.out, p.marker);
    const Tensor<T> loss = detail::read_after(p.loss, p.marker);
    p.marker.release();
    double lv = static_cast<double>(loss.item());
    double sums[4] = {lv * static_cast<double>(p.batch_size), static_cast<double>(topk_correct(out, p.labels, 1)),
                      cfg_.top5 && out.size(1) >= 5 ? static_cast<double>(topk_correct(out, p.labels, 5)) : 0.0,
                      static_cast<double>(p.batch_size)};
    if (group_) {  // the global batch's figures, the same on every rank
      group_->all_reduce_sum(sums, 4);
      lv = sums[0] / sums[3];
    }
    PN_CHECK(std::isfinite(lv) || cfg_.allow_nonfinite, "Trainer: the loss is ", lv, " at epoch ", epoch_ + 1,
             ", batch ", p.batch + 1, " (optimizer step ", p.step, "): training diverged. Lower the learning rate",
             cfg_.out_dir.empty() ? std::string() : " and resume from " + last_path() + " (written before it)",
             ", or allow non-finite losses (FitConfig::allow_nonfinite, --allow-nonfinite)");
    run_.loss_sum += sums[0];
    run_.correct += static_cast<int64_t>(sums[1]);
    run_.correct5 += static_cast<int64_t>(sums[2]);
    run_.seen += static_cast<int64_t>(sums[3]);
  }

  static double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }

  void finish_epoch(data::BatchLoader<T>* val) {
    EpochRecord e;
    e.epoch = epoch_ + 1;
    const double n = static_cast<double>(std::max<int64_t>(run_.seen, 1));
    e.train_loss = run_.loss_sum / n;
    e.train_acc = static_cast<double>(run_.correct) / n;
    if (cfg_.top5) e.train_top5 = static_cast<double>(run_.correct5) / n;
    e.lr = last_lr_;
    e.seconds = run_.seconds;
    e.images_per_s = static_cast<double>(run_.seen) / std::max(run_.seconds, 1e-9);
    if (val) {
      const EvalResult r = evaluate(model_, *val, cfg_.loss, cfg_.device, 0, group_);
      e.val_loss = r.loss;
      e.val_acc = r.acc;
      if (cfg_.top5) e.val_top5 = r.top5;
    }
    history_.epochs.push_back(e);
    if (cfg_.log) *cfg_.log << epoch_line(e, cfg_.epochs, cfg_.top5) << std::endl;
    // ModelCheckpoint(save_best_only) and EarlyStopping on validation accuracy.
    const double monitored = val ? e.val_acc : e.train_acc;
    const bool finite = model_is_finite();
    if (!finite && cfg_.log)
      *cfg_.log << "epoch " << e.epoch << ": the model holds NaN or inf; not a best checkpoint\n";
    if (monitored > best_ && finite) {
      best_ = monitored;
      wait_ = 0;
      if (!cfg_.out_dir.empty() && writer_) {
        auto meta = cfg_.metadata;
        meta["epoch"] = std::to_string(e.epoch);
        meta["val_acc"] = detail::exact(monitored);
        io::save_model(best_path(), model_, cfg_.model_tag, meta);
      }
    } else if (cfg_.patience > 0 && ++wait_ >= cfg_.patience) {
      stopped_early_ = true;
      if (cfg_.log)
        *cfg_.log << "early stopping: validation accuracy has not improved for " << cfg_.patience << " epochs (best "
                  << best_ << ")" << std::endl;
    }
    run_ = {};
    save_last(epoch_ + 1, 0);  // the epoch is done: resume at the start of the next
    // The log after the checkpoint: if writing it fails, the epoch is not lost (the
    // checkpoint holds the history, and a resume writes the log again).
    if ((!cfg_.out_dir.empty() || !cfg_.csv_path.empty()) && writer_) io::write_file_atomic(log_path(), history_.csv());
  }

  // Whether every parameter and buffer is finite (a diverged model never becomes the best).
  bool model_is_finite() const {
    auto finite = [](const Tensor<T>& t) {
      for (T v : t.to_vector())
        if (!std::isfinite(v)) return false;
      return true;
    };
    for (const auto& p : model_.named_parameters())
      if (!finite(p.tensor)) return false;
    for (const auto& b : model_.named_buffers())
      if (!finite(b.tensor)) return false;
    return true;
  }

  // last.safetensors, resuming at batch `batch` of epoch `epoch` (0-based).
  void save_last(int64_t epoch, int64_t batch) {
    if (cfg_.out_dir.empty() || !writer_) return;
    io::SafeTensors f;
    f.metadata = cfg_.metadata;
    io::add_state_dict(f, model_);
    add_optimizer_state(f, opt_);
    f.metadata["model"] = cfg_.model_tag;
    f.metadata["format"] = "patchnet checkpoint; tensors in PyTorch layouts";
    for (const auto& [flag, value] : cfg_.run_settings) f.metadata["setting " + flag] = value;
    f.metadata["epoch"] = std::to_string(epoch);
    f.metadata["batch"] = std::to_string(batch);
    f.metadata["mask_seed"] = std::to_string(masks_.seed());
    f.metadata["mask_offset"] = std::to_string(masks_.offset());
    f.metadata["best_val_acc"] = detail::exact(best_);
    f.metadata["wait"] = std::to_string(wait_);
    f.metadata["stopped_early"] = stopped_early_ ? "1" : "0";
    f.metadata["epoch_loss_sum"] = detail::exact(run_.loss_sum);
    f.metadata["epoch_correct"] = std::to_string(run_.correct);
    f.metadata["epoch_correct5"] = std::to_string(run_.correct5);
    f.metadata["epoch_seen"] = std::to_string(run_.seen);
    f.metadata["epoch_seconds"] = detail::exact(run_.seconds);
    f.metadata["history"] = history_.csv(true);
    io::save_safetensors(last_path(), f);
  }

  nn::Module<T>& model_;
  optim::Optimizer<T>& opt_;
  Generator& masks_;
  FitConfig cfg_;
  History history_;
  int64_t epoch_ = 0, batch_ = 0, wait_ = 0;
  double best_ = -1.0, last_lr_ = NAN;
  bool stopped_early_ = false, interrupted_ = false;
  dist::Group* group_ = nullptr;  // set when distributed (more than one rank)
  bool writer_ = true;            // rank 0, or alone
  Running run_;
  Pending pending_;
};

}  // namespace patchnet::train
