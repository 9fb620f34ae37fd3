// CUDA runtime launcher API: memory, copies, streams, device queries.
//
// Public headers never include CUDA headers; these declarations are defined in
// cuda/runtime.cu, compiled into patchnet::cuda. That target defines PATCHNET_WITH_CUDA;
// without it, touching a CUDA tensor throws patchnet::Error instead of failing to link.
#pragma once

#include <cstddef>

#include "patchnet/core/error.hpp"

namespace patchnet::cuda {

// A CUDA stream, opaque here (cudaStream_t). A null handle means patchnet's own stream on
// the current device (created once, non-blocking), where all patchnet work is queued.
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
// Makes `device` the current one (kernels run on the current device); throws naming the
// devices there are when it does not exist.
void set_device(int device);

// Device memory comes from a caching allocator (cuda/allocator.cu): freed blocks are kept
// in size classes and handed out again, so a training step that allocates the same sizes
// every iteration calls cudaMalloc only in its first step. All patchnet work runs on one
// stream per device, so a block freed by the host and reused by the next kernel is
// ordered after the kernels that used it: no events, no synchronisation.
void* device_malloc(std::size_t bytes, int device);
void device_free(void* ptr, int device) noexcept;

struct MemoryStats {
  std::size_t malloc_calls = 0;     // cudaMalloc calls so far (cache misses)
  std::size_t allocated_bytes = 0;  // in tensors now (rounded to size classes)
  std::size_t peak_allocated_bytes = 0;
  std::size_t reserved_bytes = 0;   // obtained from cudaMalloc: allocated + cached
  std::size_t cached_bytes = 0;     // free blocks kept for reuse
};
MemoryStats memory_stats(int device);
// Waits for the device, then returns every cached block to the driver.
void empty_cache(int device);

// Host -> device copies go through a ring of pinned staging buffers: the source is copied
// into a pinned slot and the transfer is queued on the stream, so the call returns without
// waiting for the GPU and the caller may reuse `src` at once. A slot is reused only after
// its previous transfer has finished (an event per slot).
void copy_host_to_device(void* dst, const void* src, std::size_t bytes, int device, Stream s = {});
// Waits for the transfer: the caller reads dst next.
void copy_device_to_host(void* dst, const void* src, std::size_t bytes, int device, Stream s = {});
void copy_device_to_device(void* dst, const void* src, std::size_t bytes, int device, Stream s = {});
// Sets every byte to `value` (0 for zeros, 0xFF for the NaN poison of tests).
void memset_bytes(void* dst, int value, std::size_t bytes, int device, Stream s = {});
// Waits until all work queued on the device has finished.
void synchronize(int device);
// patchnet's stream on the device, for callers that want to enqueue their own work on it.
Stream stream(int device);

// A point in patchnet's stream (a CUDA event), so results of one training step can be read
// while the next step runs: record a marker after queuing a step, queue the next step,
// then copy_device_to_host_after(marker, ...) waits only for the work before the marker
// (the copy runs on a side stream). Markers come from a pool; release each once.
struct Marker {
  void* handle = nullptr;
  int device = 0;
};
Marker record_marker(int device);
void copy_device_to_host_after(const Marker& m, void* dst, const void* src, std::size_t bytes);
void release_marker(const Marker& m) noexcept;

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
