// Data-parallel training under MPI: run as `mpirun -np 2 patchnet_dist_tests` (CTest
// dist.*). Every rank runs every case; each rank also computes the one-process reference
// itself, so a case compares the distributed run with what one process computes.
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "patchnet/dist/data_parallel.hpp"
#include "patchnet/dist/mpi.hpp"
#include "patchnet/models/convmixer.hpp"
#include "patchnet/optim/adam.hpp"
#include "patchnet/train/trainer.hpp"
#include "support/model_state.hpp"

using namespace patchnet;
namespace fs = std::filesystem;

namespace {
dist::Group* world = nullptr;

using test::state_of;

// The largest |a - b| / (1 + |b|) over the values.
double max_rel_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::abs(static_cast<double>(a[i]) - b[i]) / (1.0 + std::abs(static_cast<double>(b[i]))));
  return worst;
}

struct Run {
  std::shared_ptr<models::ConvMixer<float>> model;
  std::unique_ptr<optim::AdamW<float>> opt;
  Generator masks{7};
  Run() {
    Generator init(3);
    model = std::make_shared<models::ConvMixer<float>>(
        models::ConvMixerConfig{.width = 8, .depth = 2, .kernel = 3, .softmax_head = false}, init);
    opt = std::make_unique<optim::AdamW<float>>(*model, optim::AdamWOptions::keras(1e-2));
  }
};

// A folder every rank names the same (rank 0's pid), removed by rank 0 at the end.
struct SharedDir {
  fs::path path;
  explicit SharedDir(const std::string& name) {
    int64_t pid = static_cast<int64_t>(getpid());
    world->broadcast(&pid, sizeof pid, 0);
    path = fs::temp_directory_path() / ("patchnet_dist_" + name + "_" + std::to_string(pid));
    if (world->is_root()) fs::create_directories(path);
  }
  ~SharedDir() {
    std::error_code ec;
    if (world->is_root()) fs::remove_all(path, ec);
  }
};

const data::ImageSet& images() {
  static const data::ImageSet set = data::synthetic_image_set(88, 16, 16, 3, 10, 11);  // 5 x 16 + 8
  return set;
}

// Trains `run` for `epochs` (or up to max_steps) on `ranks` shares (1: alone), from `resume`.
void run_training(Run& r, int ranks, bool sync_bn, int64_t epochs, const std::string& dir, int64_t max_steps = 0,
                  const std::string& resume = "") {
  data::LoaderOptions lo{.batch_size = 16, .seed = 5, .augment = {.hflip = true}};
  if (ranks > 1) {
    lo.rank = world->rank();
    lo.ranks = ranks;
  }
  data::LoaderOptions eo = lo;
  eo.training = false;
  eo.shuffle = false;
  data::BatchLoader<float> tr(images(), lo), val(images(), eo);
  train::FitConfig c;
  c.epochs = epochs;
  c.max_steps = max_steps;
  c.out_dir = dir;
  c.lr = [](int64_t step) { return 2e-3 * (1.0 + 0.1 * static_cast<double>(step % 3)); };
  c.progress = false;
  c.log = nullptr;
  c.group = ranks > 1 ? world : nullptr;
  c.sync_batch_norm = sync_bn;
  train::Trainer<float> t(*r.model, *r.opt, r.masks, c);
  if (!resume.empty()) t.resume(resume);
  t.fit(tr, &val);
}
}  // namespace

TEST_CASE("dist: all-reduce sums and broadcast copies rank 0's bytes") {
  const int R = world->size();
  REQUIRE(R >= 2);
  std::vector<float> f = {1.5f * static_cast<float>(world->rank()), 2.0f};
  world->all_reduce_sum(f.data(), 2);
  CHECK(f[0] == doctest::Approx(1.5 * R * (R - 1) / 2));
  CHECK(f[1] == doctest::Approx(2.0 * R));
  std::vector<double> d(3, static_cast<double>(world->rank() + 1));
  world->all_reduce_sum(d.data(), 3);
  CHECK(d[2] == doctest::Approx(R * (R + 1) / 2.0));
  int64_t i = world->rank();
  world->all_reduce_sum(&i, 1);
  CHECK(i == static_cast<int64_t>(R) * (R - 1) / 2);
  char text[8] = "rank x";
  text[5] = static_cast<char>('0' + world->rank());
  world->broadcast(text, sizeof text, 0);
  CHECK(std::string(text) == "rank 0");
}

TEST_CASE("dist: the batch size must divide among the ranks") {
  data::LoaderOptions lo{.batch_size = 15, .rank = world->rank(), .ranks = 2};
  CHECK_THROWS_WITH_AS(data::BatchLoader<float>(images(), lo),
                       doctest::Contains("the batch size 15 does not divide among 2 processes"), Error);
}

TEST_CASE("dist: with synchronised BatchNorm, two ranks train what one process trains on the global batch") {
  const SharedDir dir_d("sync"), dir_one("one");
  Run one, d;
  run_training(one, 1, false, 2, world->is_root() ? dir_one.path.string() : "");  // every rank: the reference
  run_training(d, world->size(), true, 2, dir_d.path.string());
  CHECK(dist::identical_across_ranks(*world, *d.model));
  const double diff = max_rel_diff(state_of(*d.model), state_of(*one.model));
  INFO("largest relative difference from one process: ", diff);
  CHECK(diff < 2e-5);  // float rounding of sums taken in another order, over 12 steps
  CHECK(d.opt->steps() == one.opt->steps());
  if (world->is_root()) CHECK(fs::exists(dir_d.path / "last.safetensors"));
}

TEST_CASE("dist: without synchronised BatchNorm, every rank still holds the same model") {
  const SharedDir dir("local");
  Run one, d;
  run_training(one, 1, false, 1, "");
  run_training(d, world->size(), false, 1, dir.path.string());
  CHECK(dist::identical_across_ranks(*world, *d.model));
  // Each rank normalised its own 8 images: a different computation from one process's 16
  // (PyTorch DDP's default), so the parameters differ beyond rounding.
  CHECK(max_rel_diff(state_of(*d.model), state_of(*one.model)) > 1e-4);
}

TEST_CASE("dist: a checkpoint written by two ranks resumes in one process, and one process's in two") {
  const SharedDir two_then_one("two_then_one"), one_then_two("one_then_two");
  Run ref;
  run_training(ref, 1, false, 2, "");
  // Two ranks stop at step 3 (inside epoch 1); rank 0 wrote the checkpoint; one process
  // (on every rank) resumes it to the end.
  {
    Run a;
    run_training(a, world->size(), true, 2, two_then_one.path.string(), 3);
    int64_t written = 0;
    world->all_reduce_sum(&written, 1);  // a barrier: rank 0 has written it
  }
  Run b;
  run_training(b, 1, false, 2, "", 0, (two_then_one.path / "last.safetensors").string());
  CHECK(max_rel_diff(state_of(*b.model), state_of(*ref.model)) < 2e-5);
  // One process (rank 0) stops at step 7 (epoch 2); both ranks resume it together.
  if (world->is_root()) {
    Run c;
    run_training(c, 1, false, 2, one_then_two.path.string(), 7);
  }
  int64_t sync = 0;
  world->all_reduce_sum(&sync, 1);  // the checkpoint exists for every rank
  Run e;
  run_training(e, world->size(), true, 2, one_then_two.path.string(), 0,
               (one_then_two.path / "last.safetensors").string());
  CHECK(dist::identical_across_ranks(*world, *e.model));
  CHECK(max_rel_diff(state_of(*e.model), state_of(*ref.model)) < 2e-5);
}

int main(int argc, char** argv) {
  world = &dist::world(&argc, &argv);
  doctest::Context ctx(argc, argv);
  const int failed = ctx.run();
  int64_t any = failed != 0 ? 1 : 0;
  world->all_reduce_sum(&any, 1);  // every rank's verdict
  return any != 0 ? 1 : 0;
}
