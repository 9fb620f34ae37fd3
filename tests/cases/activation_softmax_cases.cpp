// Op table: softmax and log_softmax (CPU: cpu/activation.hpp; CUDA: cuda/softmax.cu). The GPU
// suite runs these rows against the CPU through its generated unit, as for every cases file
// (tests/CMakeLists.txt, "cuda: softmax"); tests/gpu/softmax_gpu.cpp adds realistic shapes.
#include "patchnet/ops/activation.hpp"
#include "support/op_cases.hpp"

using namespace patchnet;
using patchnet::test::CaseOptions;

PN_OP_CASES("softmax") {
  const CaseOptions wide{.ranges = {{-3, 3}}};
  cases.add(
      "last axis 3x7", {{3, 7}}, [](const auto& in) { return softmax(in[0]); }, wide);
  cases.add(
      "axis 1 of 2x5x3", {{2, 5, 3}}, [](const auto& in) { return softmax(in[0], 1); }, wide);
  cases.add(
      "axis 0 of 4x3", {{4, 3}}, [](const auto& in) { return softmax(in[0], 0); }, wide);
  cases.add(
      "axis -2 of NHWC 2x3x4x5", {{2, 3, 4, 5}}, [](const auto& in) { return softmax(in[0], -2); }, wide);
  cases.add(
      "of a transposed view", {{5, 4}}, [](const auto& in) { return softmax(transpose(in[0], 0, 1)); }, wide);
  cases.add(
      "length-1 axis", {{3, 1, 2}}, [](const auto& in) { return softmax(in[0], 1); }, wide);
}

PN_OP_CASES("log_softmax") {
  const CaseOptions wide{.ranges = {{-3, 3}}};
  cases.add(
      "last axis 3x7", {{3, 7}}, [](const auto& in) { return log_softmax(in[0]); }, wide);
  cases.add(
      "axis 1 of 2x5x3", {{2, 5, 3}}, [](const auto& in) { return log_softmax(in[0], 1); }, wide);
  cases.add(
      "axis 0 of 4x3", {{4, 3}}, [](const auto& in) { return log_softmax(in[0], 0); }, wide);
  cases.add(
      "of a transposed view", {{5, 4}}, [](const auto& in) { return log_softmax(transpose(in[0], 0, 1), -1); }, wide);
}
