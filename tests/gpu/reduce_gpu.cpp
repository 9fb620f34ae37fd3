// Sums on the GPU at the sizes the models reach (the op table's cases are small): the
// chunked [outer, R, inner] path for column sums (bias gradients), row sums, global
// pooling and full sums, and the plain kernel for axes that are not one run; each against
// the CPU, and twice on the GPU to show the result does not change between runs.
#include <vector>

#include "patchnet/ops/reduce.hpp"
#include "support/test_util.hpp"

using namespace patchnet;

TEST_CASE("cuda sum: realistic shapes, deterministic") {
  struct Case {
    Shape shape;
    std::vector<int64_t> axes;
  };
  const std::vector<Case> cases = {
      {{32768, 256}, {0}},         // ConvMixer's bias gradient: [N*H*W, C] -> [C]
      {{128, 256, 256}, {1}},      // global pooling [N, H*W, C] -> [N, C]
      {{7, 100003}, {1}},          // long rows
      {{1000003}, {0}},            // one long vector
      {{3, 70001, 5}, {1}},        // more than one chunk, odd inner
      {{6, 1, 9, 1, 13}, {0, 2}},  // summed dims separated by size-1 dims: still one run
      {{6, 9, 13}, {0, 2}},        // two runs: the plain kernel
      {{5, 0, 3}, {1}},            // an empty summed dimension: zeros
  };
  for (const Case& c : cases) {
    const std::string where = "sum of " + c.shape.str();
    const Tensor<float> x = test::uniform<float>(c.shape, test::seed_of(where));
    const Tensor<float> cpu = sum(x, c.axes);
    const Tensor<float> g = x.to(Device::cuda());
    const Tensor<float> a = sum(g, c.axes), b = sum(g, c.axes);
    REQUIRE(a.is_cuda());
    test::check_close(a, cpu, 1e-5, 1e-5, where);
    CHECK_MESSAGE(a.to_vector() == b.to_vector(), where, ": two runs differ");
  }
}
