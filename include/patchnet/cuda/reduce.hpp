// CUDA launcher of sum over axes (cuda/reduce.cu), float and double.
#pragma once

#include <cstdint>

#include "patchnet/core/config.hpp"
#include "patchnet/cuda/launcher.hpp"

namespace patchnet::cuda {

// Input: packed, `shape`. reduce[d] marks summed dimensions. Output: packed, kept dims.
struct SumParams {
  int rank = 0;
  int64_t shape[kMaxDims] = {};
  bool reduce[kMaxDims] = {};
};

namespace impl {
// Elements of scratch memory sum_axes needs for these params (0 when none).
int64_t sum_axes_workspace(const SumParams& p);
// out = the sum; `workspace` holds sum_axes_workspace(p) elements (may be null when 0).
// Deterministic: the order of additions depends on the shape only, not on the GPU.
template <class T>
void sum_axes(const T* x, T* out, T* workspace, const SumParams& p, Stream s = {});
}  // namespace impl
PN_CUDA_FUNCTION(sum_axes_workspace)
PN_CUDA_LAUNCHER(sum_axes)

}  // namespace patchnet::cuda
