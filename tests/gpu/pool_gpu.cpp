// Beyond the pooling rows of the op table (run on the GPU from tests/cases/): realistic shapes (multi-block grids,
// channel counts that are not a multiple of 32, overlapping windows) compared with the CPU.
#include "gpu/gpu_runner.hpp"
#include "patchnet/ops/pool.hpp"

using namespace patchnet;

#include <cmath>

namespace {

// f on the CPU and on the GPU from the same input and output gradient; the forward must
// match to rtol/atol (0: bit for bit), the input gradient to grad_tol.
template <class F>
void compare_pool(const std::string& where, const Shape& shape, F f, double fwd_tol, double grad_tol,
                  bool quantised = false) {
  Tensor<float> x = uniform<float>(shape, seed_of(where));
  // Quantised inputs create ties inside windows, so max routing of ties is exercised.
  if (quantised) {
    std::vector<float> v = x.to_vector();
    for (float& e : v) e = std::round(e * 4.0f) / 4.0f;
    x = Tensor<float>::from_vector(v, shape);
  }
  Tensor<float> xc = x.clone().set_requires_grad();
  Tensor<float> xg = x.to(Device::cuda()).set_requires_grad();
  Tensor<float> yc = f(xc), yg = f(xg);
  REQUIRE(yg.is_cuda());
  check_close(yg, yc, fwd_tol, fwd_tol, where + " forward");
  const Tensor<float> gout = uniform<float>(yc.shape(), seed_of(where + "/gout"));
  yc.backward(gout);
  yg.backward(gout.to(Device::cuda()));
  REQUIRE(xg.grad().defined());
  check_close(xg.grad(), xc.grad(), grad_tol, grad_tol, where + " gradient");
}
}  // namespace

TEST_CASE("cuda: max_pool2d on realistic shapes equals the CPU (ties included)") {
  for (bool q : {false, true}) {
    const std::string tag = q ? " ties" : "";
    compare_pool(
        "max 2x2 s2 [16,32,32,16]" + tag, {16, 32, 32, 16}, [](const auto& x) { return max_pool2d(x); }, 0, 0, q);
    compare_pool(
        "max 3x3 s2 same [8,17,15,40]" + tag, {8, 17, 15, 40},
        [](const auto& x) { return max_pool2d(x, {.pool = 3, .stride = 2, .padding = Padding::Same}); }, 0, 0, q);
    compare_pool(
        "max 3x3 s1 same [4,9,11,33]" + tag, {4, 9, 11, 33},
        [](const auto& x) { return max_pool2d(x, {.pool = 3, .stride = 1, .padding = Padding::Same}); }, 0, 0, q);
  }
}

TEST_CASE("cuda: avg_pool2d on realistic shapes equals the CPU") {
  compare_pool(
      "avg 2x2 s2 [16,32,32,16]", {16, 32, 32, 16}, [](const auto& x) { return avg_pool2d(x); }, 0, 1e-6);
  compare_pool(
      "avg 3x3 s2 same [8,17,15,40]", {8, 17, 15, 40},
      [](const auto& x) { return avg_pool2d(x, {.pool = 3, .stride = 2, .padding = Padding::Same}); }, 0, 1e-6);
  compare_pool(
      "avg 3x3 s1 same [4,9,11,33]", {4, 9, 11, 33},
      [](const auto& x) { return avg_pool2d(x, {.pool = 3, .stride = 1, .padding = Padding::Same}); }, 0, 1e-6);
  compare_pool(
      "avg 3x3 s2 valid [2,16,16,7]", {2, 16, 16, 7},
      [](const auto& x) { return avg_pool2d(x, {.pool = 3, .stride = 2}); }, 0, 1e-6);
}

TEST_CASE("cuda: global_avg_pool on realistic shapes equals the CPU") {
  compare_pool(
      "gap [128,16,16,256]", {128, 16, 16, 256}, [](const auto& x) { return global_avg_pool(x); }, 1e-6, 0);
  compare_pool(
      "gap [3,7,5,45]", {3, 7, 5, 45}, [](const auto& x) { return global_avg_pool(x); }, 1e-6, 0);
}

TEST_CASE("cuda: pooling is deterministic run to run") {
  Tensor<float> x = uniform<float>({8, 17, 15, 40}, 5).to(Device::cuda()).set_requires_grad();
  std::vector<float> first;
  for (int run = 0; run < 2; ++run) {
    x.zero_grad();
    Tensor<float> y = max_pool2d(x, {.pool = 3, .stride = 1, .padding = Padding::Same});
    y = avg_pool2d(y, {.pool = 3, .stride = 2, .padding = Padding::Same});
    sum(square(global_avg_pool(y))).backward();
    const std::vector<float> g = x.grad().to_vector();
    if (run == 0) first = g;
    else CHECK(g == first);
  }
}
