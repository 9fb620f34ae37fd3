// cuda::gemm called directly, where the ops' tests do not reach: an empty inner dimension.
#include <cmath>
#include <vector>

#include "gpu/gpu_runner.hpp"
#include "patchnet/cuda/blas.hpp"

using namespace patchnet;

TEST_CASE("cuda: gemm with K = 0 is C = beta C") {
  // C is [3, 4] inside rows of 6 (ldc > N), poisoned with NaN; the padding must stay as it is.
  std::vector<float> host(3 * 6, std::nanf(""));
  for (int64_t i = 0; i < 3; ++i) host[static_cast<size_t>(i * 6 + 5)] = 7.0f;
  const float* none = nullptr;  // K = 0: A and B are never read
  Tensor<float> c = Tensor<float>::from_vector(host, {3, 6}).to(Device::cuda());
  cuda::gemm(false, false, 3, 4, 0, 1.0f, none, 0, none, 4, 0.0f, c.data(), 6, 0);
  std::vector<float> got = c.to_vector();
  for (int64_t i = 0; i < 3; ++i) {
    for (int64_t j = 0; j < 4; ++j) CHECK(got[static_cast<size_t>(i * 6 + j)] == 0.0f);
    CHECK(std::isnan(got[static_cast<size_t>(i * 6 + 4)]));
    CHECK(got[static_cast<size_t>(i * 6 + 5)] == 7.0f);
  }
  c = Tensor<float>::full({3, 6}, 1.5f, Device::cuda());
  cuda::gemm(true, true, 3, 6, 0, 1.0f, none, 3, none, 0, 2.0f, c.data(), 6, 0);
  for (float v : c.to_vector()) CHECK(v == 3.0f);
}
