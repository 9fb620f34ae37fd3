// Op table: max_pool2d, avg_pool2d (valid / TensorFlow same, stride 1 and 2, odd sizes,
// C = 3 and 5) and global_avg_pool.
#include "patchnet/ops/pool.hpp"
#include "support/op_cases.hpp"

using namespace patchnet;

PN_OP_CASES("max_pool2d") {
  cases.add("2x2 valid 2x4x6x3", {{2, 4, 6, 3}}, [](const auto& in) { return max_pool2d(in[0]); });
  cases.add("2x2 valid odd 5x7 drops last row and column, C=5", {{1, 5, 7, 5}},
            [](const auto& in) { return max_pool2d(in[0]); });
  cases.add("3x3 stride 2 same on 5x7, C=3", {{2, 5, 7, 3}},
            [](const auto& in) { return max_pool2d(in[0], {.pool = 3, .stride = 2, .padding = Padding::Same}); });
  cases.add("2x2 same on 5x5 (odd pixel bottom/right)", {{1, 5, 5, 3}},
            [](const auto& in) { return max_pool2d(in[0], {.pool = 2, .padding = Padding::Same}); });
  cases.add("3x3 stride 1 valid overlapping, C=5", {{1, 5, 6, 5}},
            [](const auto& in) { return max_pool2d(in[0], {.pool = 3, .stride = 1}); });
  cases.add("3x2 stride (1,2) same, C=3", {{2, 4, 5, 3}}, [](const auto& in) {
    return max_pool2d(in[0], {.pool = Hw(3, 2), .stride = Hw(1, 2), .padding = Padding::Same});
  });
}

PN_OP_CASES("avg_pool2d") {
  cases.add("2x2 valid 2x4x6x3", {{2, 4, 6, 3}}, [](const auto& in) { return avg_pool2d(in[0]); });
  cases.add("2x2 valid odd 5x7, C=5", {{1, 5, 7, 5}}, [](const auto& in) { return avg_pool2d(in[0]); });
  cases.add("3x3 stride 2 same on 5x7, C=3", {{2, 5, 7, 3}},
            [](const auto& in) { return avg_pool2d(in[0], {.pool = 3, .stride = 2, .padding = Padding::Same}); });
  cases.add("2x2 same on 5x5 (odd pixel bottom/right), C=5", {{1, 5, 5, 5}},
            [](const auto& in) { return avg_pool2d(in[0], {.pool = 2, .padding = Padding::Same}); });
  cases.add("3x3 stride 1 same overlapping, C=3", {{1, 4, 5, 3}},
            [](const auto& in) { return avg_pool2d(in[0], {.pool = 3, .stride = 1, .padding = Padding::Same}); });
  cases.add("of a permuted view", {{3, 2, 4, 4}}, [](const auto& in) {
    return avg_pool2d(permute(in[0], {1, 2, 3, 0}));
  });
}

PN_OP_CASES("global_avg_pool") {
  cases.add("2x3x5x7", {{2, 3, 5, 7}}, [](const auto& in) { return global_avg_pool(in[0]); });
  cases.add("1x1 image, C=5", {{3, 1, 1, 5}}, [](const auto& in) { return global_avg_pool(in[0]); });
}
