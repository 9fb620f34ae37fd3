// Op table: matmul and linear.
#include "patchnet/ops/matmul.hpp"
#include "support/op_cases.hpp"

using namespace patchnet;

PN_OP_CASES("matmul") {
  cases.add("2d 3x5 x 5x4", {{3, 5}, {5, 4}}, [](const auto& in) { return matmul(in[0], in[1]); });
  cases.add("leading dims 2x3x5 x 5x3", {{2, 3, 5}, {5, 3}}, [](const auto& in) { return matmul(in[0], in[1]); });
  cases.add("batched 2x3x4 x 2x4x5", {{2, 3, 4}, {2, 4, 5}}, [](const auto& in) { return matmul(in[0], in[1]); });
  cases.add("transposed view operand", {{5, 3}, {5, 4}},
            [](const auto& in) { return matmul(transpose(in[0], 0, 1), in[1]); });
}

PN_OP_CASES("linear") {
  cases.add("NHWC tokens 2x3x3x5 -> 7 with bias", {{2, 3, 3, 5}, {5, 7}, {7}},
            [](const auto& in) { return linear(in[0], in[1], in[2]); });
  cases.add("no bias", {{4, 6}, {6, 3}}, [](const auto& in) { return linear(in[0], in[1]); });
}
