// The training loop: an interrupted and resumed run ends with exactly the parameters of an
// uninterrupted one (ConvMixer with BatchNorm; ShiftViT with dropout and drop path), best
// checkpoints and early stopping follow Keras' callbacks, a short ConvMixer run on the
// CIFAR-10 mini set learns, and bad checkpoints are refused with clear errors.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "patchnet/data/cifar10.hpp"
#include "patchnet/models/convmixer.hpp"
#include "patchnet/models/shiftvit.hpp"
#include "patchnet/optim/adam.hpp"
#include "patchnet/train/trainer.hpp"
#include "support/data_dir.hpp"
#include "support/model_state.hpp"
#include "support/temp_dir.hpp"
#include "support/test_util.hpp"

using namespace patchnet;
namespace fs = std::filesystem;

namespace {
using test::state_of;

struct Run {
  std::shared_ptr<nn::Module<float>> model;
  std::unique_ptr<optim::Optimizer<float>> opt;
  Generator masks{7};
};

template <class Build>
Run make_run(Build build) {
  Run r;
  Generator init(3);
  r.model = build(init, r.masks);
  r.opt = std::make_unique<optim::AdamW<float>>(*r.model, optim::AdamWOptions::keras(1e-2));
  return r;
}

train::FitConfig config(const fs::path& dir, int64_t epochs) {
  train::FitConfig c;
  c.epochs = epochs;
  c.out_dir = dir.string();
  c.lr = [](int64_t step) { return 1e-3 * (1.0 + 0.1 * static_cast<double>(step % 3)); };
  c.progress = false;
  c.log = nullptr;
  return c;
}

// Runs `epochs` epochs straight, then again stopped after `stop_at` steps (and, with
// `every`, checkpointing every few steps) and resumed in a fresh process state; both must
// end bit for bit equal.
template <class Build>
void check_resume(const std::string& name, Build build, const data::ImageSet& set, data::LoaderOptions lo,
                  train::LossKind loss, int64_t epochs, int64_t stop_at, int64_t every) {
  data::BatchLoader<float> train_a(set, lo), train_b(set, lo), train_c(set, lo);
  data::LoaderOptions eo = lo;
  eo.training = false;
  eo.shuffle = false;
  data::BatchLoader<float> val(set, eo);

  const test::TempDir tmp_a("train_" + name + "_a"), tmp_b("train_" + name + "_b");
  const fs::path &dir_a = tmp_a.path, &dir_b = tmp_b.path;
  Run a = make_run(build);
  auto ca = config(dir_a, epochs);
  ca.loss = loss;
  train::Trainer<float> ta(*a.model, *a.opt, a.masks, ca);
  ta.fit(train_a, &val);

  Run b = make_run(build);
  auto cb = config(dir_b, epochs);
  cb.loss = loss;
  cb.max_steps = stop_at;
  cb.checkpoint_every = every;
  {
    train::Trainer<float> tb(*b.model, *b.opt, b.masks, cb);
    tb.fit(train_b, &val);
    CHECK(b.opt->steps() == stop_at);
  }
  Run c = make_run(build);  // a new process: fresh model, optimizer and generator
  cb.max_steps = 0;
  train::Trainer<float> tc(*c.model, *c.opt, c.masks, cb);
  tc.resume((dir_b / "last.safetensors").string());
  tc.fit(train_c, &val);

  CHECK(c.opt->steps() == a.opt->steps());
  CHECK(c.masks.offset() == a.masks.offset());
  const std::vector<float> sa = state_of(*a.model), sc = state_of(*c.model);
  REQUIRE(sa.size() == sc.size());
  size_t differ = 0;
  for (size_t i = 0; i < sa.size(); ++i) differ += sa[i] != sc[i];
  CHECK_MESSAGE(differ == 0, differ, " of ", sa.size(), " values differ after resuming");
  REQUIRE(tc.history().epochs.size() == ta.history().epochs.size());
  for (size_t e = 0; e < ta.history().epochs.size(); ++e) {
    CHECK(tc.history().epochs[e].train_loss == ta.history().epochs[e].train_loss);
    CHECK(tc.history().epochs[e].val_acc == ta.history().epochs[e].val_acc);
  }
}
}  // namespace

TEST_CASE("train: a resumed ConvMixer run ends with the uninterrupted run's parameters") {
  const data::ImageSet set = data::synthetic_image_set(88, 16, 16, 3, 10, 11);
  data::LoaderOptions lo{.batch_size = 16, .seed = 5, .augment = {.hflip = true}};
  auto build = [](Generator& init, Generator&) {
    models::ConvMixerConfig c;
    c.width = 8;
    c.depth = 2;
    c.kernel = 3;
    return std::make_shared<models::ConvMixer<float>>(c, init);
  };
  SUBCASE("stopped inside an epoch") {
    check_resume("cm_mid", build, set, lo, train::LossKind::Probabilities, 2, 4, 0);
  }
  SUBCASE("stopped at an epoch's end") {
    check_resume("cm_end", build, set, lo, train::LossKind::Probabilities, 3, 6, 0);
  }
  SUBCASE("resumed from a periodic checkpoint") {
    check_resume("cm_every", build, set, lo, train::LossKind::Probabilities, 2, 9, 2);
  }
}

TEST_CASE("train: a resumed ShiftViT run replays the same dropout and drop-path masks") {
  const data::ImageSet set = data::synthetic_image_set(40, 16, 16, 3, 10, 12);
  data::LoaderOptions lo{.batch_size = 8,
                         .seed = 6,
                         .augment = {.rescale = true, .resize = 18, .crop = 16, .hflip = true, .eval_resize = 16}};
  auto build = [](Generator& init, Generator& masks) {
    models::ShiftViTConfig c;
    c.dim = 12;
    c.num_div = 4;
    c.depths = {2, 1};
    c.mlp_dropout = 0.3;
    c.drop_path = 0.5;
    return std::make_shared<models::ShiftViT<float>>(c, init, &masks);
  };
  check_resume("svit", build, set, lo, train::LossKind::Logits, 2, 3, 0);
}

TEST_CASE("train: best checkpoint, early stopping and the CSV log") {
  const data::ImageSet set = data::synthetic_image_set(32, 8, 8, 3, 4, 13);
  data::BatchLoader<float> loader(set, {.batch_size = 8, .seed = 1});
  data::BatchLoader<float> val(set, {.batch_size = 8, .shuffle = false, .training = false});
  const test::TempDir tmp("train_best");
  const fs::path& dir = tmp.path;
  // ShiftViT without dropout has no state that changes at lr 0 (no BatchNorm statistics),
  // so no epoch improves on the first.
  auto build = [](Generator& init, Generator& masks) {
    models::ShiftViTConfig c;
    c.dim = 8;
    c.num_div = 4;
    c.depths = {1};
    c.num_classes = 4;
    c.mlp_dropout = 0;
    c.drop_path = 0;
    return std::make_shared<models::ShiftViT<float>>(c, init, &masks);
  };
  Run r = make_run(build);
  auto cfg = config(dir, 30);
  cfg.lr = [](int64_t) { return 0.0; };
  cfg.patience = 3;
  train::Trainer<float> t(*r.model, *r.opt, r.masks, cfg);
  t.fit(loader, &val);
  CHECK(t.stopped_early());
  CHECK(t.history().epochs.size() == 4);  // the first sets the best, three more without gain
  CHECK(fs::exists(t.best_path()));
  CHECK(fs::exists(t.last_path()));
  std::ifstream log(t.log_path());
  std::stringstream text;
  text << log.rdbuf();
  const train::History h = train::History::parse(text.str(), "log.csv");
  CHECK(h.epochs.size() == 4);
  CHECK(h.epochs[0].val_acc == t.history().epochs[0].val_acc);
  // The best file is a model file: it scores, but cannot be resumed.
  Run other = make_run(build);
  train::Trainer<float> t2(*other.model, *other.opt, other.masks, config(dir, 30));
  CHECK_THROWS_PN(t2.resume(t.best_path()), "not a training checkpoint");
}

TEST_CASE("train: a checkpoint from another model or a damaged file is refused by name") {
  const test::TempDir tmp("train_bad");
  const fs::path& dir = tmp.path;
  Generator g(1);
  models::ConvMixerConfig small;
  small.width = 8;
  small.depth = 1;
  models::ConvMixer<float> cm(small, g);
  const std::string path = (dir / "cm.safetensors").string();
  io::save_model(path, cm, "convmixer-8/1", {});
  models::ConvMixerConfig wider = small;
  wider.width = 12;
  models::ConvMixer<float> cm2(wider, g);
  CHECK_THROWS_PN(io::load_model(path, cm2, "convmixer-12/1"), "'stem.0.weight' has shape [8,3,2,2]");
  CHECK_THROWS_PN(io::load_model(path, cm2, "convmixer-12/1"), "written for model 'convmixer-8/1'");
  models::ShiftViTConfig sc;
  sc.dim = 12;
  sc.depths = {1};
  models::ShiftViT<float> sv(sc, g);
  CHECK_THROWS_PN(io::load_model(path, sv, "shiftvit"), "no tensor 'patch_projection.weight'");
  // A truncated file.
  {
    std::ifstream in(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream out((dir / "cut.safetensors").string(), std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
  }
  CHECK_THROWS_PN(io::load_model((dir / "cut.safetensors").string(), cm, "convmixer-8/1"), "cut.safetensors");
  CHECK_THROWS_PN(io::load_model((dir / "missing.safetensors").string(), cm, "x"), "missing.safetensors");
}

TEST_CASE("train: a short ConvMixer run on the CIFAR-10 mini set learns") {
  const fs::path root = test::mini_cifar10_root();
  if (!test::have_data(root / "cifar-10-batches-bin" / "data_batch_1.bin")) return;
  const data::ImageSet train_set = data::read_cifar10(root.string(), data::Cifar10Split::Train);  // 2,000
  const data::ImageSet test_set = data::read_cifar10(root.string(), data::Cifar10Split::Test);    // 500
  // Batch 16 for 125 steps an epoch: Keras' BatchNorm momentum 0.99 needs several hundred
  // steps before its running variance forgets its initial 1 (the seed's first epoch scores
  // 12% on validation for that reason), and evaluation uses the running statistics.
  data::BatchLoader<float> loader(train_set, {.batch_size = 16, .seed = 1, .augment = {.hflip = true}});
  data::BatchLoader<float> test(test_set, {.batch_size = 100, .shuffle = false, .training = false});
  Generator init(42), masks(43);
  models::ConvMixerConfig c;
  c.width = 32;
  c.depth = 2;
  c.kernel = 5;
  models::ConvMixer<float> m(c, init);
  optim::AdamW<float> opt(m, optim::AdamWOptions::keras(1e-4));
  auto cfg = config("", 5);
  cfg.out_dir.clear();
  cfg.loss = train::LossKind::Probabilities;
  cfg.lr = [](int64_t) { return 3e-3; };
  train::Trainer<float> t(m, opt, masks, cfg);
  t.fit(loader, nullptr);
  const train::EvalResult r = train::evaluate(m, test, train::LossKind::Probabilities);
  MESSAGE("ConvMixer-32/2, 5 epochs of the 2,000-image mini set: test accuracy ", r.acc, ", loss ", r.loss);
  CHECK(r.n == 500);
  CHECK(t.history().epochs.back().train_loss < t.history().epochs.front().train_loss);
  CHECK(r.acc >= 0.30);  // chance is 0.10
}
