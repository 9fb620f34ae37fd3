// The README example, built outside the source tree against an installed patchnet.
#include <patchnet/patchnet.hpp>

#include <cmath>
#include <iostream>

int main() {
  using namespace patchnet;
  auto x = Tensor<float>::from_vector({1, 2, 3, 4}, {2, 2}).set_requires_grad();
  auto y = sum(x * x);
  y.backward();
  std::cout << x.grad() << '\n';
  const auto g = x.grad().to_vector();
  for (int i = 0; i < 4; ++i)
    if (std::abs(g[i] - 2.0f * static_cast<float>(i + 1)) > 1e-6f) return 1;
  return 0;
}
