// The emulated device's memory: the registry of live device allocations, shared by the
// emulated runtime (runtime_api.hpp) and the emulated NCCL (nccl/nccl.h), so each can tell a
// device pointer from a host one.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>

namespace emu {

// Live device allocations: start -> bytes.
struct DeviceMemory {
  std::mutex mu;
  std::map<uintptr_t, std::size_t> blocks;
  std::size_t bytes = 0;
  std::size_t limit = std::size_t(4) << 30;  // an emulated device of 4 GiB: larger requests fail as on a GPU
};
inline DeviceMemory& device_memory() {
  static DeviceMemory* m = new DeviceMemory();  // never destroyed: tensors may outlive static destructors
  return *m;
}
// Kernel arguments are checked once the emulated runtime is in use (the t_*.cpp harnesses
// pass host vectors as device memory and leave it off).
inline bool g_check_pointers = false;

// Whether [p, p + bytes) lies inside one device allocation (null with 0 bytes passes).
inline bool is_device(const void* p, std::size_t bytes = 1) {
  if (!p) return bytes == 0;
  DeviceMemory& m = device_memory();
  std::lock_guard<std::mutex> lock(m.mu);
  const auto a = reinterpret_cast<uintptr_t>(p);
  auto it = m.blocks.upper_bound(a);
  if (it == m.blocks.begin()) return false;
  --it;
  return a + bytes <= it->first + it->second;
}

}  // namespace emu
