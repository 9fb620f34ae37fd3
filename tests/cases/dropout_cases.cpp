// Op table: dropout and drop_path in training. Each lambda re-creates its generator with
// a fixed seed, so every evaluation of the gradcheck draws the same mask.
#include "patchnet/ops/dropout.hpp"
#include "support/op_cases.hpp"

using namespace patchnet;

PN_OP_CASES("dropout") {
  // 105 elements: one 64-element Philox group plus the scalar tail.
  cases.add("p 0.3 on 3x5x7", {{3, 5, 7}}, [](const auto& in) {
    Generator gen(1234);
    return dropout(in[0], 0.3, true, gen);
  });
  cases.add("p 0.5 on a transposed view 13x11", {{13, 11}}, [](const auto& in) {
    Generator gen(99);
    gen.set_offset(7);
    return dropout(transpose(in[0], 0, 1), 0.5, true, gen);
  });
  cases.add("eval is the identity", {{4, 6}}, [](const auto& in) {
    Generator gen(5);
    return dropout(in[0], 0.5, false, gen) * 2.0;
  });
}

PN_OP_CASES("drop_path") {
  cases.add("p 0.5 on NHWC 6x3x3x5", {{6, 3, 3, 5}}, [](const auto& in) {
    Generator gen(42);
    return drop_path(in[0], 0.5, true, gen);
  });
  cases.add("p 0.2 on tokens 9x7", {{9, 7}}, [](const auto& in) {
    Generator gen(7);
    return drop_path(in[0], 0.2, true, gen);
  });
  cases.add("eval is the identity", {{3, 4}}, [](const auto& in) {
    Generator gen(5);
    return drop_path(in[0], 0.5, false, gen) * 2.0;
  });
}
