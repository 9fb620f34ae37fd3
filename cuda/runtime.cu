// Device queries, streams and copies for patchnet::cuda (declared in cuda/runtime.hpp).
// Memory is cuda/allocator.cu's.
#include <cstring>
#include <mutex>
#include <vector>

#include "check.cuh"
#include "patchnet/cuda/runtime.hpp"

namespace patchnet::cuda {
namespace {

constexpr int kMaxDevices = 64;

// Pinned staging for host -> device copies: kSlots buffers of kSlotBytes per device.
constexpr int kSlots = 4;
constexpr std::size_t kSlotBytes = std::size_t(4) << 20;

struct Staging {
  std::mutex mu;
  void* buffer[kSlots] = {};
  cudaEvent_t done[kSlots] = {};
  int next = 0;
};

Staging& staging(int device) {
  static Staging* s = new Staging[kMaxDevices];  // never destroyed (used from destructors)
  return s[device];
}

void check_device(int device, const char* what) {
  PN_CHECK(device >= 0 && device < kMaxDevices, what, ": device index ", device, " out of range");
}

// Events for markers and the side stream their reads run on, per device.
struct Readback {
  std::mutex mu;
  std::vector<cudaEvent_t> free_events;
  cudaStream_t side = nullptr;
};

Readback& readback(int device) {
  static Readback* r = new Readback[kMaxDevices];
  return r[device];
}

}  // namespace

namespace detail {

cudaStream_t current_stream() {
  static std::once_flag once[kMaxDevices];
  static cudaStream_t streams[kMaxDevices] = {};
  int device = 0;
  PN_CUDA_CHECK(cudaGetDevice(&device));
  check_device(device, "cuda stream");
  std::call_once(once[device],
                 [device] { PN_CUDA_CHECK(cudaStreamCreateWithFlags(&streams[device], cudaStreamNonBlocking)); });
  return streams[device];
}

}  // namespace detail

namespace impl {

int device_count() noexcept {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device" error
    return 0;
  }
  return n;
}

const char* device_name(int device) {
  static thread_local cudaDeviceProp prop;
  PN_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  return prop.name;
}

void set_device(int device) {
  const int n = device_count();
  PN_CHECK(n > 0, "cuda:", device, ": no CUDA device is visible to this process (driver or GPU missing)");
  PN_CHECK(device >= 0 && device < n, "cuda:", device, ": there are ", n, " CUDA devices (cuda:0 to cuda:", n - 1, ")");
  PN_CUDA_CHECK(cudaSetDevice(device));
}

Stream stream(int device) {
  check_device(device, "cuda::stream");
  PN_CUDA_CHECK(cudaSetDevice(device));
  return Stream{detail::current_stream()};
}

void copy_host_to_device(void* dst, const void* src, std::size_t bytes, int device, Stream s) {
  check_device(device, "cuda::copy_host_to_device");
  if (bytes == 0) return;
  PN_CUDA_CHECK(cudaSetDevice(device));
  const cudaStream_t stream = detail::stream_of(s.handle);
  Staging& st = staging(device);
  std::lock_guard<std::mutex> lock(st.mu);
  if (!st.buffer[0]) {
    for (int i = 0; i < kSlots; ++i) {
      PN_CUDA_CHECK(cudaMallocHost(&st.buffer[i], kSlotBytes));
      PN_CUDA_CHECK(cudaEventCreateWithFlags(&st.done[i], cudaEventDisableTiming));
      PN_CUDA_CHECK(cudaEventRecord(st.done[i], stream));
    }
  }
  auto* d = static_cast<char*>(dst);
  const auto* h = static_cast<const char*>(src);
  for (std::size_t off = 0; off < bytes; off += kSlotBytes) {
    const std::size_t n = bytes - off < kSlotBytes ? bytes - off : kSlotBytes;
    const int slot = st.next;
    st.next = (st.next + 1) % kSlots;
    // Waits only while this slot's previous transfer (kSlots copies ago) is still queued.
    PN_CUDA_CHECK(cudaEventSynchronize(st.done[slot]));
    std::memcpy(st.buffer[slot], h + off, n);
    PN_CUDA_CHECK(cudaMemcpyAsync(d + off, st.buffer[slot], n, cudaMemcpyHostToDevice, stream));
    PN_CUDA_CHECK(cudaEventRecord(st.done[slot], stream));
  }
}

void copy_device_to_host(void* dst, const void* src, std::size_t bytes, int device, Stream s) {
  check_device(device, "cuda::copy_device_to_host");
  if (bytes == 0) return;
  PN_CUDA_CHECK(cudaSetDevice(device));
  PN_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, detail::stream_of(s.handle)));
  PN_CUDA_CHECK(cudaStreamSynchronize(detail::stream_of(s.handle)));
}

void copy_device_to_device(void* dst, const void* src, std::size_t bytes, int device, Stream s) {
  check_device(device, "cuda::copy_device_to_device");
  if (bytes == 0) return;
  PN_CUDA_CHECK(cudaSetDevice(device));
  PN_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, detail::stream_of(s.handle)));
}

void memset_bytes(void* dst, int value, std::size_t bytes, int device, Stream s) {
  check_device(device, "cuda::memset_bytes");
  if (bytes == 0) return;
  PN_CUDA_CHECK(cudaSetDevice(device));
  PN_CUDA_CHECK(cudaMemsetAsync(dst, value, bytes, detail::stream_of(s.handle)));
}

Marker record_marker(int device) {
  check_device(device, "cuda::record_marker");
  PN_CUDA_CHECK(cudaSetDevice(device));
  Readback& r = readback(device);
  cudaEvent_t ev = nullptr;
  {
    std::lock_guard<std::mutex> lock(r.mu);
    if (!r.free_events.empty()) {
      ev = r.free_events.back();
      r.free_events.pop_back();
    }
  }
  if (!ev) PN_CUDA_CHECK(cudaEventCreateWithFlags(&ev, cudaEventDisableTiming));
  PN_CUDA_CHECK(cudaEventRecord(ev, detail::current_stream()));
  return Marker{ev, device};
}

void copy_device_to_host_after(const Marker& m, void* dst, const void* src, std::size_t bytes) {
  check_device(m.device, "cuda::copy_device_to_host_after");
  PN_CHECK(m.handle != nullptr, "cuda::copy_device_to_host_after: the marker was not recorded");
  if (bytes == 0) return;
  PN_CUDA_CHECK(cudaSetDevice(m.device));
  Readback& r = readback(m.device);
  std::lock_guard<std::mutex> lock(r.mu);
  if (!r.side) PN_CUDA_CHECK(cudaStreamCreateWithFlags(&r.side, cudaStreamNonBlocking));
  PN_CUDA_CHECK(cudaStreamWaitEvent(r.side, static_cast<cudaEvent_t>(m.handle), 0));
  PN_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, r.side));
  PN_CUDA_CHECK(cudaStreamSynchronize(r.side));
}

void release_marker(const Marker& m) noexcept {
  if (!m.handle || m.device < 0 || m.device >= kMaxDevices) return;
  Readback& r = readback(m.device);
  std::lock_guard<std::mutex> lock(r.mu);
  try {
    r.free_events.push_back(static_cast<cudaEvent_t>(m.handle));
  } catch (...) {
    cudaEventDestroy(static_cast<cudaEvent_t>(m.handle));
  }
}

void synchronize(int device) {
  check_device(device, "cuda::synchronize");
  PN_CUDA_CHECK(cudaSetDevice(device));
  PN_CUDA_CHECK(cudaDeviceSynchronize());
}

}  // namespace impl

PN_CUDA_REGISTER_FUNCTION(device_count);
PN_CUDA_REGISTER_FUNCTION(device_name);
PN_CUDA_REGISTER_FUNCTION(set_device);
PN_CUDA_REGISTER_FUNCTION(stream);
PN_CUDA_REGISTER_FUNCTION(copy_host_to_device);
PN_CUDA_REGISTER_FUNCTION(copy_device_to_host);
PN_CUDA_REGISTER_FUNCTION(copy_device_to_device);
PN_CUDA_REGISTER_FUNCTION(memset_bytes);
PN_CUDA_REGISTER_FUNCTION(record_marker);
PN_CUDA_REGISTER_FUNCTION(copy_device_to_host_after);
PN_CUDA_REGISTER_FUNCTION(release_marker);
PN_CUDA_REGISTER_FUNCTION(synchronize);

}  // namespace patchnet::cuda
