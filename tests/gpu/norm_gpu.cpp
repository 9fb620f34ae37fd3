// Beyond the batch_norm, layer_norm and group_norm rows of the op table (run on the GPU
// from tests/cases/), what the table does not cover: realistic sizes (multi-block reductions), the running statistics
// after one and three training steps, eval mode, a large mean offset, run-to-run determinism, and the nn::BatchNorm2d /
// nn::LayerNorm modules moved to the GPU.
#include "gpu/gpu_runner.hpp"
#include "patchnet/ops/batch_norm.hpp"
#include "patchnet/ops/group_norm.hpp"
#include "patchnet/ops/layer_norm.hpp"

using namespace patchnet;

#include "patchnet/nn/norm.hpp"

namespace {

// A fresh leaf copy of a CPU tensor on `dev` (a new tensor on the CPU too, so the two
// runs never share state).
Tensor<float> fresh(const Tensor<float>& t, Device dev) { return dev.is_cpu() ? t.clone() : t.to(dev); }

struct BnInputs {
  std::vector<Tensor<float>> xs;  // one input per step
  Tensor<float> gamma, beta, rm, rv, gout;
};

BnInputs bn_inputs(const Shape& shape, const std::string& name, int steps, double offset) {
  const int64_t C = shape[shape.rank() - 1];
  BnInputs in;
  for (int k = 0; k < steps; ++k)
    in.xs.push_back(uniform<float>(shape, seed_of(name + "/x" + std::to_string(k)), offset - 1.0, offset + 2.0));
  in.gamma = uniform<float>({C}, seed_of(name + "/gamma"), 0.5, 1.5);
  in.beta = uniform<float>({C}, seed_of(name + "/beta"));
  in.rm = uniform<float>({C}, seed_of(name + "/rm"));
  in.rv = uniform<float>({C}, seed_of(name + "/rv"), 0.5, 2.0);
  in.gout = uniform<float>(shape, seed_of(name + "/gout"));
  return in;
}

struct BnResult {
  Tensor<float> y, gx, ggamma, gbeta;  // of the first step
  std::vector<Tensor<float>> rm, rv;   // running buffers after each step
};

// `steps` calls of batch_norm on `dev`; backward after each, gradients kept of the first.
BnResult bn_run(const BnInputs& in, Device dev, bool training, const BatchNormOptions& opt) {
  BnResult r;
  const Tensor<float> rm = fresh(in.rm, dev), rv = fresh(in.rv, dev);
  for (size_t k = 0; k < in.xs.size(); ++k) {
    Tensor<float> x = fresh(in.xs[k], dev).set_requires_grad();
    Tensor<float> gamma = fresh(in.gamma, dev).set_requires_grad();
    Tensor<float> beta = fresh(in.beta, dev).set_requires_grad();
    Tensor<float> y = batch_norm(x, gamma, beta, rm, rv, training, opt);
    REQUIRE(y.device() == dev);
    y.backward(fresh(in.gout, dev));
    if (k == 0) {
      r.y = y.detach().to(Device::cpu());
      r.gx = x.grad().to(Device::cpu());
      r.ggamma = gamma.grad().to(Device::cpu());
      r.gbeta = beta.grad().to(Device::cpu());
    }
    r.rm.push_back(rm.to(Device::cpu()).clone());
    r.rv.push_back(rv.to(Device::cpu()).clone());
  }
  return r;
}

void bn_compare(const Shape& shape, bool training, int steps, const BatchNormOptions& opt = {}, double offset = 0.0) {
  const std::string name = "bn " + shape.str() + (training ? " train" : " eval") + " offset " + std::to_string(offset);
  INFO(name);
  const BnInputs in = bn_inputs(shape, name, steps, offset);
  const BnResult cpu = bn_run(in, Device::cpu(), training, opt);
  const BnResult gpu = bn_run(in, Device::cuda(), training, opt);
  check_close(gpu.y, cpu.y, 1e-4, 1e-5, name + ": y");
  check_close(gpu.gx, cpu.gx, 1e-4, 1e-5, name + ": dx");
  check_close(gpu.ggamma, cpu.ggamma, 1e-4, 1e-4, name + ": dgamma");
  check_close(gpu.gbeta, cpu.gbeta, 1e-4, 1e-4, name + ": dbeta");
  for (int k = 0; k < steps; ++k) {
    check_close(gpu.rm[k], cpu.rm[k], 1e-5, 1e-6, name + ": running_mean after step " + std::to_string(k + 1));
    check_close(gpu.rv[k], cpu.rv[k], 1e-5, 1e-6, name + ": running_var after step " + std::to_string(k + 1));
  }
}

struct LnResult {
  Tensor<float> y, gx, ggamma, gbeta;
};

LnResult ln_run(const Shape& shape, const std::string& name, Device dev, double eps) {
  const int64_t C = shape[shape.rank() - 1];
  Tensor<float> x = fresh(uniform<float>(shape, seed_of(name + "/x"), -1.0, 3.0), dev).set_requires_grad();
  Tensor<float> gamma = fresh(uniform<float>({C}, seed_of(name + "/gamma"), 0.5, 1.5), dev).set_requires_grad();
  Tensor<float> beta = fresh(uniform<float>({C}, seed_of(name + "/beta")), dev).set_requires_grad();
  Tensor<float> y = layer_norm(x, gamma, beta, eps);
  REQUIRE(y.device() == dev);
  y.backward(fresh(uniform<float>(shape, seed_of(name + "/gout")), dev));
  return {y.detach().to(Device::cpu()), x.grad().to(Device::cpu()), gamma.grad().to(Device::cpu()),
          beta.grad().to(Device::cpu())};
}

void ln_compare(const Shape& shape, double eps = 1e-5) {
  const std::string name = "ln " + shape.str();
  INFO(name);
  const LnResult cpu = ln_run(shape, name, Device::cpu(), eps), gpu = ln_run(shape, name, Device::cuda(), eps);
  check_close(gpu.y, cpu.y, 1e-4, 1e-5, name + ": y");
  check_close(gpu.gx, cpu.gx, 1e-4, 1e-5, name + ": dx");
  check_close(gpu.ggamma, cpu.ggamma, 1e-4, 1e-4, name + ": dgamma");
  check_close(gpu.gbeta, cpu.gbeta, 1e-4, 1e-4, name + ": dbeta");
}

LnResult gn_run(const Shape& shape, int64_t groups, const std::string& name, Device dev) {
  const int64_t C = shape[3];
  Tensor<float> x = fresh(uniform<float>(shape, seed_of(name + "/x"), -1.0, 3.0), dev).set_requires_grad();
  Tensor<float> gamma = fresh(uniform<float>({C}, seed_of(name + "/gamma"), 0.5, 1.5), dev).set_requires_grad();
  Tensor<float> beta = fresh(uniform<float>({C}, seed_of(name + "/beta")), dev).set_requires_grad();
  Tensor<float> y = group_norm(x, groups, gamma, beta);
  REQUIRE(y.device() == dev);
  y.backward(fresh(uniform<float>(shape, seed_of(name + "/gout")), dev));
  return {y.detach().to(Device::cpu()), x.grad().to(Device::cpu()), gamma.grad().to(Device::cpu()),
          beta.grad().to(Device::cpu())};
}

void gn_compare(const Shape& shape, int64_t groups) {
  const std::string name = "gn " + shape.str() + " groups " + std::to_string(groups);
  INFO(name);
  const LnResult cpu = gn_run(shape, groups, name, Device::cpu()), gpu = gn_run(shape, groups, name, Device::cuda());
  check_close(gpu.y, cpu.y, 1e-4, 1e-5, name + ": y");
  check_close(gpu.gx, cpu.gx, 1e-4, 1e-5, name + ": dx");
  check_close(gpu.ggamma, cpu.ggamma, 1e-4, 1e-4, name + ": dgamma");
  check_close(gpu.gbeta, cpu.gbeta, 1e-4, 1e-4, name + ": dbeta");
  const LnResult again = gn_run(shape, groups, name, Device::cuda());
  CHECK_MESSAGE(again.gx.to_vector() == gpu.gx.to_vector(), name, ": dx differs between two identical GPU runs");
  CHECK_MESSAGE(again.ggamma.to_vector() == gpu.ggamma.to_vector(), name, ": dgamma differs between two GPU runs");
}

void check_equal(const Tensor<float>& a, const Tensor<float>& b, const std::string& what) {
  CHECK_MESSAGE(a.to_vector() == b.to_vector(), what, ": differs between two identical GPU runs");
}

}  // namespace

TEST_CASE("cuda: batch_norm training at realistic sizes, running statistics over 3 steps") {
  bn_compare({8, 16, 16, 256}, true, 3);  // ConvMixer-like: vectorised, multi-block
  bn_compare({16, 32, 32, 3}, true, 3);   // involution net: few channels, many rows
  bn_compare({4, 5, 7, 13}, true, 3);     // odd channels, no vector path
  bn_compare({2, 8, 8, 16}, true, 3, {.momentum = 0.9, .eps = 1e-5, .unbiased_running_var = true});
  bn_compare({130, 2}, true, 1);                  // [N, C]
  bn_compare({4, 5, 7, 13}, true, 2, {}, 100.0);  // |mean| >> std: no cancellation
  bn_compare({8, 16, 16, 256}, true, 1, {}, 30.0);
}

TEST_CASE("cuda: batch_norm eval at realistic sizes") {
  bn_compare({8, 16, 16, 256}, false, 1);
  bn_compare({16, 32, 32, 3}, false, 1);
  bn_compare({4, 5, 7, 13}, false, 1);
}

TEST_CASE("cuda: batch_norm with strided running buffers and no affine") {
  const Shape shape{6, 5, 5, 12};
  const auto x = uniform<float>(shape, 11);
  // Running mean and var interleaved in one [24] buffer: views of stride 2.
  auto t_cpu = uniform<float>({24}, 13, 0.5, 1.5), t_gpu = t_cpu.to(Device::cuda());
  const auto view = [](const Tensor<float>& t, int64_t i) { return slice(t, 0, i, 24, 2); };
  REQUIRE(view(t_cpu, 0).stride(0) == 2);
  const auto y_cpu = batch_norm(x, Tensor<float>(), Tensor<float>(), view(t_cpu, 0), view(t_cpu, 1), true);
  const auto y_gpu =
      batch_norm(x.to(Device::cuda()), Tensor<float>(), Tensor<float>(), view(t_gpu, 0), view(t_gpu, 1), true);
  check_close(y_gpu, y_cpu, 1e-4, 1e-5, "y");
  check_close(t_gpu, t_cpu, 1e-5, 1e-6, "running buffers through strided views");
}

TEST_CASE("cuda: batch_norm and layer_norm are deterministic") {
  const BnInputs in = bn_inputs({8, 16, 16, 256}, "determinism", 1, 0.5);
  const BnResult a = bn_run(in, Device::cuda(), true, {}), b = bn_run(in, Device::cuda(), true, {});
  check_equal(a.y, b.y, "bn y");
  check_equal(a.gx, b.gx, "bn dx");
  check_equal(a.ggamma, b.ggamma, "bn dgamma");
  check_equal(a.gbeta, b.gbeta, "bn dbeta");
  check_equal(a.rv[0], b.rv[0], "bn running_var");
  const LnResult c = ln_run({8, 8, 8, 96}, "determinism", Device::cuda(), 1e-5),
                 d = ln_run({8, 8, 8, 96}, "determinism", Device::cuda(), 1e-5);
  check_equal(c.y, d.y, "ln y");
  check_equal(c.gx, d.gx, "ln dx");
  check_equal(c.ggamma, d.ggamma, "ln dgamma");
  check_equal(c.gbeta, d.gbeta, "ln dbeta");
}

TEST_CASE("cuda: layer_norm at realistic sizes") {
  ln_compare({8, 8, 8, 96});  // ShiftViT stage 1
  ln_compare({2, 3, 768});    // ShiftViT last stage
  ln_compare({5, 7, 13});     // odd C: no vector path
  ln_compare({64, 1000});     // C > 32 vectors per lane pass
  ln_compare({3, 5, 2}, 1e-3);
}

TEST_CASE("cuda: group_norm at realistic sizes, deterministic") {
  gn_compare({8, 16, 16, 256}, 32);  // GroupNorm(32, 256) on ConvMixer's activations
  gn_compare({4, 32, 32, 3}, 1);     // one group: a whole image per block
  gn_compare({2, 7, 5, 12}, 12);     // instance norm, odd spatial size
}

TEST_CASE("cuda: nn::BatchNorm2d and nn::LayerNorm moved to the GPU match the CPU") {
  nn::BatchNorm2d<float> bn_cpu({.channels = 16}), bn_gpu({.channels = 16});
  bn_gpu.to(Device::cuda());
  REQUIRE(bn_gpu.running_mean.is_cuda());
  for (int step = 0; step < 2; ++step) {
    const auto x = uniform<float>({4, 6, 6, 16}, seed_of("module bn " + std::to_string(step)), -1.0, 2.0);
    const auto g = uniform<float>({4, 6, 6, 16}, seed_of("module bn g " + std::to_string(step)));
    auto y_cpu = bn_cpu(x), y_gpu = bn_gpu(x.to(Device::cuda()));
    REQUIRE(y_gpu.is_cuda());
    check_close(y_gpu, y_cpu, 1e-4, 1e-5, "BatchNorm2d train y");
    y_cpu.backward(g);
    y_gpu.backward(g.to(Device::cuda()));
    check_close(bn_gpu.weight.grad(), bn_cpu.weight.grad(), 1e-4, 1e-4, "BatchNorm2d weight grad");
    check_close(bn_gpu.bias.grad(), bn_cpu.bias.grad(), 1e-4, 1e-4, "BatchNorm2d bias grad");
    bn_cpu.zero_grad();
    bn_gpu.zero_grad();
  }
  CHECK(bn_gpu.num_batches_tracked == 2);
  check_close(bn_gpu.running_mean, bn_cpu.running_mean, 1e-5, 1e-6, "BatchNorm2d running_mean");
  check_close(bn_gpu.running_var, bn_cpu.running_var, 1e-5, 1e-6, "BatchNorm2d running_var");
  bn_cpu.eval();
  bn_gpu.eval();
  const auto xe = uniform<float>({3, 5, 5, 16}, seed_of("module bn eval"));
  check_close(bn_gpu(xe.to(Device::cuda())), bn_cpu(xe), 1e-4, 1e-5, "BatchNorm2d eval y");

  nn::LayerNorm<float> ln_cpu({.channels = 96}), ln_gpu({.channels = 96});
  ln_gpu.to(Device::cuda());
  const auto x = uniform<float>({4, 3, 3, 96}, seed_of("module ln"));
  const auto g = uniform<float>({4, 3, 3, 96}, seed_of("module ln g"));
  auto y_cpu = ln_cpu(x), y_gpu = ln_gpu(x.to(Device::cuda()));
  check_close(y_gpu, y_cpu, 1e-4, 1e-5, "LayerNorm y");
  y_cpu.backward(g);
  y_gpu.backward(g.to(Device::cuda()));
  check_close(ln_gpu.weight.grad(), ln_cpu.weight.grad(), 1e-4, 1e-4, "LayerNorm weight grad");
  check_close(ln_gpu.bias.grad(), ln_cpu.bias.grad(), 1e-4, 1e-4, "LayerNorm bias grad");
}
