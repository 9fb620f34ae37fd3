// Op table: conv2d (every dispatch path), depthwise_conv2d, pointwise_conv2d.
#include "patchnet/ops/conv.hpp"
#include "support/op_cases.hpp"

using namespace patchnet;

namespace {
// Padding::Explicit with the given top, bottom, left, right.
Conv2dOptions explicit_pad(Pad2d pad, Hw stride = 1) {
  return {.stride = stride, .padding = Padding::Explicit, .pad = pad};
}
}  // namespace

PN_OP_CASES("conv2d") {
  // im2col path
  cases.add("3x3 valid 1x5x7x3 -> 4, bias", {{1, 5, 7, 3}, {3, 3, 3, 4}, {4}},
            [](const auto& in) { return conv2d(in[0], in[1], in[2]); });
  cases.add("3x3 same stride 1, 2x5x7x3 -> 5", {{2, 5, 7, 3}, {3, 3, 3, 5}, {5}},
            [](const auto& in) { return conv2d(in[0], in[1], in[2], {.padding = Padding::Same}); });
  // H 6: out 3, pad 0 top 1 bottom (the odd pixel); W 5: out 3, pad 1 / 1.
  cases.add("3x3 same stride 2 odd pad, 2x6x5x3 -> 7", {{2, 6, 5, 3}, {3, 3, 3, 7}, {7}},
            [](const auto& in) { return conv2d(in[0], in[1], in[2], {.stride = 2, .padding = Padding::Same}); });
  cases.add("3x3 valid stride 2, 1x7x5x5 -> 3, no bias", {{1, 7, 5, 5}, {3, 3, 5, 3}},
            [](const auto& in) { return conv2d(in[0], in[1], {}, {.stride = 2}); });
  cases.add("2x3 kernel explicit pad (1,0,2,1) stride (2,1), 1x5x7x3 -> 7", {{1, 5, 7, 3}, {2, 3, 3, 7}, {7}},
            [](const auto& in) {
              return conv2d(in[0], in[1], in[2], explicit_pad({1, 0, 2, 1}, Hw(2, 1)));
            });
  cases.add("2x3 kernel same stride 1 (odd pad right)", {{1, 5, 6, 3}, {2, 3, 3, 5}, {5}},
            [](const auto& in) { return conv2d(in[0], in[1], in[2], {.padding = Padding::Same}); });
  cases.add("groups 2, 3x3 same, 1x5x5x6 -> 4", {{1, 5, 5, 6}, {3, 3, 3, 4}, {4}},
            [](const auto& in) { return conv2d(in[0], in[1], in[2], {.padding = Padding::Same, .groups = 2}); });
  cases.add("1x1 stride 2 (im2col), 1x5x7x3 -> 5", {{1, 5, 7, 3}, {1, 1, 3, 5}, {5}},
            [](const auto& in) { return conv2d(in[0], in[1], in[2], {.stride = 2}); });
  cases.add("input a permuted view (NCHW 1x3x5x7 as NHWC)", {{1, 3, 5, 7}, {3, 3, 3, 4}, {4}}, [](const auto& in) {
    return conv2d(permute(in[0], {0, 2, 3, 1}), in[1], in[2]);
  });
  // patches path
  cases.add("patch K=S=2 valid on 1x5x7x3 -> 5 (last row/column dropped)", {{1, 5, 7, 3}, {2, 2, 3, 5}, {5}},
            [](const auto& in) { return conv2d(in[0], in[1], in[2], {.stride = 2}); });
  cases.add("patch merge K=S=2 same on 2x3x3x5 -> 7, no bias", {{2, 3, 3, 5}, {2, 2, 5, 7}},
            [](const auto& in) { return conv2d(in[0], in[1], {}, {.stride = 2, .padding = Padding::Same}); });
  cases.add("patch K=S=3 same on 1x7x5x3 -> 4", {{1, 7, 5, 3}, {3, 3, 3, 4}, {4}},
            [](const auto& in) { return conv2d(in[0], in[1], in[2], {.stride = 3, .padding = Padding::Same}); });
  // pointwise and depthwise paths
  cases.add("pointwise 1x1 2x3x5x7 -> 5", {{2, 3, 5, 7}, {1, 1, 7, 5}, {5}},
            [](const auto& in) { return conv2d(in[0], in[1], in[2]); });
  cases.add("depthwise via groups = C = 5, 3x3 same", {{2, 5, 7, 5}, {3, 3, 1, 5}, {5}},
            [](const auto& in) { return conv2d(in[0], in[1], in[2], {.padding = Padding::Same, .groups = 5}); });
}

PN_OP_CASES("depthwise_conv2d") {
  cases.add("3x3 same stride 1, 2x5x7x5", {{2, 5, 7, 5}, {3, 3, 5}, {5}},
            [](const auto& in) { return depthwise_conv2d(in[0], in[1], in[2], {.padding = Padding::Same}); });
  cases.add("5x5 same stride 1, 1x6x7x5", {{1, 6, 7, 5}, {5, 5, 5}, {5}},
            [](const auto& in) { return depthwise_conv2d(in[0], in[1], in[2], {.padding = Padding::Same}); });
  cases.add("5x5 valid stride 1, 1x7x6x5, no bias", {{1, 7, 6, 5}, {5, 5, 5}},
            [](const auto& in) { return depthwise_conv2d(in[0], in[1]); });
  // H 6, W 7 at stride 2, K 3: pads 1 (0 top, 1 bottom) and 2 (1 / 1).
  cases.add("3x3 same stride 2 odd pad, 1x6x7x5", {{1, 6, 7, 5}, {3, 3, 5}, {5}}, [](const auto& in) {
    return depthwise_conv2d(in[0], in[1], in[2], {.stride = 2, .padding = Padding::Same});
  });
  cases.add("5x5 same stride 2, 1x7x5x5", {{1, 7, 5, 5}, {5, 5, 5}, {5}}, [](const auto& in) {
    return depthwise_conv2d(in[0], in[1], in[2], {.stride = 2, .padding = Padding::Same});
  });
  cases.add("3x3 valid stride 2, 1x7x6x5", {{1, 7, 6, 5}, {3, 3, 5}, {5}},
            [](const auto& in) { return depthwise_conv2d(in[0], in[1], in[2], {.stride = 2}); });
  cases.add("2x3 explicit pad (2,1,0,3), 1x5x4x5", {{1, 5, 4, 5}, {2, 3, 5}, {5}}, [](const auto& in) {
    return depthwise_conv2d(in[0], in[1], in[2], explicit_pad({2, 1, 0, 3}));
  });
  cases.add("input a permuted view, weight a slice", {{1, 5, 6, 5}, {3, 3, 10}}, [](const auto& in) {
    return depthwise_conv2d(permute(in[0], {0, 2, 1, 3}), slice(in[1], 2, 0, 10, 2), {}, {.padding = Padding::Same});
  });
  cases.add("3x3 same, 37 channels (full register block and tail)", {{1, 3, 3, 37}, {3, 3, 37}, {37}},
            [](const auto& in) { return depthwise_conv2d(in[0], in[1], in[2], {.padding = Padding::Same}); });
}

PN_OP_CASES("pointwise_conv2d") {
  cases.add("2x3x5x7 -> 5 with bias", {{2, 3, 5, 7}, {7, 5}, {5}},
            [](const auto& in) { return pointwise_conv2d(in[0], in[1], in[2]); });
  cases.add("1x5x3x4 -> 9 no bias", {{1, 5, 3, 4}, {4, 9}},
            [](const auto& in) { return pointwise_conv2d(in[0], in[1]); });
}
