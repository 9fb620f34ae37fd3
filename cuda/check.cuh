// Error checks for CUDA and cuBLAS calls inside cuda/*.cu. A failure becomes a
// patchnet::Error naming the call and file:line, so the caller can catch it.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "patchnet/core/error.hpp"

#define PN_CUDA_CHECK(call)                                                                                       \
  do {                                                                                                            \
    const cudaError_t pn_err_ = (call);                                                                           \
    if (pn_err_ != cudaSuccess)                                                                                   \
      ::patchnet::fail("CUDA error in ", #call, " at ", __FILE__, ":", __LINE__, ": ", cudaGetErrorName(pn_err_), \
                       " (", cudaGetErrorString(pn_err_), ")");                                                   \
  } while (0)

// After a kernel launch: catches bad launch configurations at once.
#define PN_CUDA_CHECK_LAUNCH(kernel_name)                                                           \
  do {                                                                                              \
    const cudaError_t pn_err_ = cudaGetLastError();                                                 \
    if (pn_err_ != cudaSuccess)                                                                     \
      ::patchnet::fail("CUDA error launching ", kernel_name, " at ", __FILE__, ":", __LINE__, ": ", \
                       cudaGetErrorName(pn_err_), " (", cudaGetErrorString(pn_err_), ")");          \
  } while (0)

#define PN_CUBLAS_CHECK(call)                                                                                          \
  do {                                                                                                                 \
    const cublasStatus_t pn_st_ = (call);                                                                              \
    if (pn_st_ != CUBLAS_STATUS_SUCCESS)                                                                               \
      ::patchnet::fail("cuBLAS error in ", #call, " at ", __FILE__, ":", __LINE__, ": ", cublasGetStatusName(pn_st_)); \
  } while (0)

namespace patchnet::cuda::detail {

// patchnet's stream on the current device (cuda/runtime.cu): created once, non-blocking,
// so all patchnet work is ordered on it and a CUDA graph can capture a step.
cudaStream_t current_stream();

// A launcher's Stream: the caller's stream, or patchnet's stream when the handle is null.
inline cudaStream_t stream_of(void* handle) { return handle ? static_cast<cudaStream_t>(handle) : current_stream(); }

// Blocks of 256 threads covering n elements, capped so huge n uses a grid-stride loop.
inline unsigned grid_for(long long n, int threads = 256) {
  const long long blocks = (n + threads - 1) / threads;
  return static_cast<unsigned>(blocks < 65535LL * 16 ? (blocks > 0 ? blocks : 1) : 65535LL * 16);
}

// A block count along a grid dimension capped at 65535 (gridDim.y / .z can hold no more;
// kernels loop over what is left), at least 1. The emulator caps lower, so those loops run.
inline unsigned capped_blocks(long long blocks) {
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > 65535 ? 65535 : blocks));
}

}  // namespace patchnet::cuda::detail
