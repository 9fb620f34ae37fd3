// CUDA launcher of sum over axes (cuda/reduce.cu), float and double. The parameters are
// math::SumParams, as for the CPU kernel (cpu/reduce.hpp).
#pragma once

#include <cstdint>

#include "patchnet/cuda/launcher.hpp"
#include "patchnet/math/reduce.hpp"

namespace patchnet::cuda {

namespace impl {
// Elements of scratch memory sum_axes needs for these params (0 when none).
int64_t sum_axes_workspace(const math::SumParams& p);
// out = the sum; `workspace` holds sum_axes_workspace(p) elements (may be null when 0).
// Deterministic: the order of additions depends on the shape only, not on the GPU.
template <class T>
void sum_axes(const T* x, T* out, T* workspace, const math::SumParams& p, Stream s = {});
}  // namespace impl
PN_CUDA_FUNCTION(sum_axes_workspace)
PN_CUDA_LAUNCHER(sum_axes)

}  // namespace patchnet::cuda
