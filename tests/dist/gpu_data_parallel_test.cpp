// Data parallel on GPUs through NCCL (dist/nccl.hpp): run as `mpirun -np 2
// patchnet_dist_gpu_tests` (CTest gpu.dist). With the real patchnet::cuda and NCCL it needs
// one GPU per rank on this machine (else it exits 77: skipped). Built against the emulated
// patchnet::cuda (preset emu), both ranks run the NCCL group's code on the emulator, with
// tools/cuda_emu/nccl/nccl.h doing NCCL's collectives over MPI on the emulated device memory.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#define DOCTEST_CONFIG_IMPLEMENT
#include "dist/dist_training.hpp"
#include "patchnet/cuda/runtime.hpp"
#include "patchnet/dist/mpi.hpp"
#include "patchnet/dist/nccl.hpp"
#include "patchnet/ops/loss.hpp"
#include "support/model_state.hpp"

using namespace patchnet;
using namespace patchnet::test;

namespace {
Device gpu;  // this rank's GPU

std::vector<float> grads_of(const nn::Module<float>& m) {
  std::vector<float> out;
  for (const auto& p : m.named_parameters()) {
    REQUIRE_MESSAGE(p.tensor.grad().defined(), p.name, " has no gradient");
    REQUIRE(p.tensor.grad().is_cuda());
    const auto v = p.tensor.grad().to_vector();
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

// Forward and backward of this rank's own batch of 8 images.
void backward_own_batch(Run& r) {
  const data::ImageSet& set = images();
  const int64_t n = 8, bytes = set.image_bytes();
  std::vector<float> x(static_cast<size_t>(n * bytes));
  std::vector<int32_t> y(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t img = world->rank() * n + i;
    std::copy(set.image(img), set.image(img) + bytes, x.begin() + i * bytes);
    y[static_cast<size_t>(i)] = set.labels[static_cast<size_t>(img)];
  }
  const Tensor<float> batch = Tensor<float>::from_vector(x, {n, set.height, set.width, set.channels}).to(gpu);
  r.model->train();
  r.opt->zero_grad();
  cross_entropy((*r.model)(batch), Tensor<int32_t>::from_vector(y, {n}).to(gpu)).backward();
}
}  // namespace

TEST_CASE("gpu dist: on_device gives the NCCL group, which sums and broadcasts GPU memory") {
  dist::Group& g = dist::on_device(*world, gpu);
  CHECK(g.reduces_on_device());
  CHECK(std::string(g.backend()) == "MPI + NCCL");
  CHECK(&dist::on_device(*world, gpu) == &g);  // one communicator per process
  CHECK(&dist::on_device(*world, Device::cpu()) == world);
  CHECK(g.rank() == world->rank());
  const int R = g.size();
  Tensor<float> f = Tensor<float>::full({1000}, static_cast<float>(g.rank() + 1), gpu);
  g.all_reduce_sum_device(f.data(), f.numel(), gpu.index);
  for (float v : f.to_vector()) REQUIRE(v == static_cast<float>(R * (R + 1) / 2));
  Tensor<double> d = Tensor<double>::full({3}, 0.5 * g.rank(), gpu);
  g.all_reduce_sum_device(d.data(), d.numel(), gpu.index);
  CHECK(d.to_vector()[2] == doctest::Approx(0.25 * R * (R - 1)));
  Tensor<float> b = Tensor<float>::full({7}, static_cast<float>(10 + g.rank()), gpu);
  g.broadcast_device(b.data(), static_cast<int64_t>(sizeof(float)) * b.numel(), 0, gpu.index);
  for (float v : b.to_vector()) CHECK(v == 10.0f);
  int64_t host = 1;  // the host collectives still go through MPI
  g.all_reduce_sum(&host, 1);
  CHECK(host == R);
  CHECK_THROWS_WITH_AS(g.all_reduce_sum_device(f.data(), f.numel(), gpu.index + 1),
                       doctest::Contains("one GPU per process"), Error);
  CHECK_THROWS_WITH_AS(world->all_reduce_sum_device(f.data(), f.numel(), gpu.index),
                       doctest::Contains("has no collectives on GPU memory"), Error);
}

TEST_CASE("gpu dist: gradients summed by NCCL equal those summed through the host, bit for bit") {
  dist::Group& nccl = dist::on_device(*world, gpu);
  Run via_host(gpu), via_nccl(gpu);
  backward_own_batch(via_host);
  backward_own_batch(via_nccl);
  const std::vector<float> own = grads_of(*via_nccl.model);
  dist::all_reduce_gradients(*world, *via_host.model);  // MPI on host copies
  dist::all_reduce_gradients(nccl, *via_nccl.model);    // NCCL in GPU memory
  const std::vector<float> a = grads_of(*via_host.model), b = grads_of(*via_nccl.model);
  REQUIRE(a.size() == b.size());
  CHECK(std::memcmp(a.data(), b.data(), sizeof(float) * a.size()) == 0);
  CHECK(a != own);  // the other rank's gradients were added
  // Every rank ends with the same sums.
  std::vector<float> root = b;
  world->broadcast(root.data(), static_cast<int64_t>(sizeof(float) * root.size()), 0);
  CHECK(root == b);
}

TEST_CASE("gpu dist: broadcast_module over NCCL gives every rank rank 0's model") {
  dist::Group& nccl = dist::on_device(*world, gpu);
  Run r(gpu);
  if (!world->is_root()) {  // this rank's own weights and buffers
    NoGrad no_grad;
    for (auto& p : r.model->named_parameters()) p.tensor.copy_(Tensor<float>::full(p.tensor.shape(), 0.25f, gpu));
    for (auto& bf : r.model->named_buffers()) bf.tensor.copy_(Tensor<float>::full(bf.tensor.shape(), 3.0f, gpu));
  }
  CHECK_FALSE(dist::identical_across_ranks(nccl, *r.model));
  dist::broadcast_module(nccl, *r.model);
  CHECK(dist::identical_across_ranks(nccl, *r.model));
}

TEST_CASE("gpu dist: the Trainer on GPUs with NCCL trains what it trains through the host, on every rank") {
  dist::Group& nccl = dist::on_device(*world, gpu);
  const SharedDir dir("gpu");
  Run host_run(gpu), nccl_run(gpu);
  run_training(host_run, {.ranks = world->size(), .epochs = 2, .device = gpu, .group = world});
  run_training(nccl_run,
               {.ranks = world->size(), .epochs = 2, .dir = dir.path.string(), .device = gpu, .group = &nccl});
  CHECK(nccl_run.opt->steps() == 12);  // 6 batches of 16 (88 images, the last batch partial) x 2 epochs
  CHECK(dist::identical_across_ranks(nccl, *nccl_run.model));
  const std::vector<float> a = state_of(*host_run.model), b = state_of(*nccl_run.model);
  CHECK(std::memcmp(a.data(), b.data(), sizeof(float) * a.size()) == 0);
  if (world->is_root()) CHECK(std::filesystem::exists(dir.path / "last.safetensors"));
}

TEST_CASE("gpu dist: with synchronised BatchNorm, two ranks on GPUs train what one process trains") {
  dist::Group& nccl = dist::on_device(*world, gpu);
  Run one(gpu), d(gpu);
  run_training(one, {.ranks = 1, .epochs = 2, .device = gpu});  // every rank: the reference
  run_training(d, {.ranks = world->size(), .sync_bn = true, .epochs = 2, .device = gpu, .group = &nccl});
  CHECK(dist::identical_across_ranks(nccl, *d.model));
  const double diff = max_rel_diff(state_of(*d.model), state_of(*one.model));
  INFO("largest relative difference from one process: ", diff);
  CHECK(diff < 2e-5);  // float rounding of sums taken in another order, over 12 steps
  // Without it each rank normalises its own rows: another computation.
  Run local(gpu);
  run_training(local, {.ranks = world->size(), .epochs = 2, .device = gpu, .group = &nccl});
  CHECK(max_rel_diff(state_of(*local.model), state_of(*one.model)) > 1e-4);
}

int main(int argc, char** argv) {
  world = &dist::world(&argc, &argv);
  const int gpus = cuda::device_count();
  const bool emulated = gpus > 0 && std::strstr(cuda::device_name(0), "emulator") != nullptr;
  int64_t missing = gpus == 0 || (!emulated && gpus < world->local_size()) ? 1 : 0;
  world->all_reduce_sum(&missing, 1);
  if (missing) {  // every rank skips together
    if (world->is_root())
      std::printf("PATCHNET_SKIPPED: data parallel on GPUs needs one GPU per rank (%d here for %d ranks)\n", gpus,
                  world->local_size());
    return 77;
  }
  gpu = Device::cuda(emulated ? 0 : world->local_rank());  // the emulator has one device per process
  cuda::set_device(gpu.index);
  if (world->is_root()) std::printf("data parallel on %d x %s\n", world->size(), cuda::device_name(gpu.index));
  return run_cases(argc, argv);
}
