// The parameters of a sum over axes, shared by the CPU kernel (cpu/reduce.hpp) and the CUDA
// launcher (cuda/reduce.hpp): a packed input of `rank` dimensions, shape[d] its sizes and
// reduce[d] whether dimension d is summed. The output is packed over the kept dimensions.
// Plain arrays (no Shape), so the CUDA kernels take it by value.
#pragma once

#include <cstdint>

#include "patchnet/core/config.hpp"

namespace patchnet::math {

struct SumParams {
  int rank = 0;
  int64_t shape[kMaxDims] = {};
  bool reduce[kMaxDims] = {};
};

}  // namespace patchnet::math
