// Op table: elementwise arithmetic, reductions and shape ops.
#include <cmath>

#include "support/op_cases.hpp"

using namespace patchnet;
using patchnet::test::CaseOptions;

PN_OP_CASES("add") {
  cases.add("same 3x5", {{3, 5}, {3, 5}}, [](const auto& in) { return in[0] + in[1]; });
  cases.add("broadcast 2x3x5 + 5", {{2, 3, 5}, {5}}, [](const auto& in) { return in[0] + in[1]; });
  cases.add("broadcast 3x1 + 1x4", {{3, 1}, {1, 4}}, [](const auto& in) { return add(in[0], in[1]); });
  cases.add("scalar", {{2, 3}}, [](const auto& in) { return in[0] + 2.5; });
}

PN_OP_CASES("sub") {
  cases.add("broadcast 4x3 - 3", {{4, 3}, {3}}, [](const auto& in) { return in[0] - in[1]; });
  cases.add("scalar both sides", {{2, 3}}, [](const auto& in) { return 1.5 - (in[0] - 0.5); });
}

PN_OP_CASES("mul") {
  cases.add("broadcast 2x3x5 * 3x1", {{2, 3, 5}, {3, 1}}, [](const auto& in) { return in[0] * in[1]; });
  cases.add("same input twice", {{7}}, [](const auto& in) { return in[0] * in[0]; });
  cases.add("scalar", {{3, 2}}, [](const auto& in) { return 3.0 * in[0]; });
}

PN_OP_CASES("div") {
  cases.add(
      "broadcast 3x4 / 4", {{3, 4}, {4}}, [](const auto& in) { return in[0] / in[1]; },
      CaseOptions{.ranges = {{-1, 1}, {0.5, 2}}});
  cases.add(
      "scalar over tensor", {{5}}, [](const auto& in) { return 2.0 / in[0]; }, CaseOptions{.ranges = {{0.5, 2}}});
}

PN_OP_CASES("unary") {
  cases.add(
      "exp", {{3, 4}}, [](const auto& in) { return exp(in[0]); },
      CaseOptions{.reference = [](double x) { return std::exp(x); }});
  cases.add(
      "log", {{3, 4}}, [](const auto& in) { return log(in[0]); },
      CaseOptions{.ranges = {{0.5, 2}}, .reference = [](double x) { return std::log(x); }});
  cases.add(
      "sqrt", {{3, 4}}, [](const auto& in) { return sqrt(in[0]); },
      CaseOptions{.ranges = {{0.5, 2}}, .reference = [](double x) { return std::sqrt(x); }});
  cases.add(
      "square", {{3, 4}}, [](const auto& in) { return square(in[0]); },
      CaseOptions{.reference = [](double x) { return x * x; }});
  cases.add(
      "tanh", {{3, 4}}, [](const auto& in) { return tanh(in[0]); },
      CaseOptions{.ranges = {{-4, 4}}, .reference = [](double x) { return std::tanh(x); }});
  cases.add(
      "sigmoid", {{3, 4}}, [](const auto& in) { return sigmoid(in[0]); },
      CaseOptions{.ranges = {{-6, 6}}, .reference = [](double x) { return 1 / (1 + std::exp(-x)); }});
  cases.add(
      "silu", {{5, 7}}, [](const auto& in) { return silu(in[0]); },
      CaseOptions{
          .ranges = {{-6, 6}}, .reference = [](double x) { return x / (1 + std::exp(-x)); }, .torch = "F.silu(x0)"});
  cases.add(
      "pow 2.5", {{3, 4}}, [](const auto& in) { return pow(in[0], 2.5); }, CaseOptions{.ranges = {{0.5, 2}}});
  cases.add("neg", {{5}}, [](const auto& in) { return -in[0]; });
}

PN_OP_CASES("sum") {
  cases.add("all 3x4x5", {{3, 4, 5}}, [](const auto& in) { return sum(in[0]); });
  cases.add("trailing axis", {{3, 4, 5}}, [](const auto& in) { return sum(in[0], {2}); });
  cases.add("leading axes keepdim", {{3, 4, 5}}, [](const auto& in) { return sum(in[0], {0, 1}, true); });
  cases.add("middle axis", {{3, 4, 5}}, [](const auto& in) { return sum(in[0], {1}); });
  cases.add("axes 0 and 2", {{3, 4, 5}}, [](const auto& in) { return sum(in[0], {0, -1}); });
  cases.add("of a permuted view", {{3, 4, 5}}, [](const auto& in) { return sum(permute(in[0], {2, 0, 1}), {1}); });
}

PN_OP_CASES("mean") {
  cases.add("all", {{3, 5}}, [](const auto& in) { return mean(in[0]); });
  cases.add("axes 1,2 of NHWC", {{2, 3, 5, 7}}, [](const auto& in) { return mean(in[0], {1, 2}); });
}

PN_OP_CASES("reshape") {
  cases.add("3x4 to 2x-1", {{3, 4}}, [](const auto& in) { return reshape(in[0], {2, -1}) * 1.5; });
  cases.add("of a transposed view", {{3, 4}}, [](const auto& in) { return reshape(transpose(in[0], 0, 1), {12}); });
  cases.add("flatten, unsqueeze, squeeze", {{2, 3, 4}},
            [](const auto& in) { return squeeze(unsqueeze(flatten(in[0], 1), 0), 0); });
}

PN_OP_CASES("permute") {
  cases.add("NHWC to NCHW", {{2, 3, 4, 5}}, [](const auto& in) { return permute(in[0], {0, 3, 1, 2}) * 2.0; });
}

PN_OP_CASES("slice") {
  cases.add("step 2 on axis 1", {{3, 7, 2}}, [](const auto& in) { return slice(in[0], 1, 1, 7, 2); });
  cases.add("negative bounds", {{6}}, [](const auto& in) { return slice(in[0], 0, -4, -1); });
}

PN_OP_CASES("split") {
  cases.add("3 pieces weighted", {{2, 9}}, [](const auto& in) {
    auto parts = split(in[0], {2, 3, 4}, 1);
    return concat({parts[2] * 3.0, parts[0], parts[1] * 2.0}, 1);
  });
}

PN_OP_CASES("concat") {
  cases.add("axis 0", {{2, 3}, {1, 3}}, [](const auto& in) { return concat({in[0], in[1]}, 0); });
  cases.add("channels", {{2, 2, 3}, {2, 2, 5}}, [](const auto& in) { return concat({in[1], in[0], in[1]}, -1); });
}

PN_OP_CASES("broadcast_to") {
  cases.add("3x1 to 2x3x4", {{3, 1}}, [](const auto& in) { return broadcast_to(in[0], {2, 3, 4}).contiguous(); });
}
