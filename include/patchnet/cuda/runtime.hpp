// CUDA runtime launcher API: memory, copies, streams, device queries.
//
// Public headers never include CUDA headers; these declarations are defined in
// cuda/runtime.cu, compiled into patchnet::cuda. That target defines PATCHNET_WITH_CUDA;
// without it, touching a CUDA tensor throws patchnet::Error instead of failing to link.
#pragma once

#include <cstddef>

#include "patchnet/core/error.hpp"

namespace patchnet::cuda {

// A CUDA stream, opaque here (cudaStream_t). A null handle is the per-device default
// stream that patchnet uses for all its work.
struct Stream {
  void* handle = nullptr;
};

#ifdef PATCHNET_WITH_CUDA
inline constexpr bool kBuilt = true;
#else
inline constexpr bool kBuilt = false;
#endif

// Number of usable CUDA devices; 0 when there is no GPU or no driver (never throws).
int device_count() noexcept;
// Driver's name of the device, e.g. "NVIDIA H100 80GB HBM3".
const char* device_name(int device);
void* device_malloc(std::size_t bytes, int device);
void device_free(void* ptr, int device) noexcept;
void copy_host_to_device(void* dst, const void* src, std::size_t bytes, int device, Stream s = {});
void copy_device_to_host(void* dst, const void* src, std::size_t bytes, int device, Stream s = {});
void copy_device_to_device(void* dst, const void* src, std::size_t bytes, int device, Stream s = {});
// Sets every byte to `value` (0 for zeros, 0xFF for the NaN poison of tests).
void memset_bytes(void* dst, int value, std::size_t bytes, int device, Stream s = {});
void synchronize(int device);

// The error for using a CUDA tensor in a build without patchnet::cuda.
[[noreturn]] inline void unavailable(const char* op) {
  fail(op, ": this program was built without CUDA support; link patchnet::cuda "
           "(configure with -DPATCHNET_CUDA=ON where nvcc is installed)");
}

}  // namespace patchnet::cuda

// PN_CUDA(op, call) runs a launcher call when CUDA is built in, else throws naming op.
#ifdef PATCHNET_WITH_CUDA
#define PN_CUDA(op, ...) __VA_ARGS__
#else
#define PN_CUDA(op, ...) ::patchnet::cuda::unavailable(op)
#endif
