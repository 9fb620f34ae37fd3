// Storage: one owned, typed buffer on one device. Tensors share it through shared_ptr,
// so views and copies of a Tensor handle alias the same memory.
#pragma once

#include <cstddef>
#include <cstring>
#include <limits>
#include <memory>
#include <new>

#include "patchnet/core/allocator.hpp"
#include "patchnet/core/device.hpp"
#include "patchnet/core/error.hpp"
#include "patchnet/cuda/runtime.hpp"

namespace patchnet {

// When set, new storage is filled with 0xFF bytes (NaN for floats) instead of being left
// uninitialised, so a kernel that misses an output element shows it. Tests turn it on.
inline bool& poison_new_storage() {
  static bool on = false;
  return on;
}

template <class T>
class Storage {
 public:
  // Uninitialised storage for n elements on the device.
  static std::shared_ptr<Storage> allocate(std::size_t n, Device device) {
    auto s = std::shared_ptr<Storage>(new Storage());
    s->n_ = n;
    s->device_ = device;
    PN_CHECK(n <= std::numeric_limits<std::size_t>::max() / sizeof(T) / 2, "Storage::allocate: ", n, " elements of ",
             sizeof(T), " bytes are more than any machine can address");
    const std::size_t bytes = (n ? n : 1) * sizeof(T);
    if (device.is_cpu()) {
      try {
        s->ptr_ = static_cast<T*>(host_alloc(bytes));  // 64-byte aligned at least
      } catch (const std::bad_alloc&) {
        fail("Storage::allocate: out of host memory allocating ", bytes, " bytes (", n, " elements)");
      }
      if (poison_new_storage()) std::memset(s->ptr_, 0xFF, bytes);
    } else {
      PN_CUDA("Storage::allocate", s->ptr_ = static_cast<T*>(cuda::device_malloc(bytes, device.index)));
      if (poison_new_storage()) PN_CUDA("Storage::allocate", cuda::memset_bytes(s->ptr_, 0xFF, bytes, device.index));
    }
    return s;
  }

  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  ~Storage() {
    if (!ptr_) return;
    if (device_.is_cpu()) {
      host_free(ptr_, (n_ ? n_ : 1) * sizeof(T));
    } else {
      cuda::device_free(ptr_, device_.index);  // allocated there, so patchnet::cuda is linked
    }
  }

  T* data() const { return ptr_; }
  std::size_t size() const { return n_; }
  std::size_t bytes() const { return n_ * sizeof(T); }
  Device device() const { return device_; }

 private:
  Storage() = default;
  T* ptr_ = nullptr;
  std::size_t n_ = 0;
  Device device_;
};

}  // namespace patchnet
