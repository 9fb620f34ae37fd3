// Host memory for tensors. Small buffers come from the C++ heap. Large ones (1 MiB and
// up, plus room for a colour offset, below) are rounded to 2 MiB, asked for as transparent
// huge pages, and kept on a free list when released, so a training step that allocates the
// same activation sizes every iteration reuses warm memory instead of faulting in fresh
// pages: on the VMs we measured, first-touching 32 MiB costs 70-90 ms, reusing it 1.5 ms
// (docs/performance.md).
//
// Cached blocks are returned to the system by empty_host_cache(), or when the cache
// would grow past host_cache_limit() bytes. host_memory_stats() counts what tensors hold,
// its peak, and the large blocks taken from the system (relaxed atomics: a few ns each).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace patchnet {

// Host memory counters since the start of the program (host_memory_stats()).
struct HostMemoryStats {
  std::size_t system_allocs = 0;         // large blocks obtained from the system (cache misses)
  std::size_t small_allocs = 0;          // buffers under 1 MiB, from the C++ heap
  std::size_t allocated_bytes = 0;       // in tensors now (large blocks rounded to 2 MiB)
  std::size_t peak_allocated_bytes = 0;  // the most allocated_bytes has been
};

namespace detail {
struct HostCounters {
  std::atomic<std::size_t> system_allocs{0}, small_allocs{0}, allocated{0}, peak{0};
  void add(std::size_t bytes) {
    const std::size_t now = allocated.fetch_add(bytes, std::memory_order_relaxed) + bytes;
    std::size_t p = peak.load(std::memory_order_relaxed);
    while (now > p && !peak.compare_exchange_weak(p, now, std::memory_order_relaxed)) {}
  }
};
inline HostCounters& host_counters() {
  static HostCounters c;
  return c;
}
struct HostCache {
  std::mutex mu;
  std::unordered_map<std::size_t, std::vector<void*>> free_blocks;  // by rounded size
  std::size_t cached_bytes = 0;
  std::size_t limit = std::size_t(8) << 30;
};
inline HostCache& host_cache() {
  static HostCache* cache = new HostCache();  // never destroyed: tensors may outlive statics
  return *cache;
}
inline constexpr std::size_t kLargeBlock = std::size_t(1) << 20;
inline constexpr std::size_t kHugePage = std::size_t(2) << 20;
inline constexpr std::size_t kSmallAlign = 64;
// Large blocks start 2 MiB-aligned, so without care every large tensor would start at the
// same offset in its page and its cache sets: a kernel streaming four of them (Adam's p, m,
// v and g) then loses most of its time to 4K aliasing and set conflicts (measured: Adam over
// 11.7M floats, 319 ms with aligned arrays, 32 ms with staggered ones; docs/performance.md).
// So each block hands out its memory at one of kColors offsets, 4 KiB + 64 B apart (distinct
// low 12 bits, distinct cache lines), taken in turn; the block's base stays 2 MiB-aligned
// (huge pages) and is found from the pointer by rounding down.
inline constexpr std::size_t kColors = 32, kColorStride = 4096 + 64;
inline constexpr std::size_t kColorReserve = kColors * kColorStride;
inline std::size_t large_block_size(std::size_t bytes) {
  return (bytes + kColorReserve + kHugePage - 1) / kHugePage * kHugePage;
}
inline void* colored(void* base) {
  static std::atomic<std::size_t> next{0};
  return static_cast<char*>(base) + next.fetch_add(1, std::memory_order_relaxed) % kColors * kColorStride;
}
inline void* block_base(void* p) {
  return reinterpret_cast<void*>(reinterpret_cast<std::uintptr_t>(p) & ~(std::uintptr_t(kHugePage) - 1));
}
}  // namespace detail

inline void* host_alloc(std::size_t bytes) {
  auto& counters = detail::host_counters();
  if (bytes < detail::kLargeBlock) {
    void* p = ::operator new(bytes, std::align_val_t(detail::kSmallAlign));
    counters.small_allocs.fetch_add(1, std::memory_order_relaxed);
    counters.add(bytes);
    return p;
  }
  const std::size_t size = detail::large_block_size(bytes);
  auto& c = detail::host_cache();
  {
    std::lock_guard<std::mutex> lock(c.mu);
    auto it = c.free_blocks.find(size);
    if (it != c.free_blocks.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      c.cached_bytes -= size;
      counters.add(size);
      return detail::colored(p);
    }
  }
  void* p = std::aligned_alloc(detail::kHugePage, size);
  if (!p) throw std::bad_alloc();
  counters.system_allocs.fetch_add(1, std::memory_order_relaxed);
  counters.add(size);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  madvise(p, size, MADV_HUGEPAGE);  // a hint: fewer page faults on first touch
#endif
  return detail::colored(p);
}

inline void host_free(void* p, std::size_t bytes) noexcept {
  if (!p) return;
  if (bytes < detail::kLargeBlock) {
    ::operator delete(p, std::align_val_t(detail::kSmallAlign));
    detail::host_counters().allocated.fetch_sub(bytes, std::memory_order_relaxed);
    return;
  }
  const std::size_t size = detail::large_block_size(bytes);
  p = detail::block_base(p);
  detail::host_counters().allocated.fetch_sub(size, std::memory_order_relaxed);
  auto& c = detail::host_cache();
  std::lock_guard<std::mutex> lock(c.mu);
  if (c.cached_bytes + size > c.limit) {
    std::free(p);
    return;
  }
  try {
    c.free_blocks[size].push_back(p);
    c.cached_bytes += size;
  } catch (...) {
    std::free(p);
  }
}

inline HostMemoryStats host_memory_stats() {
  const auto& c = detail::host_counters();
  return {c.system_allocs.load(), c.small_allocs.load(), c.allocated.load(), c.peak.load()};
}

// Starts a new peak from what tensors hold now (to measure one phase of a program).
inline void reset_host_memory_peak() {
  auto& c = detail::host_counters();
  c.peak.store(c.allocated.load(std::memory_order_relaxed), std::memory_order_relaxed);
}

// Bytes held in the cache, free for reuse.
inline std::size_t host_cache_bytes() {
  auto& c = detail::host_cache();
  std::lock_guard<std::mutex> lock(c.mu);
  return c.cached_bytes;
}

inline void set_host_cache_limit(std::size_t bytes) {
  auto& c = detail::host_cache();
  std::lock_guard<std::mutex> lock(c.mu);
  c.limit = bytes;
}

// Returns every cached block to the system.
inline void empty_host_cache() {
  auto& c = detail::host_cache();
  std::lock_guard<std::mutex> lock(c.mu);
  for (auto& [size, blocks] : c.free_blocks)
    for (void* p : blocks) std::free(p);
  c.free_blocks.clear();
  c.cached_bytes = 0;
}

}  // namespace patchnet
