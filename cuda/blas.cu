// cuBLAS GEMM behind the row-major interface of cuda/blas.hpp. A row-major [M, N] matrix
// is a column-major [N, M] one, so C = op(A) op(B) is computed as C^T = op(B)^T op(A)^T
// with the operands swapped; no data moves.
#include <mutex>

#include "check.cuh"
#include "patchnet/core/precision.hpp"
#include "patchnet/cuda/blas.hpp"

namespace patchnet::cuda {
namespace {

// One cuBLAS handle per device, and a lock held from cublasSetStream to the GEMM, so two host
// threads on different streams cannot swap each other's stream.
struct Handle {
  cublasHandle_t h;
  std::mutex& in_use;
};
Handle handle_for(int device) {
  static std::mutex mu, in_use[64];
  static cublasHandle_t handles[64] = {};
  PN_CHECK(device >= 0 && device < 64, "cuda::gemm: device index ", device, " out of range");
  std::lock_guard<std::mutex> lock(mu);
  if (!handles[device]) {
    PN_CUDA_CHECK(cudaSetDevice(device));
    PN_CUBLAS_CHECK(cublasCreate(&handles[device]));
  }
  return {handles[device], in_use[device]};
}

// Float under the matmul precision policy (core/precision.hpp): fp32 is Sgemm; tf32 and bf16
// are cuBLAS's fast compute types, which round the inputs and accumulate in float.
cublasStatus_t gemm_call(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                         const float* alpha, const float* a, int lda, const float* b, int ldb, const float* beta,
                         float* c, int ldc) {
  const MatmulPrecision p = matmul_precision();
  if (p == MatmulPrecision::FP32) return cublasSgemm(h, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  const cublasComputeType_t compute =
      p == MatmulPrecision::TF32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F_FAST_16BF;
  return cublasGemmEx(h, ta, tb, m, n, k, alpha, a, CUDA_R_32F, lda, b, CUDA_R_32F, ldb, beta, c, CUDA_R_32F, ldc,
                      compute, CUBLAS_GEMM_DEFAULT);
}
cublasStatus_t gemm_call(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                         const double* alpha, const double* a, int lda, const double* b, int ldb, const double* beta,
                         double* c, int ldc) {
  return cublasDgemm(h, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

// C = beta C for a product with K = 0; beta 0 writes zeros whatever C held (NaN included).
template <class T>
__global__ void empty_sum_kernel(T* c, int64_t M, int64_t N, int64_t ldc, T beta) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < M * N; i += int64_t(gridDim.x) * blockDim.x) {
    T& v = c[(i / N) * ldc + i % N];
    v = beta == T(0) ? T(0) : beta * v;
  }
}

}  // namespace

namespace impl {

template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
          int64_t ldb, T beta, T* C, int64_t ldc, int device, Stream s) {
  if (M == 0 || N == 0) return;
  const int64_t kMax = 2147483647;
  PN_CHECK(M <= kMax && N <= kMax && K <= kMax && lda <= kMax && ldb <= kMax && ldc <= kMax,
           "cuda::gemm: a dimension above 2^31-1 (M ", M, ", N ", N, ", K ", K, ")");
  if (K == 0) {  // an empty sum: C = beta C, as BLAS defines it (cuBLAS would want lda, ldb >= 1)
    if (beta != T(1)) {
      PN_CUDA_CHECK(cudaSetDevice(device));
      empty_sum_kernel<<<detail::grid_for(M * N), 256, 0, detail::stream_of(s.handle)>>>(C, M, N, ldc, beta);
      PN_CUDA_CHECK_LAUNCH("empty_sum_kernel");
    }
    return;
  }
  const Handle handle = handle_for(device);
  const std::lock_guard<std::mutex> lock(handle.in_use);
  cublasHandle_t h = handle.h;
  PN_CUDA_CHECK(cudaSetDevice(device));
  PN_CUBLAS_CHECK(cublasSetStream(h, detail::stream_of(s.handle)));
  const cublasOperation_t opb = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t opa = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  PN_CUBLAS_CHECK(gemm_call(h, opb, opa, static_cast<int>(N), static_cast<int>(M), static_cast<int>(K), &alpha, B,
                            static_cast<int>(ldb), A, static_cast<int>(lda), &beta, C, static_cast<int>(ldc)));
}

template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t,
                          float, float*, int64_t, int, Stream);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t, const double*,
                           int64_t, double, double*, int64_t, int, Stream);

}  // namespace impl

PN_CUDA_REGISTER(gemm, float, double);

}  // namespace patchnet::cuda
