// Op table: channel_shift (ShiftViT).
#include "patchnet/ops/channel_shift.hpp"
#include "support/op_cases.hpp"

using namespace patchnet;

PN_OP_CASES("channel_shift") {
  cases.add("C=10 g=2 shift 1 on odd 5x7", {{1, 5, 7, 10}}, [](const auto& in) { return channel_shift(in[0], 2, 1); });
  cases.add("C=10 g=2 shift 2 on odd 5x7", {{1, 5, 7, 10}}, [](const auto& in) { return channel_shift(in[0], 2, 2); });
  cases.add("batch 2, C=7 g=1 (3 channels unshifted)", {{2, 3, 4, 7}},
            [](const auto& in) { return channel_shift(in[0], 1, 1); });
  cases.add("4g = C, shift 2 on 3x3", {{2, 3, 3, 8}}, [](const auto& in) { return channel_shift(in[0], 2, 2); });
  cases.add("shift >= W zeroes the horizontal groups", {{1, 4, 2, 9}},
            [](const auto& in) { return channel_shift(in[0], 2, 3); });
  cases.add("g=0 is the identity", {{1, 3, 5, 6}}, [](const auto& in) { return channel_shift(in[0], 0, 1); });
  cases.add("of a permuted (non-contiguous) view", {{1, 6, 4, 5}}, [](const auto& in) {
    return channel_shift(permute(in[0], {0, 2, 3, 1}), 1, 1);
  });
}
