// max_pool2d, avg_pool2d, global_avg_pool: forward against plain loops over an explicitly
// padded window, TensorFlow "same" semantics, routing of the max gradient, and errors.
#include <algorithm>
#include <cmath>
#include <limits>

#include "patchnet/ops/pool.hpp"
#include "support/test_util.hpp"

using namespace patchnet;
using patchnet::test::check_close;

namespace {
// Reference pooling: TensorFlow's same padding computed here from scratch, each window
// scanned over all K x K taps, skipping those outside the input.
Tensor<double> ref_pool(const Tensor<double>& x, int64_t kh, int64_t kw, int64_t sh, int64_t sw, bool same, bool max) {
  const int64_t N = x.size(0), H = x.size(1), W = x.size(2), C = x.size(3);
  int64_t OH = (H - kh) / sh + 1, OW = (W - kw) / sw + 1, top = 0, left = 0;
  if (same) {
    OH = (H + sh - 1) / sh;
    OW = (W + sw - 1) / sw;
    top = std::max<int64_t>((OH - 1) * sh + kh - H, 0) / 2;  // the odd pixel goes to the bottom
    left = std::max<int64_t>((OW - 1) * sw + kw - W, 0) / 2;
  }
  auto y = Tensor<double>::empty({N, OH, OW, C});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow)
        for (int64_t c = 0; c < C; ++c) {
          double acc = max ? -std::numeric_limits<double>::infinity() : 0.0;
          int count = 0;
          for (int64_t i = 0; i < kh; ++i)
            for (int64_t j = 0; j < kw; ++j) {
              const int64_t h = oh * sh - top + i, w = ow * sw - left + j;
              if (h < 0 || h >= H || w < 0 || w >= W) continue;
              const double v = x.at({n, h, w, c});
              acc = max ? std::max(acc, v) : acc + v;
              ++count;
            }
          y.at({n, oh, ow, c}) = max ? acc : acc / count;
        }
  return y;
}

struct Geometry {
  Shape input;
  int64_t kh, kw, sh, sw;
  bool same;
};
const Geometry kGeometries[] = {
    {{3, 8, 10, 13}, 2, 2, 2, 2, false}, {{2, 9, 11, 5}, 2, 2, 2, 2, false}, {{2, 9, 11, 5}, 3, 3, 2, 2, true},
    {{2, 8, 7, 3}, 3, 2, 1, 2, true},    {{1, 6, 6, 17}, 3, 3, 1, 1, false}, {{2, 7, 5, 4}, 2, 3, 3, 2, true},
};

Pool2dOptions options(const Geometry& g) {
  return {.pool = Hw(g.kh, g.kw), .stride = Hw(g.sh, g.sw), .padding = g.same ? Padding::Same : Padding::Valid};
}
}  // namespace

TEST_CASE("max_pool2d: forward matches a plain loop, in float too") {
  for (const Geometry& g : kGeometries) {
    auto x = test::uniform<double>(g.input, 1);
    auto y = max_pool2d(x, options(g));
    check_close(y, ref_pool(x, g.kh, g.kw, g.sh, g.sw, g.same, true), 0.0, 0.0, "max " + g.input.str());
    check_close(max_pool2d(to_dtype<float>(x), options(g)), y, 1e-6, 1e-6, "float " + g.input.str());
  }
}

TEST_CASE("avg_pool2d: forward matches a plain loop, in float too") {
  for (const Geometry& g : kGeometries) {
    auto x = test::uniform<double>(g.input, 2);
    auto y = avg_pool2d(x, options(g));
    check_close(y, ref_pool(x, g.kh, g.kw, g.sh, g.sw, g.same, false), 1e-14, 1e-14, "avg " + g.input.str());
    check_close(avg_pool2d(to_dtype<float>(x), options(g)), y, 1e-6, 1e-6, "float " + g.input.str());
  }
}

TEST_CASE("max_pool2d, avg_pool2d: TensorFlow same padding on a 3x3 image, pool 2 stride 2") {
  // 1 2 3 / 4 5 6 / 7 8 9: one padding row at the bottom and one column at the right.
  auto x = Tensor<double>::from_vector({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 3, 3, 1});
  const Pool2dOptions same{.pool = 2, .padding = Padding::Same};
  check_close(avg_pool2d(x, same), Tensor<double>::from_vector({3, 4.5, 7.5, 9}, {1, 2, 2, 1}), 0.0, 0.0,
              "avg divides by the valid count");
  check_close(max_pool2d(x, same), Tensor<double>::from_vector({5, 6, 8, 9}, {1, 2, 2, 1}), 0.0, 0.0, "max");
  // All negative: a zero-padded max would give 0 at the edges; TensorFlow's -inf padding does not.
  check_close(max_pool2d(-x, same), Tensor<double>::from_vector({-1, -3, -7, -9}, {1, 2, 2, 1}), 0.0, 0.0,
              "max of negative values ignores padding");
  // A constant image stays constant only if padded taps are excluded from the mean.
  auto ones = Tensor<double>::ones({2, 5, 7, 3});
  check_close(avg_pool2d(ones, {.pool = 3, .stride = 2, .padding = Padding::Same}), Tensor<double>::ones({2, 3, 4, 3}),
              0.0, 0.0, "constant image");
}

TEST_CASE("max_pool2d: backward routes to the first maximum and accumulates overlaps") {
  // Ties: all four taps equal; the gradient goes to the first in row-major order.
  auto x = Tensor<double>::full({1, 2, 2, 2}, 0.5);
  x.set_requires_grad();
  max_pool2d(x).backward(Tensor<double>::from_vector({3.0, 7.0}, {1, 1, 1, 2}));
  check_close(x.grad(), Tensor<double>::from_vector({3, 7, 0, 0, 0, 0, 0, 0}, {1, 2, 2, 2}), 0.0, 0.0, "ties");
  // Overlapping 2x2 windows, stride 1: the centre is the max of all four.
  auto z = Tensor<double>::from_vector({0, 1, 0, 2, 9, 3, 0, 4, 0}, {1, 3, 3, 1});
  z.set_requires_grad();
  max_pool2d(z, {.pool = 2, .stride = 1}).backward(Tensor<double>::from_vector({1, 2, 3, 4}, {1, 2, 2, 1}));
  check_close(z.grad(), Tensor<double>::from_vector({0, 0, 0, 0, 10, 0, 0, 0, 0}, {1, 3, 3, 1}), 0.0, 0.0, "overlap");
}

TEST_CASE("avg_pool2d: backward spreads g / valid count") {
  auto x = Tensor<double>::zeros({1, 3, 3, 1});
  x.set_requires_grad();
  avg_pool2d(x, {.pool = 2, .padding = Padding::Same})
      .backward(Tensor<double>::from_vector({4, 2, 2, 1}, {1, 2, 2, 1}));
  check_close(x.grad(), Tensor<double>::from_vector({1, 1, 1, 1, 1, 1, 1, 1, 1}, {1, 3, 3, 1}), 0.0, 0.0,
              "window counts 4, 2, 2, 1");
}

TEST_CASE("global_avg_pool: forward and backward match plain loops") {
  auto x = test::uniform<double>({3, 5, 6, 11}, 3);
  x.set_requires_grad();
  auto y = global_avg_pool(x);
  auto ref = Tensor<double>::zeros({3, 11});
  for (int64_t n = 0; n < 3; ++n)
    for (int64_t h = 0; h < 5; ++h)
      for (int64_t w = 0; w < 6; ++w)
        for (int64_t c = 0; c < 11; ++c) ref.at({n, c}) += x.at({n, h, w, c}) / 30;
  check_close(y, ref, 1e-14, 1e-14, "forward");
  check_close(global_avg_pool(to_dtype<float>(x.detach())), y, 1e-6, 1e-6, "float vs double");
  auto g = test::uniform<double>({3, 11}, 4);
  y.backward(g);
  check_close(x.grad(), broadcast_to(reshape(g / 30.0, {3, 1, 1, 11}), x.shape()).contiguous(), 1e-15, 0.0, "dx");
}

TEST_CASE("max_pool2d, avg_pool2d, global_avg_pool: bad inputs throw naming the op") {
  auto x = Tensor<float>::zeros({2, 5, 5, 3});
  CHECK_THROWS_PN(max_pool2d(Tensor<float>::zeros({5, 5, 3})), "max_pool2d: input [5,5,3] must be NHWC (rank 4)");
  CHECK_THROWS_PN(avg_pool2d(Tensor<float>::zeros({2, 5, 5, 3, 1})), "avg_pool2d: input [2,5,5,3,1] must be NHWC");
  CHECK_THROWS_PN(max_pool2d(x, {.pool = 6}), "max_pool2d: kernel 6x6 is larger than the \"valid\" input 5x5");
  CHECK_THROWS_PN(avg_pool2d(x, {.pool = Hw(2, 7)}), "avg_pool2d: kernel 2x7 is larger");
  CHECK_THROWS_PN(max_pool2d(x, {.pool = 2, .stride = Hw(2, 0)}), "max_pool2d: stride 2x0 must be positive");
  CHECK_THROWS_PN(avg_pool2d(x, {.pool = 2, .stride = -1}), "avg_pool2d: stride -1x-1 must be positive");
  CHECK_THROWS_PN(max_pool2d(x, {.pool = 0}), "max_pool2d: kernel size 0x0 must be positive");
  CHECK_THROWS_PN(max_pool2d(x, {.padding = Padding::Explicit}), "max_pool2d: padding must be");
  CHECK_THROWS_PN(global_avg_pool(Tensor<float>::zeros({2, 3})), "global_avg_pool: input [2,3] must be NHWC");
  CHECK_THROWS_PN(global_avg_pool(Tensor<float>::zeros({2, 0, 4, 3})),
                  "global_avg_pool: input [2,0,4,3] has no pixels");
  // "same" never errors for a pool larger than the input: the window is clipped.
  CHECK(max_pool2d(x, {.pool = 7, .padding = Padding::Same}).shape() == Shape{2, 1, 1, 3});
}
