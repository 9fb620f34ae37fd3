// Beyond the softmax and log_softmax rows of the op table (run on the GPU from tests/cases/):
// realistic shapes:
// long rows (one warp strides several times), a non-last axis of NHWC activations, and
// many short rows (multi-block grids).
#include "gpu/gpu_runner.hpp"
#include "patchnet/ops/activation.hpp"

using namespace patchnet;

namespace {

void compare_softmax(const Shape& shape, int64_t axis, bool log) {
  const std::string where =
      std::string(log ? "log_softmax " : "softmax ") + shape.str() + " axis " + std::to_string(axis);
  const Tensor<float> x = uniform<float>(shape, seed_of(where), -4.0, 4.0);
  Tensor<float> xc = x.clone().set_requires_grad();
  Tensor<float> xg = x.to(Device::cuda()).set_requires_grad();
  Tensor<float> yc = log ? log_softmax(xc, axis) : softmax(xc, axis);
  Tensor<float> yg = log ? log_softmax(xg, axis) : softmax(xg, axis);
  REQUIRE(yg.is_cuda());
  check_close(yg, yc, 1e-5, 1e-6, where + " forward");
  const Tensor<float> gout = uniform<float>(shape, seed_of(where + "/gout"));
  yc.backward(gout);
  yg.backward(gout.to(Device::cuda()));
  REQUIRE(xg.grad().defined());
  check_close(xg.grad(), xc.grad(), 1e-4, 1e-5, where + " gradient");
}
}  // namespace

TEST_CASE("cuda: softmax and log_softmax on realistic shapes equal the CPU") {
  for (bool log : {false, true}) {
    compare_softmax({128, 10}, -1, log);
    compare_softmax({7, 13}, -1, log);
    compare_softmax({64, 1000}, -1, log);
    compare_softmax({4096, 3}, -1, log);
    compare_softmax({8, 16, 16, 64}, 1, log);  // a non-last axis: inner = 16 * 64
    compare_softmax({8, 16, 16, 64}, 3, log);  // channels
    compare_softmax({5, 7, 9, 3}, 2, log);     // odd sizes, inner = 3
    compare_softmax({300, 33}, 0, log);        // axis 0: outer = 1
  }
}
