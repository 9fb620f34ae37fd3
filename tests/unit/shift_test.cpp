// channel_shift and the two num_div readings: forward against the official PyTorch index
// code, backward against its adjoint, and errors.
#include "patchnet/ops/channel_shift.hpp"
#include "support/test_util.hpp"

using namespace patchnet;
using patchnet::test::check_close;

namespace {
// The official code (microsoft/SPACH shiftvit.py), NCHW slices on axes 1 (C), 2 (H), 3 (W),
// written with slices on the NHWC axes 3 (C), 1 (H), 2 (W):
//   out[:, 0:g,   :, :-s] = x[:, 0:g,   :, s:]      left
//   out[:, g:2g,  :, s:]  = x[:, g:2g,  :, :-s]     right
//   out[:, 2g:3g, :-s, :] = x[:, 2g:3g, s:, :]      up
//   out[:, 3g:4g, s:, :]  = x[:, 3g:4g, :-s, :]     down
//   out[:, 4g:]           = x[:, 4g:]
// Needs s < H and s < W (a Python slice :-s with s >= size is empty, not handled here).
Tensor<double> ref_shift(const Tensor<double>& x, int64_t g, int64_t s) {
  const int64_t H = x.size(1), W = x.size(2), C = x.size(3);
  auto out = Tensor<double>::zeros(x.shape());
  auto ch = [](const Tensor<double>& t, int64_t a, int64_t b) { return slice(t, 3, a, b); };
  slice(ch(out, 0, g), 2, 0, W - s).copy_(slice(ch(x, 0, g), 2, s, W));
  slice(ch(out, g, 2 * g), 2, s, W).copy_(slice(ch(x, g, 2 * g), 2, 0, W - s));
  slice(ch(out, 2 * g, 3 * g), 1, 0, H - s).copy_(slice(ch(x, 2 * g, 3 * g), 1, s, H));
  slice(ch(out, 3 * g, 4 * g), 1, s, H).copy_(slice(ch(x, 3 * g, 4 * g), 1, 0, H - s));
  ch(out, 4 * g, C).copy_(ch(x, 4 * g, C));
  return out;
}
}  // namespace

TEST_CASE("channel_shift: matches the official PyTorch slicing, in float too") {
  auto x = test::uniform<double>({3, 5, 7, 22}, 11);
  for (int64_t s : {1, 2, 4}) {
    const auto y = channel_shift(x, 5, s);
    check_close(y, ref_shift(x, 5, s), "shift " + std::to_string(s));
    check_close(channel_shift(to_dtype<float>(x), 5, s), to_dtype<float>(y), 0, 0, "float is an exact copy");
  }
  check_close(channel_shift(x, 0, 1), x, "g = 0 is the identity");
}

TEST_CASE("channel_shift: a hand-checked 2x3 image") {
  // One channel per group (g = 1) plus one unshifted channel; pixel value = 10*(h*3+w) + c.
  std::vector<double> v;
  for (int p = 0; p < 6; ++p)
    for (int c = 0; c < 5; ++c) v.push_back(10.0 * p + c);
  auto x = Tensor<double>::from_vector(v, {1, 2, 3, 5});
  auto y = channel_shift(x, 1, 1);
  // Row 0: left takes w+1, right takes w-1, up takes row 1, down gets zeros.
  const std::vector<double> expect = {
      10, 0,  32, 0,  4,   // (0,0)
      20, 1,  42, 0,  14,  // (0,1)
      0,  11, 52, 0,  24,  // (0,2)
      40, 0,  0,  3,  34,  // (1,0)
      50, 31, 0,  13, 44,  // (1,1)
      0,  41, 0,  23, 54,  // (1,2)
  };
  check_close(y, Tensor<double>::from_vector(expect, {1, 2, 3, 5}), "2x3");
}

TEST_CASE("channel_shift: backward is the opposite shift") {
  auto x = test::uniform<double>({2, 4, 6, 13}, 12).set_requires_grad();
  auto up = test::uniform<double>({2, 4, 6, 13}, 13);
  sum(channel_shift(x, 3, 2) * up).backward();
  // d/dx <shift(x), up>: each x element's gradient is the up element it was copied to.
  auto expect = Tensor<double>::zeros(x.shape());
  const std::vector<double> u = up.to_vector();
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t h = 0; h < 4; ++h)
      for (int64_t w = 0; w < 6; ++w)
        for (int64_t c = 0; c < 13; ++c) {
          const int k = c < 12 ? static_cast<int>(c / 3) : 4;
          const int64_t dh[5] = {0, 0, 2, -2, 0}, dw[5] = {2, -2, 0, 0, 0};
          // out[h,w] = x[h+dh, w+dw]  =>  x[h,w] feeds out[h-dh, w-dw].
          const int64_t oh = h - dh[k], ow = w - dw[k];
          if (oh >= 0 && oh < 4 && ow >= 0 && ow < 6) expect.at({n, h, w, c}) = up.at({n, oh, ow, c});
        }
  check_close(x.grad(), expect, "dx");
}

TEST_CASE("channel_shift: a shift past the border zeroes the shifted groups") {
  auto x = test::uniform<double>({1, 3, 4, 9}, 14);
  auto y = channel_shift(x, 2, 5);  // 5 >= H and >= W
  auto shifted = slice(y, 3, 0, 8).contiguous(), rest = slice(y, 3, 8, 9).contiguous();
  check_close(shifted, Tensor<double>::zeros(shifted.shape()), "groups");
  check_close(rest, slice(x, 3, 8, 9).contiguous(), "unshifted channel");
}

TEST_CASE("shift_group_paper, shift_group_keras_seed: the two num_div readings") {
  // ShiftViT stage widths with the seed's num_div = 12.
  const int64_t widths[4] = {96, 192, 384, 768};
  for (int i = 0; i < 4; ++i) {
    CHECK(shift_group_paper(widths[i], 12) == widths[i] / 12);  // 1/3 of the channels shift
    CHECK(shift_group_keras_seed(widths[i], 12) == 12);         // 48 channels shift
  }
  CHECK(shift_group_paper(100, 12) == 8);  // C // n_div, as in the official code
  // tf.split(x, C // num_div) with num_div not dividing C: 36 // 8 = 4 chunks of 9.
  CHECK(shift_group_keras_seed(36, 8) == 9);
  CHECK_THROWS_PN(shift_group_keras_seed(100, 12), "shift_group_keras_seed: tf.split cannot cut 100 channels into 8");
  CHECK_THROWS_PN(shift_group_keras_seed(40, 12), "shift_group_keras_seed: 40 channels // num_div 12 = 3 splits");
  CHECK_THROWS_PN(shift_group_keras_seed(96, 0), "shift_group_keras_seed: num_div 0 must be positive");
  CHECK_THROWS_PN(shift_group_paper(10, 3), "shift_group_paper: 10 channels with num_div 3 give g = 3");
  CHECK_THROWS_PN(shift_group_paper(96, -1), "shift_group_paper: num_div -1 must be positive");
}

TEST_CASE("channel_shift: bad input throws naming the op") {
  auto x = Tensor<float>::zeros({2, 4, 4, 10});
  CHECK_THROWS_PN(channel_shift(Tensor<float>::zeros({4, 4, 10}), 1), "channel_shift: input [4,4,10] must have rank 4");
  CHECK_THROWS_PN(channel_shift(x, 3), "channel_shift: input [2,4,4,10]: 4 groups of 3 channels do not fit in 10");
  CHECK_THROWS_PN(channel_shift(x, -1), "channel_shift: input [2,4,4,10]: 4 groups of -1");
  CHECK_THROWS_PN(channel_shift(x, 2, -1), "channel_shift: shift -1 must be >= 0");
}
