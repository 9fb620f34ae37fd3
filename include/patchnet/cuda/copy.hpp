// CUDA launchers for copies and fills (cuda/copy.cu). Instantiated for float, double,
// int32_t, int64_t and uint8_t.
#pragma once

#include <cstdint>

#include "patchnet/core/config.hpp"
#include "patchnet/cuda/launcher.hpp"

namespace patchnet::cuda {

// Layout of a strided copy; strides in elements, rank at most kMaxDims.
struct StridedCopyParams {
  int rank = 0;
  int64_t shape[kMaxDims] = {};
  int64_t src_strides[kMaxDims] = {};
  int64_t dst_strides[kMaxDims] = {};
};

namespace impl {
template <class T>
void strided_copy(const T* src, T* dst, const StridedCopyParams& p, Stream s = {});
template <class T>
void fill(T* dst, int64_t n, T value, Stream s = {});
// out[i] = a[i] + b[i]; used to accumulate gradients.
template <class T>
void add(const T* a, const T* b, T* out, int64_t n, Stream s = {});
}  // namespace impl
PN_CUDA_LAUNCHER(strided_copy)
PN_CUDA_LAUNCHER(fill)
PN_CUDA_LAUNCHER(add)

}  // namespace patchnet::cuda
