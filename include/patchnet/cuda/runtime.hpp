// CUDA runtime API: memory, copies, streams, device queries.
//
// Public headers never include CUDA headers. These functions are defined in
// cuda/runtime.cu and cuda/allocator.cu, compiled into patchnet::cuda, and reached through
// the slots of cuda/launcher.hpp: in a program that does not link patchnet::cuda, touching
// a CUDA tensor throws patchnet::Error instead of failing to link, and every translation
// unit compiles the same code.
#pragma once

#include <cstddef>

#include "patchnet/core/error.hpp"
#include "patchnet/cuda/launcher.hpp"

namespace patchnet::cuda {

// Structs of the signatures below.
struct MemoryStats {
  std::size_t malloc_calls = 0;     // cudaMalloc calls so far (cache misses)
  std::size_t allocated_bytes = 0;  // in tensors now (rounded to size classes)
  std::size_t peak_allocated_bytes = 0;
  std::size_t reserved_bytes = 0;  // obtained from cudaMalloc: allocated + cached
  std::size_t cached_bytes = 0;    // free blocks kept for reuse
};
// A point in patchnet's stream (a CUDA event), so results of one training step can be read
// while the next step runs: record a marker after queuing a step, queue the next step,
// then copy_device_to_host_after(marker, ...) waits only for the work before the marker
// (the copy runs on a side stream). Markers come from a pool; release each once.
struct Marker {
  void* handle = nullptr;
  int device = 0;
};

namespace impl {
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

Marker record_marker(int device);
void copy_device_to_host_after(const Marker& m, void* dst, const void* src, std::size_t bytes);
void release_marker(const Marker& m) noexcept;
}  // namespace impl

PN_CUDA_FUNCTION(device_name)
PN_CUDA_FUNCTION(set_device)
PN_CUDA_FUNCTION(device_malloc)
PN_CUDA_FUNCTION(device_free)
PN_CUDA_FUNCTION(memory_stats)
PN_CUDA_FUNCTION(empty_cache)
PN_CUDA_FUNCTION(copy_host_to_device)
PN_CUDA_FUNCTION(copy_device_to_host)
PN_CUDA_FUNCTION(copy_device_to_device)
PN_CUDA_FUNCTION(memset_bytes)
PN_CUDA_FUNCTION(synchronize)
PN_CUDA_FUNCTION(stream)
PN_CUDA_FUNCTION(record_marker)
PN_CUDA_FUNCTION(copy_device_to_host_after)
PN_CUDA_FUNCTION(release_marker)

namespace slot {
struct device_count {
  static inline decltype(&impl::device_count) fn = nullptr;
};
}  // namespace slot

// Whether this program links patchnet::cuda (its launchers are registered). The same
// answer in every translation unit, unlike an #ifdef.
inline bool linked() noexcept { return slot::device_malloc::fn != nullptr; }

// Number of usable CUDA devices: 0 without a GPU, a driver, or patchnet::cuda; never throws.
inline int device_count() noexcept { return slot::device_count::fn ? slot::device_count::fn() : 0; }

}  // namespace patchnet::cuda

// PN_CUDA(op, call) makes a launcher call, throwing naming op when the program does not link
// patchnet::cuda. The same expansion in every translation unit (see cuda/launcher.hpp).
#define PN_CUDA(op, ...) ((::patchnet::cuda::linked() ? void() : ::patchnet::cuda::unavailable(op)), __VA_ARGS__)
