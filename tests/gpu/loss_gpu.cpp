// Beyond the cross_entropy rows of the op table (run on the GPU from tests/cases/): realistic batches with
// gradients, the from-probabilities loss, the top-k count, and run-to-run determinism.
#include "gpu/gpu_runner.hpp"
#include "patchnet/ops/activation.hpp"
#include "patchnet/ops/loss.hpp"

using namespace patchnet;

#include <cmath>

namespace {

Tensor<int32_t> random_labels(int64_t N, int64_t K, uint64_t seed) {
  Generator g(seed);
  const Tensor<double> u = rand<double>({N}, g);
  std::vector<int32_t> v(static_cast<size_t>(N));
  const std::vector<double> uv = u.to_vector();
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<int32_t>(std::floor(uv[i] * static_cast<double>(K)));
  return Tensor<int32_t>::from_vector(v, {N});
}

// loss(scores, labels) on both devices, scaled by 2.5 to check the output gradient reaches
// the backward kernel; forward and gradient must agree.
template <class F>
void compare_loss(const std::string& where, int64_t N, int64_t K, double lo, double hi, F loss) {
  const Tensor<float> x = uniform<float>({N, K}, seed_of(where), lo, hi);
  const Tensor<int32_t> labels = random_labels(N, K, seed_of(where + "/labels"));
  Tensor<float> xc = x.clone().set_requires_grad();
  Tensor<float> xg = x.to(Device::cuda()).set_requires_grad();
  Tensor<float> lc = loss(xc, labels) * 2.5f;
  Tensor<float> lg = loss(xg, labels.to(Device::cuda())) * 2.5f;
  REQUIRE(lg.is_cuda());
  CHECK(lg.dim() == 0);
  check_close(lg, lc, 1e-6, 1e-6, where + " loss");
  lc.backward();
  lg.backward();
  REQUIRE(xg.grad().defined());
  check_close(xg.grad(), xc.grad(), 1e-5, 1e-7, where + " gradient");
}
}  // namespace

TEST_CASE("cuda: cross_entropy on realistic batches equals the CPU") {
  const auto ce = [](const Tensor<float>& x, const Tensor<int32_t>& l) { return cross_entropy(x, l); };
  compare_loss("ce [128,10]", 128, 10, -3, 3, ce);
  compare_loss("ce [7,13]", 7, 13, -3, 3, ce);
  compare_loss("ce [256,1000]", 256, 1000, -5, 5, ce);
  compare_loss("ce large logits [64,10]", 64, 10, -1e4, 1e4, ce);
  compare_loss("ce [3000,10] (mean over many rows)", 3000, 10, -3, 3, ce);
}

TEST_CASE("cuda: cross_entropy_from_probs on realistic batches equals the CPU") {
  const auto cep = [](const Tensor<float>& x, const Tensor<int32_t>& l) {
    return cross_entropy_from_probs(softmax(x), l);
  };
  compare_loss("ce probs [128,10]", 128, 10, -3, 3, cep);
  compare_loss("ce probs [7,13]", 7, 13, -3, 3, cep);
  compare_loss("ce probs eps 0.05 [64,5]", 64, 5, -3, 3, [](const Tensor<float>& x, const Tensor<int32_t>& l) {
    return cross_entropy_from_probs(softmax(x), l, 0.05);  // clips some rows
  });
}

TEST_CASE("cuda: topk_correct equals the CPU, ties included") {
  for (int64_t K : {10, 13, 100}) {
    const std::string where = "topk K=" + std::to_string(K);
    Tensor<float> x = uniform<float>({300, K}, seed_of(where));
    std::vector<float> v = x.to_vector();
    for (float& e : v) e = std::round(e * 3.0f);  // many ties
    v[5 * K] = NAN;                               // a NaN score somewhere
    x = Tensor<float>::from_vector(v, {300, K});
    const Tensor<int32_t> labels = random_labels(300, K, seed_of(where + "/labels"));
    const Tensor<float> xg = x.to(Device::cuda());
    const Tensor<int32_t> lg = labels.to(Device::cuda());
    for (int64_t k : {int64_t{1}, int64_t{5}, K})
      CHECK_MESSAGE(topk_correct(xg, lg, k) == topk_correct(x, labels, k), where, " k=", k);
    CHECK(topk_accuracy(xg, lg, 1) == topk_accuracy(x, labels, 1));
  }
}

TEST_CASE("cuda: cross_entropy is deterministic and needs labels on the GPU") {
  const Tensor<float> x = uniform<float>({3000, 10}, 77).to(Device::cuda());
  const Tensor<int32_t> labels = random_labels(3000, 10, 78);
  const float a = cross_entropy(x, labels.to(Device::cuda())).item();
  const float b = cross_entropy(x, labels.to(Device::cuda())).item();
  CHECK(a == b);
  CHECK_THROWS_PN(cross_entropy(x, labels), "move them with .to()");
}

TEST_CASE("cuda: an out-of-range label on the GPU gives a NaN loss") {
  const Tensor<float> x = uniform<float>({4, 10}, 79).to(Device::cuda());
  const Tensor<int32_t> labels = Tensor<int32_t>::from_vector({1, 2, 10, 3}, {4}).to(Device::cuda());
  CHECK(std::isnan(cross_entropy(x, labels).item()));
  CHECK(std::isnan(cross_entropy_from_probs(softmax(x), labels).item()));
}
