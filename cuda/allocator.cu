// The caching device allocator behind Storage (declared in cuda/runtime.hpp).
//
// Sizes are rounded up to a size class: multiples of 512 B up to 64 KiB, then four
// classes per power of two (at most 25% waste), and multiples of 2 MiB from 32 MiB up.
// A free keeps the block on its class's list; the next request of that class takes it.
// Blocks are never split or merged (PyTorch does; our steps repeat the same sizes, so
// exact classes reach a steady state after one step without the bookkeeping).
//
// Safety without events: every kernel and copy patchnet issues goes to the device's one
// stream, so work queued after a block is handed out again runs after all earlier work
// that used it. Work a user queues on another stream must not outlive its tensors.
//
// When cudaMalloc fails, the cache is emptied (after a device synchronisation) and the
// call retried once; a second failure throws patchnet::Error and leaves the process usable.
#include <mutex>
#include <unordered_map>
#include <vector>

#include "check.cuh"
#include "patchnet/cuda/runtime.hpp"

namespace patchnet::cuda {
namespace {

constexpr int kMaxDevices = 64;

struct DeviceCache {
  std::unordered_map<std::size_t, std::vector<void*>> free_blocks;  // by size class
  std::unordered_map<void*, std::size_t> live;                      // handed-out block -> class
  MemoryStats stats;
};

struct Cache {
  std::mutex mu;
  DeviceCache devices[kMaxDevices];
};

Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: tensors may outlive static destructors
  return *c;
}

std::size_t size_class(std::size_t bytes) {
  constexpr std::size_t kSmall = 512, kMid = std::size_t(64) << 10, kLarge = std::size_t(32) << 20,
                        kHuge = std::size_t(2) << 20;
  if (bytes == 0) bytes = 1;
  if (bytes <= kMid) return (bytes + kSmall - 1) / kSmall * kSmall;
  if (bytes >= kLarge) return (bytes + kHuge - 1) / kHuge * kHuge;
  std::size_t pow2 = kMid;
  while (pow2 * 2 < bytes) pow2 *= 2;  // pow2 < bytes <= 2 * pow2
  const std::size_t step = pow2 / 4;
  return (bytes + step - 1) / step * step;
}

void check_device(int device, const char* what) {
  PN_CHECK(device >= 0 && device < kMaxDevices, what, ": device index ", device, " out of range");
}

// Frees every cached block of the device; the caller holds the lock.
void release_cached(DeviceCache& d) {
  for (auto& [size, blocks] : d.free_blocks)
    for (void* p : blocks) {
      cudaFree(p);
      d.stats.reserved_bytes -= size;
    }
  d.free_blocks.clear();
  d.stats.cached_bytes = 0;
}

}  // namespace

namespace impl {

void* device_malloc(std::size_t bytes, int device) {
  check_device(device, "cuda::device_malloc");
  const std::size_t size = size_class(bytes);
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  DeviceCache& d = c.devices[device];
  void* p = nullptr;
  auto it = d.free_blocks.find(size);
  if (it != d.free_blocks.end() && !it->second.empty()) {
    p = it->second.back();
    it->second.pop_back();
    d.stats.cached_bytes -= size;
  } else {
    PN_CUDA_CHECK(cudaSetDevice(device));
    cudaError_t err = cudaMalloc(&p, size);
    if (err == cudaErrorMemoryAllocation) {
      cudaGetLastError();  // out of memory is not sticky
      PN_CUDA_CHECK(cudaDeviceSynchronize());
      release_cached(d);
      err = cudaMalloc(&p, size);
    }
    if (err != cudaSuccess) {
      cudaGetLastError();
      fail("cudaMalloc of ", size, " bytes on cuda:", device, " failed: ", cudaGetErrorName(err), " (",
           cudaGetErrorString(err), "); ", d.stats.allocated_bytes, " bytes are in use by tensors");
    }
    ++d.stats.malloc_calls;
    d.stats.reserved_bytes += size;
  }
  d.live[p] = size;
  d.stats.allocated_bytes += size;
  if (d.stats.allocated_bytes > d.stats.peak_allocated_bytes) d.stats.peak_allocated_bytes = d.stats.allocated_bytes;
  return p;
}

void device_free(void* ptr, int device) noexcept {
  if (!ptr || device < 0 || device >= kMaxDevices) return;
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  DeviceCache& d = c.devices[device];
  auto it = d.live.find(ptr);
  if (it == d.live.end()) return;  // not ours: never hand a foreign pointer out again
  const std::size_t size = it->second;
  d.live.erase(it);
  d.stats.allocated_bytes -= size;
  try {
    d.free_blocks[size].push_back(ptr);
    d.stats.cached_bytes += size;
  } catch (...) {  // no memory for the list: give the block back instead
    cudaSetDevice(device);
    cudaFree(ptr);
    d.stats.reserved_bytes -= size;
  }
}

MemoryStats memory_stats(int device) {
  check_device(device, "cuda::memory_stats");
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  return c.devices[device].stats;
}

void empty_cache(int device) {
  check_device(device, "cuda::empty_cache");
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  PN_CUDA_CHECK(cudaSetDevice(device));
  PN_CUDA_CHECK(cudaDeviceSynchronize());
  release_cached(c.devices[device]);
}

}  // namespace impl

PN_CUDA_REGISTER_FUNCTION(device_malloc);
PN_CUDA_REGISTER_FUNCTION(device_free);
PN_CUDA_REGISTER_FUNCTION(memory_stats);
PN_CUDA_REGISTER_FUNCTION(empty_cache);

}  // namespace patchnet::cuda
