// What the data-parallel tests share (tests/dist/*_test.cpp, each run as `mpirun -np 2`): the
// MPI world, a small ConvMixer with its optimizer, a data set, a folder every rank names
// the same, and a Trainer run on a share of every batch.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "patchnet/dist/data_parallel.hpp"
#include "patchnet/models/convmixer.hpp"
#include "patchnet/models/shiftvit.hpp"
#include "patchnet/optim/adam.hpp"
#include "patchnet/train/trainer.hpp"

namespace patchnet::test {

inline dist::Group* world = nullptr;  // set by each test program's main

// The largest |a - b| / (1 + |b|) over the values.
inline double max_rel_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::abs(static_cast<double>(a[i]) - b[i]) / (1.0 + std::abs(static_cast<double>(b[i]))));
  return worst;
}

enum class Model { ConvMixer, ShiftViT };  // ShiftViT: dropout and drop path, LayerNorm

struct Run {
  std::shared_ptr<nn::Module<float>> model;
  std::unique_ptr<optim::AdamW<float>> opt;
  Generator masks{7};
  explicit Run(Device device = Device::cpu(), Model kind = Model::ConvMixer) {
    Generator init(3);
    if (kind == Model::ConvMixer)
      model = std::make_shared<models::ConvMixer<float>>(
          models::ConvMixerConfig{.width = 8, .depth = 2, .kernel = 3, .softmax_head = false}, init);
    else
      model = std::make_shared<models::ShiftViT<float>>(
          models::ShiftViTConfig{
              .patch = 4, .dim = 8, .depths = {1, 2}, .num_div = 4, .mlp_dropout = 0.3, .drop_path = 0.4},
          init, &masks);
    model->to(device);
    opt = std::make_unique<optim::AdamW<float>>(*model, optim::AdamWOptions::keras(1e-2));
  }
};

// A folder every rank names the same (rank 0's pid), removed by rank 0 at the end.
struct SharedDir {
  std::filesystem::path path;
  explicit SharedDir(const std::string& name) {
    int64_t pid = static_cast<int64_t>(getpid());
    world->broadcast(&pid, sizeof pid, 0);
    path = std::filesystem::temp_directory_path() / ("patchnet_dist_" + name + "_" + std::to_string(pid));
    if (world->is_root()) std::filesystem::create_directories(path);
  }
  ~SharedDir() {
    std::error_code ec;
    if (world->is_root()) std::filesystem::remove_all(path, ec);
  }
};

inline const data::ImageSet& images() {
  static const data::ImageSet set = data::synthetic_image_set(88, 16, 16, 3, 10, 11);  // 5 x 16 + 8
  return set;
}

struct TrainSpec {
  int ranks = 1;  // 1: this process alone
  bool sync_bn = false;
  int64_t epochs = 1;
  std::string dir;  // checkpoints; empty: none
  int64_t max_steps = 0;
  std::string resume;
  Device device = Device::cpu();
  dist::Group* group = nullptr;  // with ranks > 1: the world unless given
};

// Trains `r` on its share of every batch of 16 (with flips and a varying learning rate).
inline void run_training(Run& r, const TrainSpec& s) {
  data::LoaderOptions lo{.batch_size = 16, .seed = 5, .augment = {.hflip = true}};
  if (s.ranks > 1) {
    lo.rank = world->rank();
    lo.ranks = s.ranks;
  }
  data::LoaderOptions eo = lo;
  eo.training = false;
  eo.shuffle = false;
  data::BatchLoader<float> tr(images(), lo), val(images(), eo);
  train::FitConfig c;
  c.epochs = s.epochs;
  c.max_steps = s.max_steps;
  c.out_dir = s.dir;
  c.lr = [](int64_t step) { return 2e-3 * (1.0 + 0.1 * static_cast<double>(step % 3)); };
  c.progress = false;
  c.log = nullptr;
  c.device = s.device;
  c.group = s.ranks > 1 ? (s.group ? s.group : world) : nullptr;
  c.sync_batch_norm = s.sync_bn;
  train::Trainer<float> t(*r.model, *r.opt, r.masks, c);
  if (!s.resume.empty()) t.resume(s.resume);
  t.fit(tr, &val);
}

// Runs the doctest cases on every rank; the exit status is every rank's verdict.
inline int run_cases(int argc, char** argv) {
  doctest::Context ctx(argc, argv);
  const int failed = ctx.run();
  int64_t any = failed != 0 ? 1 : 0;
  world->all_reduce_sum(&any, 1);
  return any != 0 ? 1 : 0;
}

}  // namespace patchnet::test
