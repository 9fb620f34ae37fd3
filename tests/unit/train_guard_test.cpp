// The trainer's guards against bad input and silent damage: a checkpoint whose metadata is
// missing or malformed, a run whose loss diverges, a non-finite model offered as the best,
// the temporaries a killed run leaves behind, and a log that cannot be written.
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "patchnet/models/convmixer.hpp"
#include "patchnet/optim/adam.hpp"
#include "patchnet/train/trainer.hpp"
#include "support/temp_dir.hpp"
#include "support/test_util.hpp"

using namespace patchnet;
namespace fs = std::filesystem;

namespace {
struct Tiny {
  Generator init{3}, masks{7};
  std::shared_ptr<models::ConvMixer<float>> model;
  std::unique_ptr<optim::AdamW<float>> opt;
  Tiny() {
    models::ConvMixerConfig c;
    c.width = 8;
    c.depth = 1;
    c.kernel = 3;
    c.softmax_head = false;
    model = std::make_shared<models::ConvMixer<float>>(c, init);
    opt = std::make_unique<optim::AdamW<float>>(*model, optim::AdamWOptions::keras(1e-2));
  }
};

train::FitConfig config(const fs::path& dir, double lr, std::ostream* log = nullptr) {
  train::FitConfig c;
  c.epochs = 1;
  c.out_dir = dir.string();
  c.lr = [lr](int64_t) { return lr; };
  c.progress = false;
  c.log = log;
  return c;
}

const data::ImageSet& images() {
  static const data::ImageSet set = data::synthetic_image_set(32, 8, 8, 3, 10, 21);
  return set;
}
}  // namespace

TEST_CASE("train: a checkpoint with missing or malformed metadata is an Error naming the file and the field") {
  const test::TempDir tmp("guard_meta");
  {
    Tiny t;
    data::BatchLoader<float> loader(images(), {.batch_size = 8, .seed = 1});
    train::Trainer<float> tr(*t.model, *t.opt, t.masks, config(tmp.path, 1e-3));
    tr.fit(loader, nullptr);
  }
  const std::string good = (tmp.path / "last.safetensors").string(), bad = (tmp.path / "bad.safetensors").string();
  auto resume_with = [&](const std::string& key, const char* value) {
    io::SafeTensors f = io::load_safetensors(good);
    if (value) f.metadata[key] = value;
    else f.metadata.erase(key);
    io::save_safetensors(bad, f);
    Tiny t;
    train::Trainer<float> tr(*t.model, *t.opt, t.masks, config(tmp.path / "resumed", 1e-3));
    tr.resume(bad);
  };
  CHECK_THROWS_PN(resume_with("epoch_seen", nullptr), "bad.safetensors: no 'epoch_seen' in its metadata");
  CHECK_THROWS_PN(resume_with("history", nullptr), "bad.safetensors: no 'history' in its metadata");
  CHECK_THROWS_PN(resume_with("epoch", "1x"), "metadata 'epoch' = '1x' is not an integer");
  CHECK_THROWS_PN(resume_with("epoch", ""), "metadata 'epoch' = '' is not an integer");
  CHECK_THROWS_PN(resume_with("batch", "-3"), "metadata 'batch' = -3 is outside [0, ");
  CHECK_THROWS_PN(resume_with("wait", "99999999999999999999"), "metadata 'wait' = '99999999999999999999' is not");
  CHECK_THROWS_PN(resume_with("stopped_early", "2"), "metadata 'stopped_early' = 2 is outside [0, 1]");
  CHECK_THROWS_PN(resume_with("mask_offset", "-1"), "metadata 'mask_offset' = '-1' is not an unsigned");
  CHECK_THROWS_PN(resume_with("best_val_acc", "0.5abc"), "metadata 'best_val_acc' = '0.5abc' is not a number");
  CHECK_THROWS_PN(resume_with("optimizer_steps", "four"), "metadata 'optimizer_steps' = 'four' is not an integer");
  // The whole uint64 range of seeds is valid (it was parsed as int64 before).
  CHECK_NOTHROW(resume_with("mask_seed", "18446744073709551615"));
  CHECK_NOTHROW(resume_with("best_val_acc", "-inf"));
}

TEST_CASE("train: a diverging loss stops the run with an Error, and a non-finite model never becomes the best") {
  const test::TempDir tmp("guard_nan");
  SUBCASE("stopped at the first non-finite loss") {
    Tiny t;
    data::BatchLoader<float> loader(images(), {.batch_size = 8, .seed = 1});
    train::Trainer<float> tr(*t.model, *t.opt, t.masks, config(tmp.path, 1e30));
    CHECK_THROWS_PN(tr.fit(loader, nullptr), "training diverged");
    CHECK_FALSE(fs::exists(tr.best_path()));
  }
  SUBCASE("kept going on request: the epoch is logged, no best checkpoint is written") {
    Tiny t;
    data::BatchLoader<float> loader(images(), {.batch_size = 8, .seed = 1});
    std::ostringstream log;
    train::FitConfig c = config(tmp.path, 1e30, &log);
    c.allow_nonfinite = true;
    c.epochs = 2;
    train::Trainer<float> tr(*t.model, *t.opt, t.masks, c);
    tr.fit(loader, nullptr);
    CHECK(tr.history().epochs.size() == 2);
    CHECK(log.str().find("holds NaN or inf; not a best checkpoint") != std::string::npos);
    CHECK_FALSE(fs::exists(tr.best_path()));
    CHECK(fs::exists(tr.last_path()));
  }
}

TEST_CASE("train: temporaries of a killed run are removed at start, a live process's are kept") {
  const test::TempDir tmp("guard_tmp");
  const fs::path dead = tmp.path / "last.safetensors.tmp.99999999";  // above any pid_max
  const fs::path mine = tmp.path / ("log.csv.tmp." + std::to_string(::getpid()));
  const fs::path other = tmp.path / "notes.tmp.txt";
  for (const fs::path& p : {dead, mine, other}) std::ofstream(p) << "x";
  Tiny t;
  train::Trainer<float> tr(*t.model, *t.opt, t.masks, config(tmp.path, 1e-3));
  CHECK_FALSE(fs::exists(dead));
  CHECK(fs::exists(mine));
  CHECK(fs::exists(other));
  CHECK_FALSE(fs::exists(tmp.path / ".write_test"));
}

TEST_CASE("train: a resume whose run settings differ from the checkpoint's is refused, naming both values") {
  const test::TempDir tmp("guard_settings");
  {
    Tiny t;
    data::BatchLoader<float> loader(images(), {.batch_size = 8, .seed = 1});
    train::FitConfig c = config(tmp.path, 1e-3);
    c.run_settings = {{"--batch-size", "8"}, {"--seed", "1"}};
    train::Trainer<float> tr(*t.model, *t.opt, t.masks, c);
    tr.fit(loader, nullptr);
  }
  auto resume = [&](const std::string& batch, bool allow) {
    Tiny t;
    train::FitConfig c = config(tmp.path / "again", 1e-3);
    c.epochs = 2;  // training longer is not a changed setting
    c.run_settings = {{"--batch-size", batch}, {"--seed", "1"}};
    c.allow_changed_settings = allow;
    train::Trainer<float> tr(*t.model, *t.opt, t.masks, c);
    tr.resume((tmp.path / "last.safetensors").string());
  };
  CHECK_NOTHROW(resume("8", false));
  CHECK_THROWS_PN(resume("4", false), "was taken with --batch-size 8, this run has --batch-size 4");
  CHECK_NOTHROW(resume("4", true));
}

TEST_CASE("train: the log's location is checked before the first step, and a failed log write keeps the epoch") {
  const test::TempDir tmp("guard_log");
  Tiny t;
  train::FitConfig c = config(tmp.path / "run", 1e-3);
  fs::create_directories(tmp.path / "logs" / "log.csv");  // a folder where the log file should be
  c.csv_path = (tmp.path / "logs" / "log.csv").string();
  CHECK_THROWS_PN(train::Trainer<float>(*t.model, *t.opt, t.masks, c), "log.csv is a folder, not a file");

  // The location is fine when the run starts and fails later (a folder appears in its way):
  // the epoch's checkpoint is written before the log, so the run can resume from it.
  c.csv_path = (tmp.path / "later" / "log.csv").string();
  train::Trainer<float> tr(*t.model, *t.opt, t.masks, c);
  fs::create_directories(tmp.path / "later" / "log.csv");
  data::BatchLoader<float> loader(images(), {.batch_size = 8, .seed = 1});
  CHECK_THROWS_PN(tr.fit(loader, nullptr), "log.csv");
  REQUIRE(fs::exists(tr.last_path()));
  const io::SafeTensors f = io::load_safetensors(tr.last_path());
  CHECK(f.metadata.at("epoch") == "1");
  CHECK(f.metadata.at("batch") == "0");
}
