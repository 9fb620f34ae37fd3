// Op table: cross_entropy and cross_entropy_from_probs (labels are built inside each
// lambda, on the input's device; they are not differentiable inputs).
#include <cstdint>
#include <vector>

#include "patchnet/ops/activation.hpp"
#include "patchnet/ops/loss.hpp"
#include "support/op_cases.hpp"

using namespace patchnet;
using patchnet::test::CaseOptions;

namespace {
template <class T>
Tensor<int32_t> labels_like(const Tensor<T>& x, std::vector<int32_t> values) {
  const auto n = static_cast<int64_t>(values.size());
  return Tensor<int32_t>::from_vector(values, {n}).to(x.device());
}
}  // namespace

PN_OP_CASES("cross_entropy") {
  cases.add(
      "5x7", {{5, 7}},
      [](const auto& in) {
        return cross_entropy(in[0], labels_like(in[0], {0, 6, 3, 3, 1}));
      },
      CaseOptions{.ranges = {{-3, 3}}});
  cases.add("CIFAR head 4x10", {{4, 10}}, [](const auto& in) {
    return cross_entropy(in[0], labels_like(in[0], {9, 0, 4, 9}));
  });
  cases.add(
      "large logits 3x4", {{3, 4}},
      [](const auto& in) {
        return cross_entropy(in[0], labels_like(in[0], {1, 3, 0}));
      },
      CaseOptions{.ranges = {{-20, 20}}});
  cases.add("one row, two classes", {{1, 2}},
            [](const auto& in) { return cross_entropy(in[0], labels_like(in[0], {1})); });
  cases.add("scaled loss", {{3, 5}}, [](const auto& in) {
    return cross_entropy(in[0], labels_like(in[0], {4, 2, 0})) * 3.0;
  });
}

PN_OP_CASES("cross_entropy_from_probs") {
  cases.add(
      "softmax head 5x7", {{5, 7}},
      [](const auto& in) {
        return cross_entropy_from_probs(softmax(in[0]), labels_like(in[0], {0, 6, 3, 3, 1}));
      },
      CaseOptions{.ranges = {{-3, 3}}});
  cases.add(
      "unnormalised rows 4x6", {{4, 6}},
      [](const auto& in) {
        return cross_entropy_from_probs(in[0], labels_like(in[0], {5, 0, 2, 2}));
      },
      CaseOptions{.ranges = {{0.1, 1}}});
  // eps = 0.2 clips several rows (q < 0.2 or q > 0.8): their gradient is 0.
  cases.add(
      "eps 0.2 clips rows 6x3", {{6, 3}},
      [](const auto& in) {
        return cross_entropy_from_probs(softmax(in[0]), labels_like(in[0], {0, 1, 2, 0, 1, 2}), 0.2);
      },
      CaseOptions{.ranges = {{-3, 3}}});
}
