// Beyond the conv2d, depthwise_conv2d and pointwise_conv2d rows of the op table (which the
// suite runs on the GPU from tests/cases/): the models' shapes (multi-block grids, channel tails, several row blocks in
// the weight and bias gradients), double precision, and run-to-run determinism.
#include "gpu/gpu_runner.hpp"
#include "patchnet/ops/conv.hpp"
#include "patchnet/ops/matmul.hpp"

using namespace patchnet;

#include <functional>
#include <string>

namespace {

template <class T>
using ConvFn = std::function<Tensor<T>(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&)>;

struct Tol {
  double rtol = 1e-4, atol = 1e-4;            // forward
  double grad_rtol = 1e-4, grad_atol = 1e-3;  // gradients: sums over many pixels
};

// Runs f on the CPU and on the GPU from the same inputs and output gradient; compares the
// output and the gradients of x, w and b (b only when bs is not empty).
template <class T>
void compare_with_cpu(const std::string& what, const Shape& xs, const Shape& ws, const Shape& bs, const ConvFn<T>& f,
                      Tol tol = {}) {
  const bool has_bias = bs.rank() > 0;
  Tensor<T> xc = uniform<T>(xs, seed_of(what + "/x")), wc = uniform<T>(ws, seed_of(what + "/w"));
  Tensor<T> bc = has_bias ? uniform<T>(bs, seed_of(what + "/b")) : Tensor<T>();
  Tensor<T> xg = xc.to(Device::cuda()), wg = wc.to(Device::cuda());
  Tensor<T> bg = has_bias ? bc.to(Device::cuda()) : Tensor<T>();
  for (Tensor<T>* t : {&xc, &wc, &bc, &xg, &wg, &bg})
    if (t->defined()) t->set_requires_grad();
  Tensor<T> yc = f(xc, wc, bc), yg = f(xg, wg, bg);
  REQUIRE_MESSAGE(yg.is_cuda(), what, ": output is not on the GPU");
  check_close(yg, yc, tol.rtol, tol.atol, what + " forward");
  const Tensor<T> gout = uniform<T>(yc.shape(), seed_of(what + "/gout"));
  yc.backward(gout);
  yg.backward(gout.to(Device::cuda()));
  check_close(xg.grad(), xc.grad(), tol.grad_rtol, tol.grad_atol, what + " dx");
  check_close(wg.grad(), wc.grad(), tol.grad_rtol, tol.grad_atol, what + " dw");
  if (has_bias) check_close(bg.grad(), bc.grad(), tol.grad_rtol, tol.grad_atol, what + " db");
}

ConvFn<float> conv(Conv2dOptions opt) {
  return [opt](const auto& x, const auto& w, const auto& b) { return conv2d(x, w, b, opt); };
}
ConvFn<float> depthwise(Conv2dOptions opt) {
  return [opt](const auto& x, const auto& w, const auto& b) { return depthwise_conv2d(x, w, b, opt); };
}

}  // namespace

TEST_CASE("cuda: depthwise_conv2d at ConvMixer's shapes") {
  // [8,16,16,256] 5x5 "same": the strip kernel, the fast weight kernel with 8 row blocks.
  compare_with_cpu<float>("depthwise 5x5 same [8,16,16,256]", {8, 16, 16, 256}, {5, 5, 256}, {256},
                          depthwise({.padding = Padding::Same}));
  compare_with_cpu<float>("depthwise 9x9 same [8,16,16,256]", {8, 16, 16, 256}, {9, 9, 256}, {256},
                          depthwise({.padding = Padding::Same}));
  compare_with_cpu<float>("depthwise 3x3 valid [4,13,11,70], no bias", {4, 13, 11, 70}, {3, 3, 70}, {}, depthwise({}));
}

TEST_CASE("cuda: depthwise_conv2d strided and generic kernels") {
  // Stride 2: the SH = 2 strip kernel, the SW = 2 weight kernel, the dx gather; 40 channels
  // (a full 32-channel tile and a tail).
  compare_with_cpu<float>("depthwise 7x7 same stride 2 [4,15,17,40]", {4, 15, 17, 40}, {7, 7, 40}, {40},
                          depthwise({.stride = 2, .padding = Padding::Same}));
  // 3x5 kernel, explicit padding: the generic forward, weight and (flipped) dx kernels.
  compare_with_cpu<float>("depthwise 3x5 explicit pad [2,9,11,33]", {2, 9, 11, 33}, {3, 5, 33}, {33},
                          depthwise({.padding = Padding::Explicit, .pad = {2, 1, 0, 3}}));
  // Stride 3 with a 5x5 kernel: generic forward, gather dx, generic weight kernel.
  compare_with_cpu<float>("depthwise 5x5 same stride 3 [3,14,16,36]", {3, 14, 16, 36}, {5, 5, 36}, {36},
                          depthwise({.stride = 3, .padding = Padding::Same}));
}

TEST_CASE("cuda: conv2d patches path at the models' shapes") {
  // ConvMixer stem: patch 2, 3 -> 256.
  compare_with_cpu<float>("stem 2x2/s2 [4,32,32,3] -> 256", {4, 32, 32, 3}, {2, 2, 3, 256}, {256}, conv({.stride = 2}));
  // ShiftViT patch projection (4x4/s4 "same") and patch merging (2x2/s2).
  compare_with_cpu<float>("projection 4x4/s4 same [2,32,32,3] -> 96", {2, 32, 32, 3}, {4, 4, 3, 96}, {96},
                          conv({.stride = 4, .padding = Padding::Same}));
  compare_with_cpu<float>("merge 2x2/s2 [2,8,8,96] -> 192", {2, 8, 8, 96}, {2, 2, 96, 192}, {192},
                          conv({.stride = 2, .padding = Padding::Same}));
  // Odd sizes with "same": a padded row and column of patches.
  compare_with_cpu<float>("patch 3x3/s3 same [3,13,10,5] -> 17", {3, 13, 10, 5}, {3, 3, 5, 17}, {17},
                          conv({.stride = 3, .padding = Padding::Same}));
}

TEST_CASE("cuda: conv2d im2col and pointwise paths") {
  compare_with_cpu<float>("3x3 same [4,32,32,32] -> 64", {4, 32, 32, 32}, {3, 3, 32, 64}, {64},
                          conv({.padding = Padding::Same}));
  compare_with_cpu<float>("3x3 stride 2 groups 4 [3,17,15,24] -> 16", {3, 17, 15, 24}, {3, 3, 6, 16}, {16},
                          conv({.stride = 2, .padding = Padding::Same, .groups = 4}));
  compare_with_cpu<float>("2x3 explicit pad stride (2,1) [2,11,9,8] -> 12", {2, 11, 9, 8}, {2, 3, 8, 12}, {},
                          conv({.stride = Hw(2, 1), .padding = Padding::Explicit, .pad = {1, 0, 2, 1}}));
  // 4096 rows: the bias gradient's two-pass column sum.
  compare_with_cpu<float>("pointwise 1x1 [16,16,16,64] -> 96", {16, 16, 16, 64}, {1, 1, 64, 96}, {96}, conv({}));
  compare_with_cpu<float>("pointwise_conv2d [8,16,16,256] -> 256", {8, 16, 16, 256}, {256, 256}, {256},
                          [](const auto& x, const auto& w, const auto& b) { return pointwise_conv2d(x, w, b); });
}

// An empty inner dimension (no input or no output channels): cuBLAS rejects a leading
// dimension of 0 even when it reads nothing, so the GEMM must not pass one.
TEST_CASE("cuda: pointwise_conv2d and matmul with an empty inner dimension") {
  const ConvFn<float> pointwise = [](const auto& x, const auto& w, const auto& b) { return pointwise_conv2d(x, w, b); };
  compare_with_cpu<float>("pointwise_conv2d without input channels", {2, 3, 3, 0}, {0, 4}, {4}, pointwise);
  compare_with_cpu<float>("pointwise_conv2d without output channels", {2, 3, 3, 5}, {5, 0}, {0}, pointwise);
  compare_with_cpu<float>("1x1 conv2d without output channels", {2, 3, 3, 5}, {1, 1, 5, 0}, {}, conv({}));
  compare_with_cpu<float>("matmul [3,0] x [0,4]", {3, 0}, {0, 4}, {},
                          [](const auto& x, const auto& w, const auto&) { return matmul(x, w); });
}

TEST_CASE("cuda: conv2d in double") {
  const Tol tight{1e-10, 1e-10, 1e-10, 1e-9};
  compare_with_cpu<double>(
      "double depthwise 5x5 same [2,9,10,37]", {2, 9, 10, 37}, {5, 5, 37}, {37},
      [](const auto& x, const auto& w, const auto& b) { return depthwise_conv2d(x, w, b, {.padding = Padding::Same}); },
      tight);
  compare_with_cpu<double>(
      "double 3x3 same [2,9,10,6] -> 5", {2, 9, 10, 6}, {3, 3, 6, 5}, {5},
      [](const auto& x, const auto& w, const auto& b) { return conv2d(x, w, b, {.padding = Padding::Same}); }, tight);
}

TEST_CASE("cuda: conv2d gradients repeat bit for bit") {
  const auto run = [](const ConvFn<float>& f, const Shape& xs, const Shape& ws, int64_t cout) {
    auto x = uniform<float>(xs, 11).to(Device::cuda()).set_requires_grad();
    auto w = uniform<float>(ws, 12).to(Device::cuda()).set_requires_grad();
    auto b = uniform<float>({cout}, 13).to(Device::cuda()).set_requires_grad();
    auto y = f(x, w, b);
    y.backward(uniform<float>(y.shape(), 14).to(Device::cuda()));
    return std::vector<Tensor<float>>{y.detach(), x.grad(), w.grad(), b.grad()};
  };
  struct Case {
    const char* what;
    ConvFn<float> f;
    Shape xs, ws;
    int64_t cout;
  };
  const Case cases[] = {
      {"depthwise 5x5", depthwise({.padding = Padding::Same}), {8, 16, 16, 256}, {5, 5, 256}, 256},
      {"3x3 im2col", conv({.padding = Padding::Same}), {4, 32, 32, 32}, {3, 3, 32, 64}, 64},
      {"stem patches", conv({.stride = 2}), {4, 32, 32, 3}, {2, 2, 3, 256}, 256},
  };
  for (const Case& c : cases) {
    const auto a = run(c.f, c.xs, c.ws, c.cout), b = run(c.f, c.xs, c.ws, c.cout);
    for (size_t i = 0; i < a.size(); ++i)
      check_close(a[i], b[i], 0, 0, std::string(c.what) + " run-to-run, output " + std::to_string(i));
  }
}
