// Device queries, memory and copies for patchnet::cuda (declared in cuda/runtime.hpp).
#include "check.cuh"
#include "patchnet/cuda/runtime.hpp"

namespace patchnet::cuda {

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

void* device_malloc(std::size_t bytes, int device) {
  PN_CUDA_CHECK(cudaSetDevice(device));
  void* p = nullptr;
  const cudaError_t err = cudaMalloc(&p, bytes);
  if (err != cudaSuccess) {
    cudaGetLastError();  // out of memory is not sticky; leave the context usable
    fail("cudaMalloc of ", bytes, " bytes on cuda:", device, " failed: ", cudaGetErrorName(err), " (",
         cudaGetErrorString(err), ")");
  }
  return p;
}

void device_free(void* ptr, int device) noexcept {
  cudaSetDevice(device);
  cudaFree(ptr);
}

void copy_host_to_device(void* dst, const void* src, std::size_t bytes, int device, Stream s) {
  PN_CUDA_CHECK(cudaSetDevice(device));
  PN_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, detail::stream_of(s.handle)));
  // Pageable host memory may be reused by the caller as soon as we return.
  PN_CUDA_CHECK(cudaStreamSynchronize(detail::stream_of(s.handle)));
}

void copy_device_to_host(void* dst, const void* src, std::size_t bytes, int device, Stream s) {
  PN_CUDA_CHECK(cudaSetDevice(device));
  PN_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, detail::stream_of(s.handle)));
  PN_CUDA_CHECK(cudaStreamSynchronize(detail::stream_of(s.handle)));
}

void copy_device_to_device(void* dst, const void* src, std::size_t bytes, int device, Stream s) {
  PN_CUDA_CHECK(cudaSetDevice(device));
  PN_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, detail::stream_of(s.handle)));
}

void memset_bytes(void* dst, int value, std::size_t bytes, int device, Stream s) {
  PN_CUDA_CHECK(cudaSetDevice(device));
  PN_CUDA_CHECK(cudaMemsetAsync(dst, value, bytes, detail::stream_of(s.handle)));
}

void synchronize(int device) {
  PN_CUDA_CHECK(cudaSetDevice(device));
  PN_CUDA_CHECK(cudaDeviceSynchronize());
}

}  // namespace patchnet::cuda
