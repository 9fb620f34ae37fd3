// Every op family given bad shapes, ranks, arguments or undefined tensors: the error is a
// patchnet::Error naming the op (CHECK_THROWS_PN fails on any other exception type, and on
// none), never a crash or another exception type escaping a public function.
#include "patchnet/patchnet.hpp"
#include "support/test_util.hpp"

using namespace patchnet;

namespace {
Tensor<float> t(std::initializer_list<int64_t> shape) { return Tensor<float>::zeros(Shape(shape)); }
Tensor<int32_t> labels(std::initializer_list<int64_t> shape) { return Tensor<int32_t>::zeros(Shape(shape)); }
}  // namespace

TEST_CASE("bad input: elementwise, reductions and shape ops") {
  CHECK_THROWS_PN(add(t({2, 3}), t({4, 3})), "add");
  CHECK_THROWS_PN(mul(t({2, 3}), t({3, 2})), "mul");
  CHECK_THROWS_PN(exp(Tensor<float>()), "exp");
  CHECK_THROWS_PN(silu(Tensor<float>()), "silu");
  CHECK_THROWS_PN(sum(t({2, 3}), {2}), "sum");
  CHECK_THROWS_PN(mean(t({2, 3}), {-3}), "mean");
  CHECK_THROWS_PN(reshape(t({2, 3}), {4, 2}), "reshape");
  CHECK_THROWS_PN(reshape(t({2, 3}), {-1, -1}), "reshape");
  CHECK_THROWS_PN(permute(t({2, 3, 4}), {0, 0, 1}), "permute");
  CHECK_THROWS_PN(transpose(t({2, 3}), 0, 2), "transpose");
  CHECK_THROWS_PN(slice(t({2, 3}), 2, 0, 1), "slice");
  CHECK_THROWS_PN(slice(t({2, 3}), 0, 0, 2, 0), "slice");
  CHECK_THROWS_PN(concat({t({2, 3}), t({2, 4})}, 0), "concat");
  CHECK_THROWS_PN(squeeze(t({2, 3}), 0), "squeeze");
  CHECK_THROWS_PN(unsqueeze(t({2, 3}), 5), "unsqueeze");
  CHECK_THROWS_PN(broadcast_to(t({2, 3}), {2, 4}), "broadcast");
  CHECK_THROWS_PN(flatten(t({2, 3}), 2, 1), "flatten");
}

TEST_CASE("bad input: matrix products and convolutions") {
  CHECK_THROWS_PN(matmul(t({2, 3}), t({4, 5})), "matmul");
  CHECK_THROWS_PN(matmul(t({2}), t({2})), "matmul");
  CHECK_THROWS_PN(linear(t({2, 3}), t({4, 5})), "linear");
  CHECK_THROWS_PN(linear(t({2, 3}), t({3, 5}), t({4})), "linear");
  // NHWC input, HWIO weight
  CHECK_THROWS_PN(conv2d(t({1, 8, 8}), t({3, 3, 3, 4})), "conv2d");
  CHECK_THROWS_PN(conv2d(t({1, 8, 8, 3}), t({3, 3, 2, 4})), "conv2d");
  CHECK_THROWS_PN(conv2d(t({1, 2, 2, 3}), t({3, 3, 3, 4})), "conv2d");
  CHECK_THROWS_PN(conv2d(t({1, 8, 8, 3}), t({3, 3, 3, 4}), t({5})), "conv2d");
  CHECK_THROWS_PN(conv2d(t({1, 8, 8, 3}), t({3, 3, 3, 4}), Tensor<float>(), Conv2dOptions{.stride = 0}), "conv2d");
  CHECK_THROWS_PN(conv2d(t({1, 8, 8, 4}), t({3, 3, 2, 4}), Tensor<float>(), Conv2dOptions{.groups = 3}), "conv2d");
  CHECK_THROWS_PN(depthwise_conv2d(t({1, 8, 8, 3}), t({3, 3, 4})), "depthwise_conv2d");
  CHECK_THROWS_PN(depthwise_conv2d(t({1, 8, 8, 3}), t({3, 3})), "depthwise_conv2d");
  CHECK_THROWS_PN(pointwise_conv2d(t({1, 8, 8, 3}), t({4, 5})), "pointwise_conv2d");
  CHECK_THROWS_PN(involution(t({1, 8, 8, 4}), t({1, 8, 8, 5}), 3), "involution");
  CHECK_THROWS_PN(involution(t({1, 8, 8, 4}), t({1, 8, 8, 9}), 3, 1, 3), "involution");
  CHECK_THROWS_PN(involution(t({1, 8, 8, 4}), t({1, 8, 8, 9}), 0), "involution");
  CHECK_THROWS_PN(channel_shift(t({1, 4, 4, 3}), 4), "channel_shift");
  CHECK_THROWS_PN(channel_shift(t({4, 4, 3}), 1), "channel_shift");
}

TEST_CASE("bad input: normalisation, pooling, activations, losses, dropout") {
  const auto c3 = t({3}), c4 = t({4});
  CHECK_THROWS_PN(batch_norm(t({2, 4, 4, 3}), c4, c4, c4, c4, true), "batch_norm");
  CHECK_THROWS_PN(batch_norm(t({2, 4, 4, 3}), c3, c3, c3, c3, true, BatchNormOptions{.eps = -1}), "batch_norm");
  CHECK_THROWS_PN(layer_norm(t({2, 3}), c4, c4), "layer_norm");
  CHECK_THROWS_PN(group_norm(t({2, 4, 4, 6}), 4, Tensor<float>(), Tensor<float>()), "group_norm");
  CHECK_THROWS_PN(group_norm(t({2, 4, 6}), 3, Tensor<float>(), Tensor<float>()), "group_norm");
  CHECK_THROWS_PN(group_norm(t({2, 4, 4, 3}), 3, c4, c4), "group_norm");
  CHECK_THROWS_PN(group_norm(t({2, 4, 4, 3}), 0, c3, c3), "group_norm");
  CHECK_THROWS_PN(max_pool2d(t({1, 4, 4}), Pool2dOptions{}), "max_pool2d");
  CHECK_THROWS_PN(max_pool2d(t({1, 4, 4, 2}), Pool2dOptions{.pool = 5}), "max_pool2d");
  CHECK_THROWS_PN(avg_pool2d(t({1, 4, 4, 2}), Pool2dOptions{.pool = 0}), "avg_pool2d");
  CHECK_THROWS_PN(global_avg_pool(t({4, 2})), "global_avg_pool");
  CHECK_THROWS_PN(softmax(t({2, 3}), 2), "softmax");
  CHECK_THROWS_PN(log_softmax(t({2, 3}), -3), "log_softmax");
  CHECK_THROWS_PN(gelu(Tensor<float>()), "gelu");
  CHECK_THROWS_PN(relu(Tensor<float>()), "relu");
  CHECK_THROWS_PN(cross_entropy(t({2, 3}), labels({3})), "cross_entropy");
  CHECK_THROWS_PN(cross_entropy(t({2}), labels({2})), "cross_entropy");
  Tensor<int32_t> bad = Tensor<int32_t>::from_vector({0, 7}, {2});
  CHECK_THROWS_PN(cross_entropy(t({2, 3}), bad), "cross_entropy");
  CHECK_THROWS_PN(cross_entropy_from_probs(t({2, 3}), labels({2}), -1.0), "cross_entropy");
  Generator gen(1);
  CHECK_THROWS_PN(dropout(t({2, 3}), 1.5, true, gen), "dropout");
  CHECK_THROWS_PN(dropout(t({2, 3}), -0.1, true, gen), "dropout");
  CHECK_THROWS_PN(drop_path(t({2, 3}), 1.0, true, gen), "drop_path");
}

TEST_CASE("bad input: tensors on a device this program cannot use") {
  // This suite does not link patchnet::cuda: any CUDA tensor is refused with the reason.
  CHECK_THROWS_PN(Tensor<float>::zeros({2}, Device::cuda()), "without CUDA support");
  CHECK_THROWS_PN(Tensor<float>::empty({-1}), "negative");
}
