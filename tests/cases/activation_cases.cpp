// Op table: gelu (both forms) and relu (CUDA: cuda/activation.cu); the GPU suite runs these
// rows against the CPU through its generated unit (tests/CMakeLists.txt). softmax and
// log_softmax are in activation_softmax_cases.cpp.
#include <type_traits>

#include "patchnet/ops/activation.hpp"
#include "support/op_cases.hpp"

using namespace patchnet;
using patchnet::test::CaseOptions;

PN_OP_CASES("gelu") {
  // [-4, 4] covers the tails where erf saturates and the derivative's bump below 0.
  const CaseOptions wide{.ranges = {{-4, 4}}};
  cases.add(
      "odd 3x5x7", {{3, 5, 7}}, [](const auto& in) { return gelu(in[0]); }, wide);
  cases.add(
      "NHWC 2x3x3x13", {{2, 3, 3, 13}}, [](const auto& in) { return gelu(in[0], GeluApprox::None); }, wide);
  cases.add(
      "of a transposed view", {{6, 5}}, [](const auto& in) { return gelu(transpose(in[0], 0, 1)); }, wide);
  cases.add("single element", {{1}}, [](const auto& in) { return gelu(in[0]); });
}

PN_OP_CASES("gelu_tanh") {
  const CaseOptions wide{.ranges = {{-4, 4}}};
  cases.add(
      "odd 3x5x7", {{3, 5, 7}}, [](const auto& in) { return gelu(in[0], GeluApprox::Tanh); }, wide);
  cases.add(
      "NHWC 2x3x3x13", {{2, 3, 3, 13}}, [](const auto& in) { return gelu(in[0], GeluApprox::Tanh); }, wide);
  cases.add(
      "of a permuted view", {{2, 3, 5}},
      [](const auto& in) {
        return gelu(permute(in[0], {2, 0, 1}), GeluApprox::Tanh);
      },
      wide);
}

PN_OP_CASES("relu") {
  // Central differences are wrong within eps of the kink, so inputs stay away from 0.
  cases.add(
      "positive 3x5x7", {{3, 5, 7}}, [](const auto& in) { return relu(in[0]); }, CaseOptions{.ranges = {{0.05, 2}}});
  cases.add(
      "negative 2x3x3x13", {{2, 3, 3, 13}}, [](const auto& in) { return relu(in[0]); },
      CaseOptions{.ranges = {{-2, -0.05}}});
  cases.add(
      "mixed signs 5x7", {{5, 7}},
      [](const auto& in) {
        using T = typename std::decay_t<decltype(in[0])>::value_type;
        std::vector<T> sign(35);
        for (size_t i = 0; i < sign.size(); ++i) sign[i] = (i * 7 % 3 == 0) ? T(-1) : T(1);
        return relu(in[0] * Tensor<T>::from_vector(sign, {5, 7}).to(in[0].device()));
      },
      CaseOptions{.ranges = {{0.05, 2}}});
}
