// CUDA launchers of dropout and drop path (cuda/dropout.cu), float and double. The keep
// decisions are math/dropout.hpp's, the functions the CPU path calls, so a (seed, base)
// keeps the same elements on both devices. Arrays are packed; launchers write their
// output (no accumulation).
#pragma once

#include <cstdint>

#include "patchnet/cuda/launcher.hpp"
#include "patchnet/math/dropout.hpp"

namespace patchnet::cuda {

using math::DropoutParams;

namespace impl {
// y[i] = x[i] * (kept(i) ? scale : 0); the same map is dropout's backward (gy -> gx).
template <class T>
void dropout_apply(const T* x, T* y, int64_t n, const DropoutParams& p, Stream s = {});

// factor[r] = kept(r) ? scale : 0 for the N samples of a drop-path draw.
template <class T>
void drop_path_factors(T* factor, int64_t N, uint64_t seed, uint64_t base, uint32_t threshold, T scale, Stream s = {});

// y[r, :] = x[r, :] * factor[r] over rows of row_len elements (drop path forward and
// backward).
template <class T>
void scale_rows(const T* x, const T* factor, T* y, int64_t rows, int64_t row_len, Stream s = {});
}  // namespace impl
PN_CUDA_LAUNCHER(dropout_apply)
PN_CUDA_LAUNCHER(drop_path_factors)
PN_CUDA_LAUNCHER(scale_rows)

}  // namespace patchnet::cuda
