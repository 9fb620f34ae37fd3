// The README example, built outside the source tree against an installed patchnet (and
// again through add_subdirectory). Exits non-zero if the gradient is not what it should be.
#include <patchnet/patchnet.hpp>

#include <iostream>

int main() {
  using namespace patchnet;
  Generator gen(42);
  auto x = rand<float>({8, 32, 32, 3}, gen);  // NHWC images
  auto w = init::glorot_uniform<float>({2, 2, 3, 256}, init::keras_fans({2, 2, 3, 256}), gen)
               .set_requires_grad();                            // HWIO kernel
  auto y = gelu(conv2d(x, w, Tensor<float>(), {.stride = 2}));  // patch embedding
  auto loss = mean(square(y));
  loss.backward();                        // w.grad() is ready
  std::cout << w.grad().shape() << '\n';  // [2,2,3,256]
  return w.grad().shape() == Shape{2, 2, 3, 256} && y.shape() == Shape{8, 16, 16, 256} ? 0 : 1;
}
