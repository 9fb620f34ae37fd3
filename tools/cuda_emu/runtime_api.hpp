// The part of the CUDA runtime and cuBLAS that cuda/runtime.cu, allocator.cu and blas.cu
// call, on the host: one emulated device whose memory is host memory. Device allocations are
// registered, so a copy, a memset, a GEMM or a kernel launch (emu.hpp) that is handed a host
// pointer where device memory belongs is an error, the mistake a GPU reports only as an
// illegal address, if at all. Included by emu.hpp.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>

#include "device_memory.hpp"       // emu::is_device
#include "patchnet/math/bf16.hpp"  // the compute types' rounding

using cudaStream_t = void*;
using cudaEvent_t = void*;
enum cudaError_t : int {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidDevice = 101,
  cudaErrorIllegalAddress = 700,
};
enum cudaMemcpyKind { cudaMemcpyHostToDevice = 1, cudaMemcpyDeviceToHost = 2, cudaMemcpyDeviceToDevice = 3 };
constexpr unsigned cudaStreamNonBlocking = 1, cudaEventDisableTiming = 2;
struct cudaDeviceProp {
  char name[256];
};

namespace emu {

inline void err(const std::string& s);  // emu.hpp

inline cudaError_t check_device_range(const void* p, std::size_t bytes, const char* what) {
  if (is_device(p, bytes)) return cudaSuccess;
  err(std::string(what) + ": " + std::to_string(bytes) + " bytes at " + std::to_string(reinterpret_cast<uintptr_t>(p)) +
      " are not inside one device allocation (a host pointer?)");
  return cudaErrorIllegalAddress;
}

}  // namespace emu

inline const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
    case cudaSuccess:
      return "cudaSuccess";
    case cudaErrorInvalidValue:
      return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation:
      return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidDevice:
      return "cudaErrorInvalidDevice";
    case cudaErrorIllegalAddress:
      return "cudaErrorIllegalAddress";
  }
  return "cudaError(unknown)";
}
inline const char* cudaGetErrorString(cudaError_t e) { return cudaGetErrorName(e); }
inline cudaError_t cudaGetLastError() { return cudaSuccess; }

inline int& emu_current_device() {
  static thread_local int d = 0;
  return d;
}
inline cudaError_t cudaGetDeviceCount(int* n) {
  *n = 1;
  return cudaSuccess;
}
inline cudaError_t cudaGetDevice(int* d) {
  *d = emu_current_device();
  return cudaSuccess;
}
inline cudaError_t cudaSetDevice(int d) {
  if (d != 0) return cudaErrorInvalidDevice;
  emu_current_device() = d;
  return cudaSuccess;
}
inline cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int d) {
  if (d != 0) return cudaErrorInvalidDevice;
  std::strcpy(p->name, "patchnet CUDA emulator (host memory, tools/cuda_emu)");
  return cudaSuccess;
}

inline cudaError_t cudaMalloc(void** p, std::size_t bytes) {
  emu::DeviceMemory& m = emu::device_memory();
  std::lock_guard<std::mutex> lock(m.mu);
  *p = nullptr;
  if (bytes > m.limit || m.bytes + bytes > m.limit) return cudaErrorMemoryAllocation;
  void* q = std::aligned_alloc(256, (bytes + 255) / 256 * 256 + 256);
  if (!q) return cudaErrorMemoryAllocation;
  std::memset(q, 0xA5, bytes);  // cudaMalloc'd memory is garbage, not zeros
  m.blocks[reinterpret_cast<uintptr_t>(q)] = bytes;
  m.bytes += bytes;
  *p = q;
  return cudaSuccess;
}
inline cudaError_t cudaFree(void* p) {
  if (!p) return cudaSuccess;
  emu::DeviceMemory& m = emu::device_memory();
  std::lock_guard<std::mutex> lock(m.mu);
  auto it = m.blocks.find(reinterpret_cast<uintptr_t>(p));
  if (it == m.blocks.end()) {
    emu::err("cudaFree of a pointer that cudaMalloc did not return");
    return cudaErrorInvalidValue;
  }
  m.bytes -= it->second;
  m.blocks.erase(it);
  std::free(p);
  return cudaSuccess;
}
inline cudaError_t cudaMallocHost(void** p, std::size_t bytes) {
  *p = std::malloc(bytes ? bytes : 1);
  return *p ? cudaSuccess : cudaErrorMemoryAllocation;
}
inline cudaError_t cudaFreeHost(void* p) {
  std::free(p);
  return cudaSuccess;
}

inline cudaError_t cudaMemcpyAsync(void* dst, const void* src, std::size_t n, cudaMemcpyKind kind, cudaStream_t) {
  if (n == 0) return cudaSuccess;
  const bool dst_dev = kind != cudaMemcpyDeviceToHost, src_dev = kind != cudaMemcpyHostToDevice;
  if (dst_dev && emu::check_device_range(dst, n, "cudaMemcpyAsync destination")) return cudaErrorIllegalAddress;
  if (src_dev && emu::check_device_range(src, n, "cudaMemcpyAsync source")) return cudaErrorIllegalAddress;
  if (!dst_dev && emu::is_device(dst)) emu::err("cudaMemcpyAsync: a device pointer as the host destination");
  if (!src_dev && emu::is_device(src)) emu::err("cudaMemcpyAsync: a device pointer as the host source");
  std::memmove(dst, src, n);
  return cudaSuccess;
}
inline cudaError_t cudaMemsetAsync(void* p, int v, std::size_t n, cudaStream_t) {
  if (n == 0) return cudaSuccess;
  if (emu::g_check_pointers && emu::check_device_range(p, n, "cudaMemsetAsync")) return cudaErrorIllegalAddress;
  std::memset(p, v, n);
  return cudaSuccess;
}

// Work runs when it is queued, so streams and events only have to exist.
inline cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned) {
  *s = new char(0);
  return cudaSuccess;
}
inline cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
inline cudaError_t cudaStreamWaitEvent(cudaStream_t, cudaEvent_t, unsigned) { return cudaSuccess; }
inline cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }
inline cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned) {
  *e = new char(0);
  return cudaSuccess;
}
inline cudaError_t cudaEventRecord(cudaEvent_t, cudaStream_t) { return cudaSuccess; }
inline cudaError_t cudaEventSynchronize(cudaEvent_t) { return cudaSuccess; }
inline cudaError_t cudaEventDestroy(cudaEvent_t e) {
  delete static_cast<char*>(e);
  return cudaSuccess;
}

// cuBLAS: column-major GEMM, C = alpha op(A) op(B) + beta C, as the reference BLAS computes it.
using cublasHandle_t = void*;
enum cublasStatus_t { CUBLAS_STATUS_SUCCESS = 0, CUBLAS_STATUS_INVALID_VALUE = 7, CUBLAS_STATUS_EXECUTION_FAILED = 13 };
enum cublasOperation_t { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1 };
enum cublasMath_t { CUBLAS_DEFAULT_MATH = 0, CUBLAS_TF32_TENSOR_OP_MATH = 3 };
inline const char* cublasGetStatusName(cublasStatus_t s) {
  return s == CUBLAS_STATUS_SUCCESS         ? "CUBLAS_STATUS_SUCCESS"
         : s == CUBLAS_STATUS_INVALID_VALUE ? "CUBLAS_STATUS_INVALID_VALUE"
                                            : "CUBLAS_STATUS_EXECUTION_FAILED";
}
inline cublasStatus_t cublasCreate(cublasHandle_t* h) {
  *h = new char(0);
  return CUBLAS_STATUS_SUCCESS;
}
inline cublasStatus_t cublasSetStream(cublasHandle_t, cudaStream_t) { return CUBLAS_STATUS_SUCCESS; }
inline cublasStatus_t cublasSetMathMode(cublasHandle_t, cublasMath_t) { return CUBLAS_STATUS_SUCCESS; }

enum cudaDataType_t { CUDA_R_32F = 0, CUDA_R_64F = 1 };
enum cublasComputeType_t {
  CUBLAS_COMPUTE_32F = 68,
  CUBLAS_COMPUTE_32F_FAST_16BF = 75,
  CUBLAS_COMPUTE_32F_FAST_TF32 = 77,
};
enum cublasGemmAlgo_t { CUBLAS_GEMM_DEFAULT = -1 };

namespace emu {
struct Exact {
  template <class T>
  T operator()(T v) const {
    return v;
  }
};
// round: what the compute type does to each input (Exact, or bf16 / tf32 rounding).
template <class T, class Round = Exact>
cublasStatus_t gemm(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, const T* alpha, const T* a,
                    int lda, const T* b, int ldb, const T* beta, T* c, int ldc, Round round = {}) {
  // cuBLAS's rule: each leading dimension at least max(1, stored rows), even when k is 0.
  const auto low = [](int ld, int rows) { return ld < std::max(1, rows); };
  if (m < 0 || n < 0 || k < 0 || low(lda, ta == CUBLAS_OP_N ? m : k) || low(ldb, tb == CUBLAS_OP_N ? k : n) ||
      low(ldc, m))
    return CUBLAS_STATUS_INVALID_VALUE;
  if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;
  const auto span = [](int rows, int cols, int ld) { return (std::size_t(cols - 1) * ld + rows) * sizeof(T); };
  if (k > 0 && (check_device_range(a, span(ta == CUBLAS_OP_N ? m : k, ta == CUBLAS_OP_N ? k : m, lda), "gemm A") ||
                check_device_range(b, span(tb == CUBLAS_OP_N ? k : n, tb == CUBLAS_OP_N ? n : k, ldb), "gemm B")))
    return CUBLAS_STATUS_EXECUTION_FAILED;
  if (check_device_range(c, span(m, n, ldc), "gemm C")) return CUBLAS_STATUS_EXECUTION_FAILED;
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < m; ++i) {
      T s = 0;
      for (int p = 0; p < k; ++p) {
        const T av = round(ta == CUBLAS_OP_N ? a[i + std::size_t(p) * lda] : a[p + std::size_t(i) * lda]);
        const T bv = round(tb == CUBLAS_OP_N ? b[p + std::size_t(j) * ldb] : b[j + std::size_t(p) * ldb]);
        s += av * bv;
      }
      T& out = c[i + std::size_t(j) * ldc];
      out = *beta == T(0) ? *alpha * s : *alpha * s + *beta * out;  // beta 0: C may hold NaN
    }
  return CUBLAS_STATUS_SUCCESS;
}
}  // namespace emu

inline cublasStatus_t cublasSgemm(cublasHandle_t, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                                  const float* alpha, const float* a, int lda, const float* b, int ldb,
                                  const float* beta, float* c, int ldc) {
  return emu::gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
// Float products with a lower-precision compute type (the matmul precision policy): the
// inputs rounded as the type says, accumulated in float.
inline cublasStatus_t cublasGemmEx(cublasHandle_t, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                                   const void* alpha, const void* a, cudaDataType_t at, int lda, const void* b,
                                   cudaDataType_t bt, int ldb, const void* beta, void* c, cudaDataType_t ct, int ldc,
                                   cublasComputeType_t compute, cublasGemmAlgo_t) {
  if (at != CUDA_R_32F || bt != CUDA_R_32F || ct != CUDA_R_32F) return CUBLAS_STATUS_INVALID_VALUE;
  const auto* al = static_cast<const float*>(alpha);
  const auto* be = static_cast<const float*>(beta);
  const auto* fa = static_cast<const float*>(a);
  const auto* fb = static_cast<const float*>(b);
  auto* fc = static_cast<float*>(c);
  switch (compute) {
    case CUBLAS_COMPUTE_32F:
      return emu::gemm(ta, tb, m, n, k, al, fa, lda, fb, ldb, be, fc, ldc);
    case CUBLAS_COMPUTE_32F_FAST_16BF:
      return emu::gemm(ta, tb, m, n, k, al, fa, lda, fb, ldb, be, fc, ldc,
                       [](float v) { return patchnet::math::round_bf16(v); });
    case CUBLAS_COMPUTE_32F_FAST_TF32:
      return emu::gemm(ta, tb, m, n, k, al, fa, lda, fb, ldb, be, fc, ldc,
                       [](float v) { return patchnet::math::round_tf32(v); });
  }
  return CUBLAS_STATUS_INVALID_VALUE;
}
inline cublasStatus_t cublasDgemm(cublasHandle_t, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                                  const double* alpha, const double* a, int lda, const double* b, int ldb,
                                  const double* beta, double* c, int ldc) {
  return emu::gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
