// Data-parallel training under MPI: run as `mpirun -np 2 patchnet_dist_tests` (CTest
// dist.*). Every rank runs every case; each rank also computes the one-process reference
// itself, so a case compares the distributed run with what one process computes.
#define DOCTEST_CONFIG_IMPLEMENT
#include "dist/dist_training.hpp"
#include "patchnet/dist/mpi.hpp"
#include "support/model_state.hpp"

using namespace patchnet;
using namespace patchnet::test;
namespace fs = std::filesystem;

namespace {
// The reference: this process alone, every rank computing it itself.
TrainSpec alone(int64_t epochs, const std::string& dir = "", int64_t max_steps = 0, const std::string& resume = "") {
  return {.ranks = 1, .epochs = epochs, .dir = dir, .max_steps = max_steps, .resume = resume};
}
TrainSpec shared(bool sync_bn, int64_t epochs, const std::string& dir, int64_t max_steps = 0,
                 const std::string& resume = "") {
  return {.ranks = world->size(),
          .sync_bn = sync_bn,
          .epochs = epochs,
          .dir = dir,
          .max_steps = max_steps,
          .resume = resume};
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
  run_training(one, alone(2, world->is_root() ? dir_one.path.string() : ""));  // every rank: the reference
  run_training(d, shared(true, 2, dir_d.path.string()));
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
  run_training(one, alone(1));
  run_training(d, shared(false, 1, dir.path.string()));
  CHECK(dist::identical_across_ranks(*world, *d.model));
  // Each rank normalised its own 8 images: a different computation from one process's 16
  // (PyTorch DDP's default), so the parameters differ beyond rounding.
  CHECK(max_rel_diff(state_of(*d.model), state_of(*one.model)) > 1e-4);
}

TEST_CASE("dist: with dropout and drop path, two ranks drop what one process drops") {
  Run one(Device::cpu(), Model::ShiftViT), d(Device::cpu(), Model::ShiftViT);
  run_training(one, alone(2));
  run_training(d, shared(false, 2, ""));  // ShiftViT normalises with LayerNorm: no BatchNorm to sync
  CHECK(dist::identical_across_ranks(*world, *d.model));
  const double diff = max_rel_diff(state_of(*d.model), state_of(*one.model));
  INFO("largest relative difference from one process: ", diff);
  CHECK(diff < 2e-5);
  CHECK(d.masks.offset() == one.masks.offset());  // the mask counter a checkpoint saves
  CHECK(one.masks.offset() > 0);
}

TEST_CASE("dist: a checkpoint written by two ranks resumes in one process, and one process's in two") {
  const SharedDir two_then_one("two_then_one"), one_then_two("one_then_two");
  Run ref;
  run_training(ref, alone(2));
  // Two ranks stop at step 3 (inside epoch 1); rank 0 wrote the checkpoint; one process
  // (on every rank) resumes it to the end.
  {
    Run a;
    run_training(a, shared(true, 2, two_then_one.path.string(), 3));
    int64_t written = 0;
    world->all_reduce_sum(&written, 1);  // a barrier: rank 0 has written it
  }
  Run b;
  run_training(b, alone(2, "", 0, (two_then_one.path / "last.safetensors").string()));
  CHECK(max_rel_diff(state_of(*b.model), state_of(*ref.model)) < 2e-5);
  // One process (rank 0) stops at step 7 (epoch 2); both ranks resume it together.
  if (world->is_root()) {
    Run c;
    run_training(c, alone(2, one_then_two.path.string(), 7));
  }
  int64_t sync = 0;
  world->all_reduce_sum(&sync, 1);  // the checkpoint exists for every rank
  Run e;
  run_training(e, shared(true, 2, one_then_two.path.string(), 0, (one_then_two.path / "last.safetensors").string()));
  CHECK(dist::identical_across_ranks(*world, *e.model));
  CHECK(max_rel_diff(state_of(*e.model), state_of(*ref.model)) < 2e-5);
}

int main(int argc, char** argv) {
  world = &dist::world(&argc, &argv);
  return run_cases(argc, argv);
}
