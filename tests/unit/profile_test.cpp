// nn::Profiler: which rows a step produces, exclusive forward times, call counts, and that
// it restores the hooks it borrows. Times are only checked for being non-negative and for
// adding up, never for their size.
#include "patchnet/models/involution_net.hpp"
#include "patchnet/nn/profile.hpp"
#include "patchnet/nn/summary.hpp"
#include "patchnet/ops/loss.hpp"
#include "support/test_util.hpp"

using namespace patchnet;

namespace {
const nn::Profiler<float>::Row* find(const std::vector<nn::Profiler<float>::Row>& rows, const std::string& name) {
  for (const auto& r : rows)
    if (r.name == name) return &r;
  return nullptr;
}
}  // namespace

TEST_CASE("profiler: a training step's forward rows by layer and backward rows by op") {
  Generator gen(3);
  auto model = models::conv_net<float>({}, gen);
  const Tensor<float> x = test::uniform<float>({2, 32, 32, 3}, 1, 0.0, 1.0);
  const Tensor<int32_t> labels = Tensor<int32_t>::from_vector({1, 7}, {2});
  nn::Profiler<float> prof;
  const auto t0 = std::chrono::steady_clock::now();
  for (int step = 0; step < 2; ++step) {
    cross_entropy(model(x), labels).backward();
    model->zero_grad();
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  const auto fwd = prof.forward(), bwd = prof.backward();
  const auto* conv = find(fwd, "Conv2d");
  REQUIRE(conv != nullptr);
  CHECK(conv->calls == 6);  // three convolutions, two steps
  REQUIRE(find(fwd, "Linear") != nullptr);
  CHECK(find(fwd, "Linear")->calls == 4);
  REQUIRE(find(fwd, "Sequential") != nullptr);
  CHECK(find(fwd, "Sequential")->calls == 2);
  const auto* conv_bwd = find(bwd, "conv2d");
  REQUIRE_MESSAGE(conv_bwd != nullptr, "no backward row conv2d");
  CHECK(conv_bwd->calls == 6);
  REQUIRE(find(bwd, "cross_entropy") != nullptr);  // ops outside layers still have backward rows
  double sum = 0;
  for (const auto* rows : {&fwd, &bwd})
    for (const auto& r : *rows) {
      CHECK(r.seconds >= 0);
      sum += r.seconds;
    }
  CHECK(sum <= wall);  // exclusive times: nothing counted twice
  for (size_t i = 1; i < fwd.size(); ++i) CHECK(fwd[i - 1].seconds >= fwd[i].seconds);
  const std::string table = prof.table(2);
  CHECK(table.find("forward, by layer") != std::string::npos);
  CHECK(table.find("Conv2d") != std::string::npos);
  CHECK(table.find("conv2d") != std::string::npos);
}

TEST_CASE("profiler: one at a time, and the hooks come back when it ends") {
  {
    nn::Profiler<float> prof;
    CHECK_THROWS_PN(nn::Profiler<float>(), "another call observer");
    auto relu = std::make_shared<nn::ReLU<float>>();
    CHECK_NOTHROW(nn::summary(*relu, {4}));  // a summary borrows the hook and gives it back
    CHECK(nn::detail::call_observer<float>() == &prof);
  }
  CHECK(nn::detail::call_observer<float>() == nullptr);
  CHECK(autograd::detail::node_times() == nullptr);
  Generator gen(3);
  auto model = models::conv_net<float>({}, gen);
  CHECK_NOTHROW(nn::summary(*model, {32, 32, 3}));  // the summary's observer works again
}
