// CUDA launcher of sum over axes (cuda/reduce.cu), float and double.
#pragma once

#include <cstdint>

#include "patchnet/core/config.hpp"
#include "patchnet/cuda/runtime.hpp"

namespace patchnet::cuda {

// Input: packed, `shape`. reduce[d] marks summed dimensions. Output: packed, kept dims.
struct SumParams {
  int rank = 0;
  int64_t shape[kMaxDims] = {};
  bool reduce[kMaxDims] = {};
};

template <class T>
void sum_axes(const T* x, T* out, const SumParams& p, Stream s = {});

}  // namespace patchnet::cuda
