// Classification-loss and top-k kernels (launchers in cuda/loss.hpp), over packed [N, K]
// scores and N int32 labels on the device.
//
// Row kernels use one warp per row (lanes stride the K classes, shuffles combine), write
// one double loss per row, and mean_of_rows adds those in one block with a fixed order,
// so the loss is the same on every run (no float atomics). Gradient kernels read the
// output gradient from device memory, so backward needs no host synchronisation. A label
// outside [0, K) makes its row's loss and gradient NaN (it cannot throw from a kernel).
#include <cstdint>
#include <limits>

#include "patchnet/cuda/loss.hpp"
#include "reduce.cuh"

namespace patchnet::cuda {
namespace {

using namespace detail;  // reduce.cuh: warp reductions, the row-per-warp mapping

#define PN_FOR_EACH_ROW(r, rows) for (int64_t r = first_row(); r < (rows); r += row_step())

template <class T>
__global__ void ce_forward_kernel(const T* __restrict__ logits, const int32_t* __restrict__ labels, int64_t N,
                                  int64_t K, T* __restrict__ lse, double* __restrict__ rows) {
  const int lane = threadIdx.x & 31;
  PN_FOR_EACH_ROW(r, N) {
    const T* x = logits + r * K;
    T m, s;
    warp_row_max_sumexp(x, K, lane, m, s);
    if (lane == 0) {
      const T log_s = dev_log(s);
      const int32_t l = labels[r];
      lse[r] = m + log_s;
      rows[r] = l >= 0 && l < K ? static_cast<double>((m - x[l]) + log_s) : std::numeric_limits<double>::quiet_NaN();
    }
  }
}

template <class T>
__global__ void ce_backward_kernel(const T* __restrict__ logits, const int32_t* __restrict__ labels,
                                   const T* __restrict__ lse, const T* __restrict__ gout, int64_t N, int64_t K,
                                   T* __restrict__ gx) {
  const T scale = static_cast<T>(static_cast<double>(gout[0]) / static_cast<double>(N));
  const int64_t n = N * K;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = i / K, j = i % K;
    const int32_t l = labels[r];
    T v = scale * dev_exp(logits[i] - lse[r]);
    if (j == l) v -= scale;
    gx[i] = l >= 0 && l < K ? v : std::numeric_limits<T>::quiet_NaN();
  }
}

// std::clamp(v, lo, hi)
template <class T>
__device__ inline T clamp_like_cpu(T v, T lo, T hi) {
  return v < lo ? lo : (hi < v ? hi : v);
}

template <class T>
__global__ void ce_probs_forward_kernel(const T* __restrict__ probs, const int32_t* __restrict__ labels, int64_t N,
                                        int64_t K, T eps, double* __restrict__ rows) {
  const int lane = threadIdx.x & 31;
  PN_FOR_EACH_ROW(r, N) {
    const T* p = probs + r * K;
    T s = 0;
    for (int64_t j = lane; j < K; j += 32) s += p[j];
    s = warp_sum(s);
    if (lane == 0) {
      const int32_t l = labels[r];
      if (l >= 0 && l < K) {
        const T q = clamp_like_cpu(p[l] / s, eps, T(1) - eps);
        rows[r] = -log(static_cast<double>(q));
      } else {
        rows[r] = std::numeric_limits<double>::quiet_NaN();
      }
    }
  }
}

template <class T>
__global__ void ce_probs_backward_kernel(const T* __restrict__ probs, const int32_t* __restrict__ labels,
                                         const T* __restrict__ gout, int64_t N, int64_t K, T eps, T* __restrict__ gx) {
  const int lane = threadIdx.x & 31;
  const T scale = static_cast<T>(static_cast<double>(gout[0]) / static_cast<double>(N));
  PN_FOR_EACH_ROW(r, N) {
    const T* p = probs + r * K;
    T* g = gx + r * K;
    T s = 0;
    for (int64_t j = lane; j < K; j += 32) s += p[j];
    s = warp_sum(s);
    const int32_t l = labels[r];
    if (l < 0 || l >= K) {
      for (int64_t j = lane; j < K; j += 32) g[j] = std::numeric_limits<T>::quiet_NaN();
      continue;
    }
    const T pl = p[l], q = pl / s;
    const bool clipped = q < eps || q > T(1) - eps;
    const T common = clipped ? T(0) : scale / s;
    for (int64_t j = lane; j < K; j += 32) g[j] = (!clipped && j == l) ? common - scale / pl : common;
  }
}

constexpr int kMeanThreads = 256;

template <class T>
__global__ void mean_of_rows_kernel(const double* __restrict__ rows, int64_t N, T* __restrict__ out) {
  __shared__ double part[kMeanThreads];
  double acc = 0;
  for (int64_t r = threadIdx.x; r < N; r += kMeanThreads) acc += rows[r];
  part[threadIdx.x] = acc;
  __syncthreads();
  for (int half = kMeanThreads / 2; half > 0; half >>= 1) {  // fixed tree: deterministic
    if (threadIdx.x < half) part[threadIdx.x] += part[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) out[0] = static_cast<T>(part[0] / static_cast<double>(N));
}

template <class T>
__global__ void topk_kernel(const T* __restrict__ scores, const int32_t* __restrict__ labels, int64_t N, int64_t K,
                            int64_t k, unsigned long long* __restrict__ count) {
  const int lane = threadIdx.x & 31;
  unsigned long long hits = 0;  // lane 0's running count over this warp's rows
  PN_FOR_EACH_ROW(r, N) {
    const T* s = scores + r * K;
    const int32_t l = labels[r];
    if (l < 0 || l >= K) continue;  // uniform across the warp
    const T v = s[l];
    if (!isfinite(v)) continue;
    long long rank = 0;
    for (int64_t j = lane; j < K; j += 32) rank += j < l ? s[j] >= v : (j > l ? s[j] > v : false);
    rank = warp_sum(rank);
    hits += rank < k;
  }
  if (lane == 0 && hits) atomicAdd(count, hits);  // integer sum: order does not matter
}

#undef PN_FOR_EACH_ROW

}  // namespace

namespace impl {

template <class T>
void cross_entropy_forward(const T* logits, const int32_t* labels, int64_t N, int64_t K, T* lse, double* rows,
                           Stream s) {
  if (N == 0) return;
  ce_forward_kernel<<<row_grid(N), kRowThreads, 0, detail::stream_of(s.handle)>>>(logits, labels, N, K, lse, rows);
  PN_CUDA_CHECK_LAUNCH("ce_forward_kernel");
}

template <class T>
void cross_entropy_backward(const T* logits, const int32_t* labels, const T* lse, const T* gout, int64_t N, int64_t K,
                            T* gx, Stream s) {
  if (N * K == 0) return;
  ce_backward_kernel<<<detail::grid_for(N * K), 256, 0, detail::stream_of(s.handle)>>>(logits, labels, lse, gout, N, K,
                                                                                       gx);
  PN_CUDA_CHECK_LAUNCH("ce_backward_kernel");
}

template <class T>
void cross_entropy_probs_forward(const T* probs, const int32_t* labels, int64_t N, int64_t K, T eps, double* rows,
                                 Stream s) {
  if (N == 0) return;
  ce_probs_forward_kernel<<<row_grid(N), kRowThreads, 0, detail::stream_of(s.handle)>>>(probs, labels, N, K, eps, rows);
  PN_CUDA_CHECK_LAUNCH("ce_probs_forward_kernel");
}

template <class T>
void cross_entropy_probs_backward(const T* probs, const int32_t* labels, const T* gout, int64_t N, int64_t K, T eps,
                                  T* gx, Stream s) {
  if (N == 0) return;
  ce_probs_backward_kernel<<<row_grid(N), kRowThreads, 0, detail::stream_of(s.handle)>>>(probs, labels, gout, N, K, eps,
                                                                                         gx);
  PN_CUDA_CHECK_LAUNCH("ce_probs_backward_kernel");
}

template <class T>
void mean_of_rows(const double* rows, int64_t N, T* out, Stream s) {
  mean_of_rows_kernel<<<1, kMeanThreads, 0, detail::stream_of(s.handle)>>>(rows, N, out);
  PN_CUDA_CHECK_LAUNCH("mean_of_rows_kernel");
}

template <class T>
void topk_correct(const T* scores, const int32_t* labels, int64_t N, int64_t K, int64_t k, unsigned long long* count,
                  Stream s) {
  PN_CUDA_CHECK(cudaMemsetAsync(count, 0, sizeof(unsigned long long), detail::stream_of(s.handle)));
  if (N == 0) return;
  topk_kernel<<<row_grid(N), kRowThreads, 0, detail::stream_of(s.handle)>>>(scores, labels, N, K, k, count);
  PN_CUDA_CHECK_LAUNCH("topk_kernel");
}

#define PATCHNET_INSTANTIATE(T)                                                                                        \
  template void cross_entropy_forward<T>(const T*, const int32_t*, int64_t, int64_t, T*, double*, Stream);             \
  template void cross_entropy_backward<T>(const T*, const int32_t*, const T*, const T*, int64_t, int64_t, T*, Stream); \
  template void cross_entropy_probs_forward<T>(const T*, const int32_t*, int64_t, int64_t, T, double*, Stream);        \
  template void cross_entropy_probs_backward<T>(const T*, const int32_t*, const T*, int64_t, int64_t, T, T*, Stream);  \
  template void mean_of_rows<T>(const double*, int64_t, T*, Stream);                                                   \
  template void topk_correct<T>(const T*, const int32_t*, int64_t, int64_t, int64_t, unsigned long long*, Stream);
PATCHNET_INSTANTIATE(float)
PATCHNET_INSTANTIATE(double)
#undef PATCHNET_INSTANTIATE

}  // namespace impl

PN_CUDA_REGISTER(cross_entropy_forward, float, double);
PN_CUDA_REGISTER(cross_entropy_backward, float, double);
PN_CUDA_REGISTER(cross_entropy_probs_forward, float, double);
PN_CUDA_REGISTER(cross_entropy_probs_backward, float, double);
PN_CUDA_REGISTER(mean_of_rows, float, double);
PN_CUDA_REGISTER(topk_correct, float, double);

}  // namespace patchnet::cuda
