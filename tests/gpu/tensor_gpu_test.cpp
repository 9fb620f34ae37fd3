// Device tensors: round trips, strided copies, fills and gradients that cross devices.
#include "support/test_util.hpp"

using namespace patchnet;
using patchnet::test::check_close;

TEST_CASE("cuda tensor: host/device round trip, strided copy, fill") {
  auto x = test::uniform<float>({3, 5, 7}, 1);
  auto g = x.to(Device::cuda());
  CHECK(g.is_cuda());
  check_close(g.to(Device::cpu()), x, 0, 0, "round trip");
  auto gp = permute(g, {2, 0, 1}).contiguous();
  check_close(gp, permute(x, {2, 0, 1}).contiguous(), 0, 0, "strided copy on the device");
  auto f = Tensor<double>::full({1000}, 2.5, Device::cuda());
  CHECK(f.to_vector() == std::vector<double>(1000, 2.5));
  auto labels = Tensor<int32_t>::arange(10).to(Device::cuda());
  CHECK(labels.to_vector() == Tensor<int32_t>::arange(10).to_vector());
}

TEST_CASE("cuda tensor: gradient flows back across .to()") {
  auto x = test::uniform<float>({4, 3}, 2).set_requires_grad();
  auto y = sum(square(x.to(Device::cuda())));
  CHECK(y.is_cuda());
  y.backward();
  REQUIRE(x.grad().defined());
  CHECK(x.grad().is_cpu());
  check_close(x.grad(), x.detach() * 2.0f, "d sum(x^2) = 2x");
}

TEST_CASE("cuda tensor: mixing devices is a clear error") {
  auto a = Tensor<float>::ones({2});
  auto b = Tensor<float>::ones({2}, Device::cuda());
  CHECK_THROWS_PN(a + b, "different devices");
}
