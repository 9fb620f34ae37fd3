// Beyond the involution rows of the op table (run on the GPU from tests/cases/): realistic sizes: the seed's first
// layer, wider channels, K = 5 / 7 with groups and stride 2, and the shapes that pick each
// of the kernels' variants (K unrolled or not, 1 to 32 lanes per dkernel element, pixels
// that no window covers). Outputs and both gradients against the CPU, plus a rerun that
// must give the same bits (the kernels use no atomics).
#include "gpu/gpu_runner.hpp"
#include "patchnet/ops/involution.hpp"

using namespace patchnet;

namespace {

// involution of x [N,H,W,C] with a random kernel on both devices: output, dx, dkernel.
template <class T>
void involution_vs_cpu(const Shape& xs, int64_t K, int64_t S, int64_t G, double tol) {
  const std::string where =
      "involution " + xs.str() + " K=" + std::to_string(K) + " S=" + std::to_string(S) + " G=" + std::to_string(G);
  const int64_t OH = (xs[1] + S - 1) / S, OW = (xs[2] + S - 1) / S;
  const Shape ks{xs[0], OH, OW, K * K * G};
  Tensor<T> x = uniform<T>(xs, seed_of(where + "/x")), k = uniform<T>(ks, seed_of(where + "/k"));
  Tensor<T> gx = x.to(Device::cuda()), gk = k.to(Device::cuda());
  for (Tensor<T>* t : {&x, &k, &gx, &gk}) t->set_requires_grad();
  Tensor<T> y = involution(x, k, K, S, G), gy = involution(gx, gk, K, S, G);
  REQUIRE(gy.is_cuda());
  check_close(gy, y, tol, tol, where + " forward");
  const Tensor<T> dy = uniform<T>(y.shape(), seed_of(where + "/dy"));
  y.backward(dy);
  gy.backward(dy.to(Device::cuda()));
  check_close(gx.grad(), x.grad(), tol, tol, where + " dx");
  check_close(gk.grad(), k.grad(), tol, tol, where + " dkernel");

  // Deterministic: a second forward and backward on the GPU gives the same bits.
  Tensor<T> gx2 = gx.detach().set_requires_grad(), gk2 = gk.detach().set_requires_grad();
  Tensor<T> gy2 = involution(gx2, gk2, K, S, G);
  gy2.backward(dy.to(Device::cuda()));
  check_close(gy2, gy, 0, 0, where + " forward rerun");
  check_close(gx2.grad(), gx.grad(), 0, 0, where + " dx rerun");
  check_close(gk2.grad(), gk.grad(), 0, 0, where + " dkernel rerun");
}

}  // namespace

TEST_CASE("cuda: involution at realistic sizes") {
  // The seed's first layer (CIFAR 32x32, 3 channels, K 3, stride 1, 1 group).
  involution_vs_cpu<float>({16, 32, 32, 3}, 3, 1, 1, 1e-5);
  involution_vs_cpu<float>({8, 32, 32, 16}, 3, 1, 1, 1e-5);
  involution_vs_cpu<float>({4, 17, 19, 12}, 5, 2, 3, 1e-5);
  involution_vs_cpu<float>({2, 16, 16, 8}, 5, 2, 2, 1e-5);
  involution_vs_cpu<float>({2, 15, 13, 8}, 7, 2, 2, 1e-5);
  // RedNet-like: 16 channels per group (4 lanes per dkernel element), and 256 (32 lanes).
  involution_vs_cpu<float>({2, 9, 9, 256}, 7, 1, 16, 1e-5);
  involution_vs_cpu<float>({2, 8, 8, 256}, 3, 1, 1, 1e-4);
}

TEST_CASE("cuda: involution kernel-size and stride corners") {
  involution_vs_cpu<float>({2, 9, 10, 6}, 4, 1, 3, 1e-5);  // even K (not unrolled): pad 1 / 2
  involution_vs_cpu<float>({1, 7, 8, 4}, 2, 3, 2, 1e-5);   // stride > kernel: uncovered pixels get dx = 0
  involution_vs_cpu<float>({1, 1, 1, 5}, 3, 1, 1, 1e-5);   // one pixel: every tap but the centre is padding
  involution_vs_cpu<float>({3, 6, 5, 40}, 9, 2, 5, 1e-5);  // K = 9, 8 channels per group (2 lanes)
  involution_vs_cpu<double>({4, 17, 19, 12}, 5, 2, 3, 1e-12);
  involution_vs_cpu<double>({2, 9, 9, 64}, 3, 1, 1, 1e-12);
}
