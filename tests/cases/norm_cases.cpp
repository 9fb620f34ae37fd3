// Op table: batch_norm (training and eval), gelu_batch_norm(_add), layer_norm and group_norm.
// Running buffers are made inside each lambda, so every call starts from the same state and
// the function is deterministic.
#include "patchnet/ops/batch_norm.hpp"
#include "patchnet/ops/group_norm.hpp"
#include "patchnet/ops/layer_norm.hpp"
#include "support/op_cases.hpp"

using namespace patchnet;

namespace {
// Fresh running buffers: mean c / 10 - 0.2, var 0.5 + c / 4 (distinct per channel).
template <class T>
std::pair<Tensor<T>, Tensor<T>> running_buffers(int64_t C) {
  auto rm = Tensor<T>::empty({C}), rv = Tensor<T>::empty({C});
  for (int64_t c = 0; c < C; ++c) {
    rm.data()[c] = static_cast<T>(0.1 * static_cast<double>(c) - 0.2);
    rv.data()[c] = static_cast<T>(0.5 + 0.25 * static_cast<double>(c));
  }
  return {rm, rv};
}

template <class T>
Tensor<T> bn(const Tensor<T>& x, const Tensor<T>& gamma, const Tensor<T>& beta, bool training,
             const BatchNormOptions& opt = {}) {
  auto [rm, rv] = running_buffers<T>(x.size(-1));
  return batch_norm(x, gamma, beta, rm.to(x.device()), rv.to(x.device()), training, opt);  // GPU suite: same device
}

template <class T>
Tensor<T> gbn(const Tensor<T>& x, const Tensor<T>& gamma, const Tensor<T>& beta, bool training,
              GeluApprox approx = GeluApprox::None) {
  auto [rm, rv] = running_buffers<T>(x.size(-1));
  return gelu_batch_norm(x, gamma, beta, rm.to(x.device()), rv.to(x.device()), training, {}, approx);
}
}  // namespace

PN_OP_CASES("batch_norm") {
  cases.add("train NHWC 2x3x3x5 gamma beta", {{2, 3, 3, 5}, {5}, {5}},
            [](const auto& in) { return bn(in[0], in[1], in[2], true); });
  cases.add("train NHWC 2x3x3x5 no affine", {{2, 3, 3, 5}}, [](const auto& in) {
    using T = typename std::decay_t<decltype(in[0])>::value_type;
    return bn(in[0], Tensor<T>(), Tensor<T>(), true);
  });
  cases.add("train [N,C] 6x7 gamma beta", {{6, 7}, {7}, {7}},
            [](const auto& in) { return bn(in[0], in[1], in[2], true); });
  cases.add("train [N,C] 6x7 gamma only, PyTorch options", {{6, 7}, {7}}, [](const auto& in) {
    using T = typename std::decay_t<decltype(in[0])>::value_type;
    return bn(in[0], in[1], Tensor<T>(), true, {.momentum = 0.9, .eps = 1e-5, .unbiased_running_var = true});
  });
  cases.add("train no buffers 3x2x2x3", {{3, 2, 2, 3}, {3}, {3}}, [](const auto& in) {
    using T = typename std::decay_t<decltype(in[0])>::value_type;
    return batch_norm(in[0], in[1], in[2], Tensor<T>(), Tensor<T>(), true);
  });
  cases.add("eval NHWC 2x3x3x5 gamma beta", {{2, 3, 3, 5}, {5}, {5}},
            [](const auto& in) { return bn(in[0], in[1], in[2], false); });
  cases.add("eval [N,C] 6x7 no affine", {{6, 7}}, [](const auto& in) {
    using T = typename std::decay_t<decltype(in[0])>::value_type;
    return bn(in[0], Tensor<T>(), Tensor<T>(), false);
  });
  cases.add("train of a permuted view", {{5, 2, 3, 3}, {5}, {5}}, [](const auto& in) {
    return bn(permute(in[0], {1, 2, 3, 0}), in[1], in[2], true);
  });
}

// The fused GELU + batch norm; tests/unit/norm_test.cpp compares it with the two ops.
PN_OP_CASES("gelu_batch_norm") {
  cases.add("train NHWC 2x3x3x5 gamma beta", {{2, 3, 3, 5}, {5}, {5}},
            [](const auto& in) { return gbn(in[0], in[1], in[2], true); }, {.ranges = {{-3, 3}, {0.5, 2}, {-1, 1}}});
  cases.add("train tanh form [N,C] 6x7 no affine", {{6, 7}}, [](const auto& in) {
    using T = typename std::decay_t<decltype(in[0])>::value_type;
    return gbn(in[0], Tensor<T>(), Tensor<T>(), true, GeluApprox::Tanh);
  });
  cases.add("eval NHWC 2x3x3x5 gamma beta", {{2, 3, 3, 5}, {5}, {5}},
            [](const auto& in) { return gbn(in[0], in[1], in[2], false); });
  cases.add("eval tanh form 4x9 gamma only", {{4, 9}, {9}}, [](const auto& in) {
    using T = typename std::decay_t<decltype(in[0])>::value_type;
    return gbn(in[0], in[1], Tensor<T>(), false, GeluApprox::Tanh);
  });
}

// The same plus a residual (ConvMixer's spatial block); the residual is an input of its own,
// or the normalised input itself (nn::Residual's case, both gradients summed).
PN_OP_CASES("gelu_batch_norm_add") {
  cases.add("train NHWC 2x3x3x5 gamma beta, residual", {{2, 3, 3, 5}, {2, 3, 3, 5}, {5}, {5}},
            [](const auto& in) {
              auto [rm, rv] = running_buffers<typename std::decay_t<decltype(in[0])>::value_type>(5);
              return gelu_batch_norm_add(in[0], in[1], in[2], in[3], rm.to(in[0].device()), rv.to(in[0].device()),
                                         true);
            },
            {.ranges = {{-3, 3}, {-1, 1}, {0.5, 2}, {-1, 1}}});
  cases.add("eval [N,C] 6x7, the input as residual", {{6, 7}, {7}}, [](const auto& in) {
    using T = typename std::decay_t<decltype(in[0])>::value_type;
    auto [rm, rv] = running_buffers<T>(7);
    return gelu_batch_norm_add(in[0], in[0], in[1], Tensor<T>(), rm.to(in[0].device()), rv.to(in[0].device()), false);
  });
}

PN_OP_CASES("layer_norm") {
  cases.add("3x4x7 gamma beta", {{3, 4, 7}, {7}, {7}}, [](const auto& in) { return layer_norm(in[0], in[1], in[2]); },
            {.torch = "F.layer_norm(x0, x0.shape[-1:], x1, x2)"});
  cases.add("5x9 no affine", {{5, 9}}, [](const auto& in) {
    using T = typename std::decay_t<decltype(in[0])>::value_type;
    return layer_norm(in[0], Tensor<T>(), Tensor<T>());
  });
  cases.add("NHWC 2x3x3x11 eps 1e-3, beta only", {{2, 3, 3, 11}, {11}}, [](const auto& in) {
    using T = typename std::decay_t<decltype(in[0])>::value_type;
    return layer_norm(in[0], Tensor<T>(), in[1], 1e-3);
  });
  cases.add("last dim 1 (output is beta)", {{4, 1}, {1}, {1}},
            [](const auto& in) { return layer_norm(in[0], in[1], in[2]) + in[0]; });
}

// Golden values: PyTorch's F.group_norm on the NCHW view (the torch column).
PN_OP_CASES("group_norm") {
  cases.add("2x3x4x6, 3 groups, gamma beta", {{2, 3, 4, 6}, {6}, {6}},
            [](const auto& in) { return group_norm(in[0], 3, in[1], in[2]); },
            {.torch = "nhwc(F.group_norm(nchw(x0), 3, x1, x2))"});
  cases.add("1 group (the whole image)", {{2, 2, 3, 5}, {5}, {5}},
            [](const auto& in) { return group_norm(in[0], 1, in[1], in[2]); },
            {.torch = "nhwc(F.group_norm(nchw(x0), 1, x1, x2))"});
  cases.add("groups = channels (instance norm), eps 1e-3", {{3, 3, 2, 4}, {4}, {4}},
            [](const auto& in) { return group_norm(in[0], 4, in[1], in[2], 1e-3); },
            {.torch = "nhwc(F.group_norm(nchw(x0), 4, x1, x2, 1e-3))"});
  cases.add("odd 1x5x3x12, 4 groups, no affine", {{1, 5, 3, 12}},
            [](const auto& in) {
              using T = typename std::decay_t<decltype(in[0])>::value_type;
              return group_norm(in[0], 4, Tensor<T>(), Tensor<T>());
            },
            {.torch = "nhwc(F.group_norm(nchw(x0), 4))"});
}
