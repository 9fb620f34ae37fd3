// Whole training steps of the three models on the GPU against the same steps on the CPU:
// the same initial weights, batch, labels and mask seed; AdamW as in the examples. After
// each step: the loss, every parameter and the BatchNorm running statistics. Dropout and
// drop path are on in ShiftViT, so its masks must agree between the devices too.
//
// Tolerance: float rounding of each op differs between the devices (cuBLAS sums in another
// order), so values are compared as in the golden tests: rtol 1e-4, atol 1e-4 of the
// tensor's largest value, plus Adam's amplification of a gradient difference where |g| is
// near eps (see tests/unit/train_golden_test.cpp), bounded by 2 lr a step. Two additions,
// found when this suite first ran (on the CUDA emulator, preset emu):
// - a gradient's rounding noise is set by the gradients that cancel in it, not by its own
//   size: the bias of a convolution feeding BatchNorm has a gradient of exactly 0 in exact
//   arithmetic, and what each device computes is noise of ~1e-7 of the model's largest
//   gradient. So every gradient also gets 1e-5 of the model's largest gradient;
// - Adam's update m / sqrt(v) moves with the relative gradient difference (up to ~1e-4
//   here, more where m cancels), so each step adds lr * 1e-3 to a parameter's tolerance.
//
// The steps also check the caching allocator: from the end of the second step on, a step
// calls cudaMalloc no more (cuda::memory_stats().malloc_calls stays put). Not from the
// first: the optimizer creates its state in the first update, from blocks the first
// step's temporaries left in the cache, and the second forward pass needs new ones.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "patchnet/data/cifar10.hpp"
#include "patchnet/models/convmixer.hpp"
#include "patchnet/models/involution_net.hpp"
#include "patchnet/models/shiftvit.hpp"
#include "patchnet/optim/adam.hpp"
#include "patchnet/train/trainer.hpp"
#include "support/data_dir.hpp"
#include "support/test_util.hpp"

using namespace patchnet;

namespace {

struct Replica {
  nn::Module<float>::Ptr model;
  std::unique_ptr<optim::Optimizer<float>> opt;
  Generator masks{11};
};

template <class Build>
Replica replica(Build build, Device device) {
  Replica r;
  Generator init(5);
  r.model = build(init, r.masks);
  r.model->to(device);
  r.opt = std::make_unique<optim::AdamW<float>>(*r.model, optim::AdamWOptions::keras(1e-2));
  return r;
}

double max_abs(const std::vector<float>& v) {
  double m = 0;
  for (float x : v) m = std::max(m, std::abs(static_cast<double>(x)));
  return m;
}

// GPU values against CPU values with the tolerance of the header.
// grad_scale: the model's largest gradient (0 for tensors that are not gradients).
void check_tensor(const Tensor<float>& gpu, const Tensor<float>& cpu, const Tensor<float>& cpu_grad, double lr,
                  int steps, const std::string& what, double grad_scale = 0) {
  REQUIRE_MESSAGE(gpu.is_cuda(), what, " is not on the GPU");
  REQUIRE_MESSAGE(gpu.shape() == cpu.shape(), what, ": shape ", gpu.shape().str(), " vs ", cpu.shape().str());
  const std::vector<float> a = gpu.to(Device::cpu()).to_vector(), e = cpu.to_vector();
  const std::vector<float> g = cpu_grad.defined() ? cpu_grad.to_vector() : std::vector<float>(e.size(), 1.0f);
  const double rtol = 1e-4, atol = 1e-4 * max_abs(e) + 1e-5 * grad_scale, eps = 1e-7;
  const double gtol = 1e-4 * max_abs(g) + 1e-5 * grad_scale;
  int64_t bad = 0, worst = -1;
  double worst_excess = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double gi = std::abs(static_cast<double>(g[i]));
    const double amplified =
        cpu_grad.defined()
            ? steps * std::min(2 * lr, lr * 1e-3 + lr * eps * (gtol + rtol * gi) / ((gi + eps) * (gi + eps)))
            : 0;
    const double diff = std::abs(static_cast<double>(a[i]) - e[i]);
    const double allowed = atol + rtol * std::abs(e[i]) + amplified;
    if (!(diff <= allowed)) {  // NaN (an unwritten element) fails too
      ++bad;
      if (worst < 0 || diff - allowed > worst_excess) {
        worst = static_cast<int64_t>(i);
        worst_excess = diff - allowed;
      }
    }
  }
  std::ostringstream msg;
  if (bad)
    msg << what << ": " << bad << " of " << a.size() << " elements differ; worst at " << worst << ": GPU "
        << a[static_cast<size_t>(worst)] << " vs CPU " << e[static_cast<size_t>(worst)];
  CHECK_MESSAGE(bad == 0, msg.str());
}

template <class Build>
void compare_steps(const std::string& name, Build build, const Shape& input, train::LossKind loss_kind, int steps) {
  Replica cpu = replica(build, Device::cpu()), gpu = replica(build, Device::cuda());
  const double lr = 1e-3;
  size_t malloc_after_first = 0;  // at the end of the second step
  for (int step = 1; step <= steps; ++step) {
    const std::string where = name + " step " + std::to_string(step);
    const Tensor<float> x = test::uniform<float>(input, test::seed_of(where), 0.0, 255.0);
    std::vector<int32_t> lab(static_cast<size_t>(input[0]));
    for (size_t i = 0; i < lab.size(); ++i) lab[i] = static_cast<int32_t>((i * 7 + static_cast<size_t>(step)) % 10);
    const Tensor<int32_t> labels = Tensor<int32_t>::from_vector(lab, {input[0]});

    Tensor<float> loss_c, loss_g;
    for (Replica* r : {&cpu, &gpu}) {
      const Device d = r == &gpu ? Device::cuda() : Device::cpu();
      r->model->train();
      const Tensor<float> out = r->model(x.to(d));
      const Tensor<float> loss = train::classification_loss(out, labels.to(d), loss_kind);
      r->opt->zero_grad();
      loss.backward();
      (r == &gpu ? loss_g : loss_c) = loss;
    }
    check_tensor(loss_g, loss_c, {}, lr, step, where + " loss");
    const auto pc = cpu.model->named_parameters(), pg = gpu.model->named_parameters();
    REQUIRE(pc.size() == pg.size());
    double grad_scale = 0;
    for (const auto& p : pc) grad_scale = std::max(grad_scale, max_abs(p.tensor.grad().to_vector()));
    for (size_t i = 0; i < pc.size(); ++i) {
      REQUIRE_MESSAGE(pg[i].tensor.grad().defined(), where, ": no gradient of ", pg[i].name, " on the GPU");
      check_tensor(pg[i].tensor.grad(), pc[i].tensor.grad(), {}, lr, step, where + " gradient of " + pc[i].name,
                   grad_scale);
    }
    std::vector<Tensor<float>> grads;
    for (const auto& p : pc) grads.push_back(p.tensor.grad().detach().contiguous());
    cpu.opt->step(lr);
    gpu.opt->step(lr);
    for (size_t i = 0; i < pc.size(); ++i)
      check_tensor(pg[i].tensor, pc[i].tensor, grads[i], lr, step, where + " parameter " + pc[i].name, grad_scale);
    const auto bc = cpu.model->named_buffers(), bg = gpu.model->named_buffers();
    REQUIRE(bc.size() == bg.size());
    for (size_t i = 0; i < bc.size(); ++i)
      check_tensor(bg[i].tensor, bc[i].tensor, {}, lr, step, where + " " + bc[i].name);
    CHECK(gpu.masks.offset() == cpu.masks.offset());
    cuda::synchronize(0);
    const size_t mallocs = cuda::memory_stats(0).malloc_calls;
    if (step <= 2) malloc_after_first = mallocs;
    else
      CHECK_MESSAGE(mallocs == malloc_after_first, where, ": ", mallocs - malloc_after_first,
                    " cudaMalloc calls after the second step");
  }
  MESSAGE(name, ": ", steps, " steps agree; device memory: ", cuda::memory_stats(0).peak_allocated_bytes >> 10,
          " KiB peak, ", cuda::memory_stats(0).malloc_calls, " cudaMalloc calls in all");
}

}  // namespace

TEST_CASE("cuda step: ConvMixer (stem, depthwise 5x5, pointwise, BatchNorm, GELU, softmax head)") {
  compare_steps(
      "convmixer",
      [](Generator& init, Generator&) {
        models::ConvMixerConfig c;
        c.width = 48;
        c.depth = 2;
        c.kernel = 5;
        c.patch = 2;
        return std::static_pointer_cast<nn::Module<float>>(std::make_shared<models::ConvMixer<float>>(c, init));
      },
      {8, 32, 32, 3}, train::LossKind::Probabilities, 3);
}

TEST_CASE("cuda step: ShiftViT (shift, LayerNorm, MLP, dropout, drop path, patch merging)") {
  compare_steps(
      "shiftvit",
      [](Generator& init, Generator& masks) {
        models::ShiftViTConfig c;
        c.dim = 24;
        c.depths = {1, 2};
        c.num_div = 12;
        c.mlp_dropout = 0.2;
        c.drop_path = 0.2;
        return std::static_pointer_cast<nn::Module<float>>(std::make_shared<models::ShiftViT<float>>(c, init, &masks));
      },
      {4, 32, 32, 3}, train::LossKind::Logits, 3);
}

TEST_CASE("cuda step: involution network (involution, pooling, BatchNorm, ReLU, dense)") {
  compare_steps(
      "involution net",
      [](Generator& init, Generator&) {
        return std::static_pointer_cast<nn::Module<float>>(models::involution_net<float>({}, init));
      },
      {8, 32, 32, 3}, train::LossKind::Logits, 3);
}

TEST_CASE("cuda step: conv baseline (3x3 convolutions, max pooling, dense)") {
  compare_steps(
      "conv net",
      [](Generator& init, Generator&) {
        return std::static_pointer_cast<nn::Module<float>>(models::conv_net<float>({}, init));
      },
      {8, 32, 32, 3}, train::LossKind::Logits, 3);
}

// In the doctest suite "data": CTest runs it as gpu.data, which reports skipped without the set.
TEST_CASE("cuda fit: the trainer on the GPU follows the CPU run on the CIFAR-10 mini set" *
          doctest::test_suite("data")) {
  const std::string root = test::mini_cifar10_root();  // $PATCHNET_DATA_DIR on the device machine
  if (!test::have_data(root + "/cifar-10-batches-bin/test_batch.bin")) return;
  const data::ImageSet set = data::read_cifar10(root, data::Cifar10Split::Test);  // 500 images
  const data::LoaderOptions lo{.batch_size = 32, .seed = 3, .augment = {.hflip = true}};
  auto build = [](Generator& init, Generator&) {
    models::ConvMixerConfig c;
    c.width = 32;
    c.depth = 2;
    return std::static_pointer_cast<nn::Module<float>>(std::make_shared<models::ConvMixer<float>>(c, init));
  };
  std::vector<train::History> histories;
  for (Device d : {Device::cpu(), Device::cuda()}) {
    Replica r = replica(build, d);
    data::BatchLoader<float> loader(set, lo);
    train::FitConfig cfg;
    cfg.epochs = 2;
    cfg.loss = train::LossKind::Probabilities;
    cfg.lr = [](int64_t) { return 1e-3; };
    cfg.device = d;
    cfg.progress = false;
    cfg.log = nullptr;
    train::Trainer<float> t(*r.model, *r.opt, r.masks, cfg);
    histories.push_back(t.fit(loader, nullptr));
  }
  REQUIRE(histories[0].epochs.size() == 2);
  REQUIRE(histories[1].epochs.size() == 2);
  for (size_t e = 0; e < 2; ++e) {
    CHECK(histories[1].epochs[e].train_loss == doctest::Approx(histories[0].epochs[e].train_loss).epsilon(1e-3));
    CHECK(std::abs(histories[1].epochs[e].train_acc - histories[0].epochs[e].train_acc) <= 0.02);
  }
}
