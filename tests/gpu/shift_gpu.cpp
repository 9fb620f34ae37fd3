// Beyond the channel_shift rows of the op table (run on the GPU from tests/cases/): larger shapes: ShiftViT's stage
// width 96 with both group sizes (the 16-byte vector path), odd channel counts and odd
// groups (the scalar path), shifts past the border, and double.
#include "gpu/gpu_runner.hpp"
#include "patchnet/ops/channel_shift.hpp"

using namespace patchnet;

namespace {

// A copy on both devices: output and gradient must match exactly.
template <class T>
void shift_vs_cpu(const Shape& xs, int64_t g, int64_t s) {
  const std::string where = "channel_shift " + xs.str() + " g=" + std::to_string(g) + " shift " + std::to_string(s);
  Tensor<T> x = uniform<T>(xs, seed_of(where + "/x"));
  Tensor<T> gx = x.to(Device::cuda());
  x.set_requires_grad();
  gx.set_requires_grad();
  Tensor<T> y = channel_shift(x, g, s), gy = channel_shift(gx, g, s);
  REQUIRE(gy.is_cuda());
  check_close(gy, y, 0, 0, where + " forward");
  const Tensor<T> dy = uniform<T>(xs, seed_of(where + "/dy"));
  y.backward(dy);
  gy.backward(dy.to(Device::cuda()));
  check_close(gx.grad(), x.grad(), 0, 0, where + " gradient");
}

}  // namespace

TEST_CASE("cuda: channel_shift at ShiftViT sizes and odd channels") {
  shift_vs_cpu<float>({8, 8, 8, 96}, 8, 1);     // paper's g = C / 12
  shift_vs_cpu<float>({8, 8, 8, 96}, 12, 1);    // the Keras seed's g
  shift_vs_cpu<float>({16, 12, 12, 96}, 8, 1);  // stage 1 at batch 16
  shift_vs_cpu<float>({2, 7, 9, 13}, 3, 1);     // odd channels: scalar path
  shift_vs_cpu<float>({2, 7, 9, 13}, 3, 2);
  shift_vs_cpu<float>({2, 6, 10, 16}, 2, 1);  // C a multiple of 4, g not
  shift_vs_cpu<float>({2, 5, 3, 24}, 4, 4);   // shift past the width, within the height
  shift_vs_cpu<float>({3, 4, 4, 8}, 0, 1);    // g = 0: a copy
  shift_vs_cpu<double>({4, 6, 6, 32}, 4, 1);  // double: 2 per vector
  shift_vs_cpu<double>({2, 7, 9, 13}, 3, 1);
}
