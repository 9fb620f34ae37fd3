// Device helpers for the reductions inside kernels of cuda/*.cu: warp reductions by xor
// butterfly, the one-warp-per-row mapping of row kernels, and the in-order sum over the row
// lanes of a 32-column block. Each helper has one fixed order of operations, so a kernel
// gets the same bits on every run; a kernel whose order differs keeps its own loop.
#pragma once

#include <cstdint>
#include <limits>

#include "check.cuh"

namespace patchnet::cuda::detail {

__device__ __forceinline__ float dev_exp(float v) { return expf(v); }
__device__ __forceinline__ double dev_exp(double v) { return exp(v); }
__device__ __forceinline__ float dev_log(float v) { return logf(v); }
__device__ __forceinline__ double dev_log(double v) { return log(v); }

// std::max(a, b) as the CPU loops use it: b only when a < b (a NaN b is ignored).
template <class T>
__device__ __forceinline__ T max_like_cpu(T a, T b) {
  return a < b ? b : a;
}

// Max over a warp by xor butterfly (max_like_cpu at each step); every lane ends with it.
template <class T>
__device__ __forceinline__ T warp_max(T v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = max_like_cpu(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Sum over each aligned group of Width lanes (a power of two; 32: the warp) by xor
// butterfly, offsets Width/2 down to 1: every lane of a group ends with the same value
// (a + b == b + a exactly). All 32 lanes of the warp must call it.
template <int Width = 32, class T>
__device__ __forceinline__ T warp_sum(T v) {
#pragma unroll
  for (int o = Width / 2; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o, Width);
  return v;
}

// ---- row kernels: one warp per row --------------------------------------------------------
// Blocks of kRowThreads threads, 8 rows at a time; warp w of the grid takes rows w, w + the
// grid's warps, ... (row_grid caps the blocks), lane = threadIdx.x % 32 strides the row.
// (first_row/row_step read blockDim: with the constant instead, ptxas gave some double
// kernels more registers. Register counts move with small changes here; check -Xptxas -v.)
inline constexpr int kRowThreads = 256;

inline unsigned row_grid(int64_t rows) { return grid_for(rows * 32, kRowThreads); }
__device__ __forceinline__ int64_t first_row() { return (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) / 32; }
__device__ __forceinline__ int64_t row_step() { return int64_t(gridDim.x) * (blockDim.x / 32); }

// Max m of the D values of row x, then s = sum of exp(x - m) (the first two softmax passes):
// each lane over j = lane, lane + 32, ..., then the butterflies. Every lane ends with both.
template <class T>
__device__ __forceinline__ void warp_row_max_sumexp(const T* x, int64_t D, int lane, T& m, T& s) {
  m = -std::numeric_limits<T>::infinity();
  for (int64_t j = lane; j < D; j += 32) m = max_like_cpu(m, x[j]);
  m = warp_max(m);
  s = 0;
  for (int64_t j = lane; j < D; j += 32) s += dev_exp(x[j] - m);
  s = warp_sum(s);
}

// ---- blocks of 32 columns x Lanes row lanes -------------------------------------------------
// The sum over the row lanes (threadIdx.y) of v in each column (threadIdx.x), added in lane
// order through red; valid in lane 0 only. Every thread of the block must call it; it ends
// with a barrier, so red can be reused at once. (depthwise_conv.cu's reduce_lanes adds in
// the same order but stores before the second barrier: its K*K-unrolled weight kernels took
// up to 38 more registers through this helper.)
template <int Lanes, class T>
__device__ __forceinline__ T sum_lanes_in_order(T (&red)[Lanes][32], T v) {
  red[threadIdx.y][threadIdx.x] = v;
  __syncthreads();
  if (threadIdx.y == 0) {
#pragma unroll
    for (int j = 1; j < Lanes; ++j) v += red[j][threadIdx.x];  // v is red[0][threadIdx.x]
  }
  __syncthreads();
  return v;
}

}  // namespace patchnet::cuda::detail
