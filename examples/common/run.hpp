// What the three example programs share, as steps each program's main() calls in order:
//
//   guarded_main(name, [&] {           // every error: a message and exit status 2
//     Cli cli(...); add_common_flags(cli, defaults, name); <the program's flags>;
//     if (!cli.parse(argc, argv)) return 0;
//     Common c = read_common(cli); check_common(c);
//     <build the model>; model.to(c.device); print_summary(model, input shape, tag);
//     RunData d(c, defaults, train augmentation, eval augmentation);   // CIFAR-10 + loaders
//     if (!c.evaluate.empty()) return evaluate_checkpoint(model, d, c, tag, loss, top5);
//     <the optimizer>; train::FitConfig fc = fit_config(cli, c, d, tag, loss, top5); <schedule>
//     fit_and_score(model, opt, masks, fc, d, c);   // fit or resume, curves, test lines
//     <pictures, rank 0 only (c.writes())>; return 0;
//   });
//
// --distributed (under `mpirun -np N`, dist/mpi.hpp): every rank runs the same program; the
// loaders take the rank's share of each batch, the Trainer sums the gradients, rank 0 alone
// prints to stdout and writes files, and an error on any rank ends every rank.
#pragma once

#include <filesystem>
#include <functional>
#include <initializer_list>
#include <iostream>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <typeinfo>

#include "common/cli.hpp"
#include "patchnet/core/precision.hpp"
#include "patchnet/cuda/blas.hpp"
#include "patchnet/data/cifar10.hpp"
#include "patchnet/data/image_folder.hpp"
#include "patchnet/data/loader.hpp"
#include "patchnet/dist/group.hpp"
#include "patchnet/io/atomic_file.hpp"
#ifdef PATCHNET_EXAMPLES_MPI  // built with MPI: --distributed runs under mpirun
#include "patchnet/dist/mpi.hpp"
#endif
#ifdef PATCHNET_EXAMPLES_NCCL  // built with NCCL: --distributed --device cuda reduces in GPU memory
#include "patchnet/dist/nccl.hpp"
#endif
#include "patchnet/nn/summary.hpp"
#include "patchnet/optim/adam.hpp"
#include "patchnet/optim/optimizer.hpp"
#include "patchnet/train/trainer.hpp"
#include "patchnet/viz/layout.hpp"
#include "patchnet/viz/line_chart.hpp"
#include "patchnet/viz/png.hpp"

namespace patchnet::examples {

using Model = nn::Module<float>;

// Where the seed takes its validation images from.
enum class ValSplit { Head, Tail, Test };

struct Defaults {
  int64_t epochs = 10, batch_size = 128, patience = 0;
  int64_t shuffle_buffer = 0;  // tf.data's Dataset.shuffle(N) of the seed; 0: a full shuffle
  double lr = 1e-3, weight_decay = 1e-4;
  int64_t val_images = 5000;  // of 50,000 training images (scaled for smaller sets)
  ValSplit val = ValSplit::Head;
};

// The values of the common flags after parsing.
struct Common {
  std::string data, format, save, resume, log, evaluate, device_name;
  int64_t epochs = 0, batch_size = 0, shuffle_buffer = 0, max_steps = 0, checkpoint_every = 0, train_limit = 0,
          seed = 0;
  double lr = 0, weight_decay = 0;
  bool synthetic = false, progress = true, allow_nonfinite = false, allow_changed_settings = false;
  MatmulPrecision matmul_precision = MatmulPrecision::FP32;
  bool distributed = false, sync_bn = false;
  Device device = Device::cpu();
  dist::Group* group = nullptr;  // --distributed: the MPI world

  bool writes() const { return !group || group->is_root(); }  // rank 0, or alone
  int rank() const { return group ? group->rank() : 0; }
  int ranks() const { return group ? group->size() : 1; }
};

namespace detail {
// The group guarded_main ends on an error (a peer would otherwise wait in a collective).
inline dist::Group*& error_group() {
  static dist::Group* g = nullptr;
  return g;
}
}  // namespace detail

// The AdamW convention named by --adamw: keras (Keras 3), tfa (TensorFlow Addons: decay not
// scaled by the learning rate) or pytorch.
inline optim::AdamWOptions adamw_options(const std::string& convention, double weight_decay) {
  if (convention == "keras") return optim::AdamWOptions::keras(weight_decay);
  if (convention == "tfa") return optim::AdamWOptions::tensorflow_addons(weight_decay);
  if (convention == "pytorch") return optim::AdamWOptions::pytorch(weight_decay);
  fail("--adamw '", convention, "' must be keras, tfa or pytorch");
}

// A learning rate that does not change.
inline std::function<double(int64_t)> constant_lr(double lr) {
  return [lr](int64_t) { return lr; };
}

inline void add_common_flags(Cli& cli, const Defaults& d, const std::string& name) {
  cli.section("data");
  cli.add<std::string>("--data", "",
                       "CIFAR-10: a folder with cifar-10-batches-bin/ (or the .bin files), or an "
                       "image folder <root>/{train,test}/<class>/*.png|jpg");
  cli.add<std::string>("--data-format", "auto", "cifar | folder | auto");
  cli.add<bool>("--synthetic", false, "random images of the right shape instead of files (a smoke test)");
  cli.add<int64_t>("--train-limit", 0, "use only the first N training images (0: all)");
  cli.section("training");
  cli.add<int64_t>("--epochs", d.epochs, "training epochs");
  cli.add<int64_t>("--batch-size", d.batch_size, "images per step");
  cli.add<int64_t>("--shuffle-buffer", d.shuffle_buffer,
                   "shuffle through a buffer of N images as tf.data's Dataset.shuffle(N) (0: a full shuffle)");
  cli.add<double>("--lr", d.lr, "learning rate (the peak, for a schedule)");
  cli.add<double>("--weight-decay", d.weight_decay, "weight decay");
  cli.add<int64_t>("--seed", 42, "seed of the initial weights, the data order, augmentation and dropout");
  cli.add<int64_t>("--patience", d.patience, "early stopping: epochs without a better validation accuracy (0: off)");
  cli.add<int64_t>("--max-steps", 0, "stop after N optimizer steps (0: no limit); resumable");
  cli.add<std::string>("--device", "cpu", "cpu | cuda | cuda:N");
  cli.section("files");
  cli.add<std::string>("--save", "runs/" + name, "folder for checkpoints (last, best), log.csv and pictures");
  cli.add<std::string>("--resume", "", "continue from a checkpoint (the run's last.safetensors)");
  cli.add<std::string>("--log", "", "write the per-epoch CSV log here (default: <save>/log.csv)");
  cli.add<int64_t>("--checkpoint-every", 0, "also write last.safetensors every N steps (0: each epoch)");
  cli.add<std::string>("--evaluate", "", "score this checkpoint on the test set without training");
  cli.add<bool>("--no-progress", false, "no progress bar");
  cli.add<bool>("--allow-nonfinite", false, "keep training when the loss becomes NaN or inf (default: stop)");
  cli.add<bool>("--allow-changed-settings", false,
                "--resume even if --batch-size, --seed, --shuffle-buffer, --lr, ... differ from the checkpoint's");
  cli.add<std::string>("--matmul-precision", "fp32",
                       "fp32 | tf32 | bf16: float matrix products and convolutions round their inputs to this "
                       "(float32 sums; bf16: AVX512-BF16 on the CPU, tensor cores on GPUs; tf32: GPUs only)");
  cli.section("data parallel");
  cli.add<bool>("--distributed", false,
                "run as one rank of `mpirun -np N`: each rank takes an equal share of every batch of --batch-size "
                "(the global batch), gradients summed; rank 0 writes files");
  cli.add<bool>("--sync-bn", false,
                "with --distributed: BatchNorm normalises over every rank's images (what one process computes); "
                "default: each rank's own");
}

inline Common read_common(const Cli& cli) {
  Common c;
  c.data = cli.get<std::string>("--data");
  c.format = cli.get<std::string>("--data-format");
  c.synthetic = cli.get<bool>("--synthetic");
  c.train_limit = cli.get<int64_t>("--train-limit");
  c.epochs = cli.get<int64_t>("--epochs");
  c.batch_size = cli.get<int64_t>("--batch-size");
  c.shuffle_buffer = cli.get<int64_t>("--shuffle-buffer");
  c.lr = cli.get<double>("--lr");
  c.weight_decay = cli.get<double>("--weight-decay");
  c.seed = cli.get<int64_t>("--seed");
  c.max_steps = cli.get<int64_t>("--max-steps");
  c.device_name = cli.get<std::string>("--device");
  c.save = cli.get<std::string>("--save");
  c.resume = cli.get<std::string>("--resume");
  c.log = cli.get<std::string>("--log");
  c.checkpoint_every = cli.get<int64_t>("--checkpoint-every");
  c.evaluate = cli.get<std::string>("--evaluate");
  c.progress = !cli.get<bool>("--no-progress");
  c.allow_nonfinite = cli.get<bool>("--allow-nonfinite");
  c.allow_changed_settings = cli.get<bool>("--allow-changed-settings");
  c.matmul_precision = parse_matmul_precision(cli.get<std::string>("--matmul-precision"));
  c.distributed = cli.get<bool>("--distributed");
  c.sync_bn = cli.get<bool>("--sync-bn");
  if (c.distributed) {  // join the MPI world first, so only rank 0 prints from here on
    c.group = &dist::world(nullptr, nullptr);
    detail::error_group() = c.group;
    if (!c.writes()) {  // one voice: rank 0 prints; errors still reach stderr from any rank
      c.progress = false;
      PN_CHECK(std::freopen("/dev/null", "w", stdout) != nullptr, "--distributed: cannot silence rank ", c.rank());
    }
  }
  return c;
}

inline void check_common(Common& c) {
  PN_CHECK(c.epochs > 0, "--epochs ", c.epochs, " must be positive");
  PN_CHECK(c.batch_size > 0, "--batch-size ", c.batch_size, " must be positive");
  PN_CHECK(c.shuffle_buffer >= 0, "--shuffle-buffer ", c.shuffle_buffer, " must be >= 0 (0: a full shuffle)");
  PN_CHECK(c.lr >= 0 && std::isfinite(c.lr), "--lr ", c.lr, " must be a finite number >= 0");
  PN_CHECK(c.weight_decay >= 0 && std::isfinite(c.weight_decay), "--weight-decay ", c.weight_decay, " must be >= 0");
  PN_CHECK(c.seed >= 0, "--seed ", c.seed, " must be >= 0");
  PN_CHECK(!c.save.empty(), "--save '' names no folder; give the folder for checkpoints, logs and pictures");
  PN_CHECK(c.max_steps >= 0, "--max-steps ", c.max_steps, " must be >= 0");
  PN_CHECK(c.train_limit >= 0, "--train-limit ", c.train_limit, " must be >= 0");
  PN_CHECK(c.checkpoint_every >= 0, "--checkpoint-every ", c.checkpoint_every, " must be >= 0");
  PN_CHECK(c.format == "auto" || c.format == "cifar" || c.format == "folder", "--data-format '", c.format,
           "' must be cifar, folder or auto");
  PN_CHECK(c.synthetic || !c.data.empty(), "no data: pass --data DIR (CIFAR-10; see ../shared/data/README.md or ",
           "tools/download_cifar10.sh) or --synthetic");
  PN_CHECK(!c.sync_bn || c.distributed, "--sync-bn needs --distributed");
  if (c.group)
    PN_CHECK(c.batch_size % c.group->size() == 0, "--batch-size ", c.batch_size, " does not divide among the ",
             c.group->size(), " processes of --distributed (each takes an equal share of every batch)");
  if (c.device_name == "cpu") {
    c.device = Device::cpu();
  } else if (c.device_name == "cuda" || c.device_name.rfind("cuda:", 0) == 0) {
    if (!cuda::linked()) cuda::unavailable("--device");
    int index = 0;
    if (c.device_name.size() > 5) {
      char* end = nullptr;
      index = static_cast<int>(std::strtol(c.device_name.c_str() + 5, &end, 10));
      PN_CHECK(end && *end == '\0' && index >= 0, "--device '", c.device_name, "': bad device index");
    } else if (c.group) {  // --distributed: each process of a machine takes its own GPU
      const int gpus = cuda::device_count();
      PN_CHECK(gpus > 0, "--device cuda: no CUDA device on this machine (rank ", c.rank(), ")");
      index = c.group->local_rank() % gpus;
    }
    c.device = Device::cuda(index);
    cuda::set_device(index);  // clear errors: no GPU, no such index
    std::printf("device: cuda:%d, %s\n", index, cuda::device_name(index));
  } else {
    fail("--device '", c.device_name, "' must be cpu, cuda or cuda:N");
  }
  set_matmul_precision(c.matmul_precision);
  if (c.matmul_precision != MatmulPrecision::FP32) std::printf("matmul precision: %s\n", to_string(c.matmul_precision));
  if (c.group) {  // on GPUs, NCCL where the program has it
    c.group = &dist::on_device(*c.group, c.device);
    detail::error_group() = c.group;
    std::printf("distributed: %d processes (%s)\n", c.group->size(), c.group->backend());
  }
}

struct Splits {
  data::ImageSet train, val, test;
  bool val_is_test = false;
};

inline Splits load_splits(const Common& c, const Defaults& d) {
  data::ImageSet all, test;
  if (c.synthetic) {
    const int64_t n = c.train_limit > 0 ? c.train_limit : 2048;
    all = data::synthetic_image_set(n, 32, 32, 3, 10, static_cast<uint64_t>(c.seed));
    test = data::synthetic_image_set(512, 32, 32, 3, 10, static_cast<uint64_t>(c.seed) + 1);
  } else {
    namespace fs = std::filesystem;
    std::string format = c.format;
    if (format == "auto")
      format = fs::is_directory(fs::path(c.data) / "train") && !fs::exists(fs::path(c.data) / "cifar-10-batches-bin")
                   ? "folder"
                   : "cifar";
    if (format == "cifar") {
      all = data::read_cifar10(c.data, data::Cifar10Split::Train);
      test = data::read_cifar10(c.data, data::Cifar10Split::Test);
    } else {
      all = data::read_image_folder(c.data, "train", 32, 32);
      test = data::read_image_folder(c.data, "test", 32, 32);
      data::check_same_classes(all, test, c.data);
    }
  }
  Splits s;
  if (d.val == ValSplit::Test) {
    s.train = std::move(all);
    s.val = test;
    s.val_is_test = true;
  } else {
    const double fraction = static_cast<double>(d.val_images) / 50000.0;  // the seed's share
    data::TrainValSplit tv =
        d.val == ValSplit::Head ? data::split_head_fraction(all, fraction) : data::split_tail_fraction(all, fraction);
    s.train = std::move(tv.train);
    s.val = std::move(tv.val);
  }
  if (c.train_limit > 0 && c.train_limit < s.train.n) s.train = data::subset(s.train, 0, c.train_limit);
  s.test = std::move(test);
  return s;
}

// Loss and accuracy curves per epoch, beside each other, as curves.png.
inline void draw_curves(const train::History& h, const std::string& path, bool with_val) {
  if (h.epochs.empty()) return;
  viz::Series tl{"train loss", {}}, vl{"val loss", {}}, ta{"train accuracy", {}}, va{"val accuracy", {}};
  for (const auto& e : h.epochs) {
    tl.y.push_back(e.train_loss);
    vl.y.push_back(e.val_loss);
    ta.y.push_back(e.train_acc);
    va.y.push_back(e.val_acc);
  }
  std::vector<viz::Series> loss{tl}, acc{ta};
  if (with_val) {
    loss.push_back(vl);
    acc.push_back(va);
  }
  viz::write_png(path, viz::side_by_side({viz::line_chart("Loss", "epoch", "loss", loss),
                                          viz::line_chart("Accuracy", "epoch", "accuracy", acc)}));
}

inline void print_test(const train::EvalResult& r, bool top5, const char* prefix = "") {
  std::printf("%stest loss: %.4f\n", prefix, r.loss);
  std::printf("%stest accuracy: %.2f%%\n", prefix, 100.0 * r.acc);
  if (top5) std::printf("%stest top-5 accuracy: %.2f%%\n", prefix, 100.0 * r.top5);
  std::fflush(stdout);
}

inline void print_summary(Model& model, const Shape& input, const std::string& tag) {
  std::cout << nn::summary(model, input, tag).str();
}

// One run's data: the seed's splits and their loaders (the validation loader reads the test
// set where the seed validates on it). The loaders hold pointers into `splits`.
struct RunData {
  Splits splits;
  data::BatchLoader<float> train, val, test;

  RunData(const Common& c, const Defaults& d, const data::AugmentOptions& train_aug,
          const data::AugmentOptions& eval_aug)
      : splits(load_splits(c, d)),
        train(splits.train, {.batch_size = c.batch_size,
                             .shuffle = true,
                             .shuffle_buffer = c.shuffle_buffer,
                             .training = true,
                             .seed = static_cast<uint64_t>(c.seed),
                             .augment = train_aug,
                             .rank = c.rank(),
                             .ranks = c.ranks()}),
        val(splits.val, eval_options(c, eval_aug)),
        test(splits.test, eval_options(c, eval_aug)) {}

 private:
  static data::LoaderOptions eval_options(const Common& c, const data::AugmentOptions& aug) {
    return {.batch_size = c.batch_size,
            .shuffle = false,
            .training = false,
            .seed = static_cast<uint64_t>(c.seed),
            .augment = aug,
            .rank = c.rank(),
            .ranks = c.ranks()};
  }
};

// --evaluate: scores the checkpoint on the test set.
inline int evaluate_checkpoint(Model& model, RunData& d, const Common& c, const std::string& tag, train::LossKind loss,
                               bool top5) {
  io::load_model(c.evaluate, model, tag);
  if (c.writes()) io::prepare_output_folder(c.save, "--save");  // the pictures go there after the scoring
  std::cout << "evaluating " << c.evaluate << " on " << d.splits.test.n << " test images\n";
  print_test(train::evaluate(model, d.test, loss, c.device, 0, c.group), top5);
  return 0;
}

// The Trainer's settings from the common flags. run_settings are the ones a --resume must
// not contradict (train/trainer.hpp).
inline train::FitConfig fit_config(const Cli& cli, const Common& c, const RunData& d, const std::string& tag,
                                   train::LossKind loss, bool top5) {
  train::FitConfig fc;
  fc.epochs = c.epochs;
  fc.max_steps = c.max_steps;
  fc.patience = cli.get<int64_t>("--patience");
  fc.loss = loss;
  fc.top5 = top5;
  fc.out_dir = c.save;
  fc.csv_path = c.log;
  fc.checkpoint_every = c.checkpoint_every;
  fc.allow_nonfinite = c.allow_nonfinite;
  fc.allow_changed_settings = c.allow_changed_settings;
  fc.run_settings = {
      {"--batch-size", std::to_string(c.batch_size)},           {"--seed", std::to_string(c.seed)},
      {"--shuffle-buffer", std::to_string(c.shuffle_buffer)},   {"--lr", train::detail::exact(c.lr)},
      {"--weight-decay", train::detail::exact(c.weight_decay)}, {"training images", std::to_string(d.splits.train.n)}};
  fc.model_tag = tag;
  fc.lr = constant_lr(c.lr);
  fc.device = c.device;
  fc.progress = c.progress;
  fc.group = c.group;
  fc.sync_batch_norm = c.sync_bn;
  return fc;
}

// Adds program flags that decide a run's course (augmentation, optimizer convention,
// schedule) to the settings a --resume must match; the model's shape is checked by the
// checkpoint load itself.
inline void guard_on_resume(train::FitConfig& fc, const Cli& cli, std::initializer_list<const char*> flags) {
  for (const char* flag : flags) fc.run_settings[flag] = cli.text(flag);
}

// Trains (continuing from --resume), draws curves.png, then scores the best checkpoint (as
// the seeds do; the final weights when there is none) on the test set.
// score_final: the seed scores its final weights (ShiftViT's EarlyStopping restores nothing),
// so they are scored first, on lines that start "final weights: ", then the best checkpoint.
inline void fit_and_score(Model& model, optim::Optimizer<float>& opt, Generator& masks, const train::FitConfig& fc,
                          RunData& d, const Common& c, bool score_final = false) {
  std::cout << "data: " << d.splits.train.n << " training, " << d.splits.val.n
            << (d.splits.val_is_test ? " validation (the test set, as the seed)" : " validation") << ", "
            << d.splits.test.n << " test images; " << d.train.batches_per_epoch() << " steps per epoch\n";
  train::Trainer<float> trainer(model, opt, masks, fc);
  if (!c.resume.empty()) trainer.resume(c.resume);
  trainer.fit(d.train, &d.val);
  if (c.writes()) draw_curves(trainer.history(), c.save + "/curves.png", true);
  // Rank 0 reads the best checkpoint and sends it to the others (their disks may not hold it).
  int64_t have_best = c.writes() && std::filesystem::exists(trainer.best_path()) ? 1 : 0;
  dist::Group& g = c.group ? *c.group : dist::Group::single();
  g.broadcast(&have_best, sizeof have_best, 0);
  if (score_final && have_best) {
    std::cout << "scoring the final weights on " << d.splits.test.n << " test images\n";
    print_test(train::evaluate(model, d.test, fc.loss, c.device, 0, c.group), fc.top5, "final weights: ");
  }
  if (have_best) {
    if (c.writes()) io::load_model(trainer.best_path(), model, fc.model_tag);
    dist::broadcast_module(g, model);
  }
  std::cout << "scoring " << (have_best ? trainer.best_path() : std::string("the final weights")) << " on "
            << d.splits.test.n << " test images\n";
  print_test(train::evaluate(model, d.test, fc.loss, c.device, 0, c.group), fc.top5);
}

// Runs a program's body; a patchnet::Error (bad flag, bad data, bad checkpoint) prints its
// message and exits with status 2. Anything else that escapes (a bug: the library throws
// only patchnet::Error) is reported the same way with its type, never an abort.
template <class Body>
int guarded_main(const char* name, Body&& body) {
  const auto where = [&] {
    dist::Group* g = detail::error_group();
    return g && g->distributed() ? std::string(name) + " (rank " + std::to_string(g->rank()) + ")" : std::string(name);
  };
  try {
    return body();
  } catch (const Error& e) {
    std::cerr << where() << ": error: " << e.what() << "\n";
  } catch (const std::bad_alloc&) {
    std::cerr << where() << ": error: out of memory (std::bad_alloc)\n";
  } catch (const std::exception& e) {
    std::cerr << where() << ": error: unexpected " << typeid(e).name() << ": " << e.what() << "\n";
  } catch (...) {
    std::cerr << where() << ": error: unexpected exception of unknown type\n";
  }
  // The other ranks may be waiting in a collective for this one: end them all.
  if (dist::Group* g = detail::error_group(); g && g->distributed()) g->abort(2);
  return 2;
}

}  // namespace patchnet::examples
