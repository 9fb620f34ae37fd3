// Device helpers shared by cuda/batch_norm.cu and cuda/layer_norm.cu: vector loads along
// C, the channel-tile x row-lane thread mapping of the [rows, C] kernels, a fixed-order
// block reduction over the row lanes, and the per-row-group partial sums work[2][G][C].
#pragma once

#include <cstdint>
#include <initializer_list>

#include "reduce.cuh"

namespace patchnet::cuda::norm_detail {

inline constexpr int kThreads = 256;

// V consecutive elements, loaded and stored as one 16-byte (or narrower) access.
template <class T, int V>
struct alignas(sizeof(T) * V) Vec {
  T v[V];
};

template <class T, int V>
__device__ __forceinline__ Vec<T, V> load_vec(const T* p) {
  return *reinterpret_cast<const Vec<T, V>*>(p);
}
template <class T, int V>
__device__ __forceinline__ void store_vec(T* p, const Vec<T, V>& v) {
  *reinterpret_cast<Vec<T, V>*>(p) = v;
}

// Widest vector for T: 4 floats or 2 doubles.
template <class T>
inline constexpr int kVec = static_cast<int>(16 / sizeof(T));

// Can [rows, C] arrays at these pointers be read V elements at a time? (C % V == 0 and
// every pointer 16-byte aligned; null pointers are ignored.)
template <class T>
inline bool vec_ok(int64_t C, std::initializer_list<const void*> ptrs) {
  if (C % kVec<T> != 0) return false;
  for (const void* p : ptrs)
    if (p && reinterpret_cast<uintptr_t>(p) % 16 != 0) return false;
  return true;
}

// Thread mapping of a [rows, C] kernel over cv = C / V vector channels: a block of 256
// threads is tc channels x lanes rows, thread t = lane * tc + cl. tc = 32 when there are
// that many channels (a warp reads 32 consecutive vectors of a row), else tc = cv, and a
// warp covers whole consecutive rows; either way a warp reads one contiguous span. The
// last 256 - tc * lanes threads (fewer than tc) have nothing to do.
struct Tile {
  int tc = 1, lanes = kThreads;
  int64_t cv = 0;  // vector channels
  unsigned blocks_x() const { return static_cast<unsigned>((cv + tc - 1) / tc); }
};

inline Tile make_tile(int64_t cv) {
  Tile t;
  t.cv = cv;
  t.tc = static_cast<int>(cv >= 32 ? 32 : (cv > 0 ? cv : 1));
  t.lanes = kThreads / t.tc;
  return t;
}

// First row of group g of G over `rows` (the same split as cpu/batch_norm.hpp's).
__device__ __forceinline__ int64_t group_begin(int64_t g, int64_t G, int64_t rows) { return g * rows / G; }

// Sums v over the row lanes of each channel column of the block, in a fixed tree order
// (so the result is the same on every run); lane 0 of each column ends with the sum.
// Every thread of the block must call it (it synchronises). red: K * kThreads doubles.
template <int K>
__device__ __forceinline__ void lane_reduce(double (&v)[K], double* red, const Tile& tile, int lane) {
  const int t = threadIdx.x;
#pragma unroll
  for (int k = 0; k < K; ++k) red[k * kThreads + t] = v[k];
  __syncthreads();
  for (int n = tile.lanes; n > 1;) {
    const int h = (n + 1) / 2;
    if (lane < n - h) {
#pragma unroll
      for (int k = 0; k < K; ++k) red[k * kThreads + t] += red[k * kThreads + t + h * tile.tc];
    }
    n = h;
    __syncthreads();
  }
#pragma unroll
  for (int k = 0; k < K; ++k) v[k] = red[k * kThreads + t];
}

// Lane 0 of a column writes its V channels' two sums (acc[j], acc[V + j]) of row group grp:
// part[0][grp][c] and part[1][grp][c] of part[2][G][C].
template <int V>
__device__ __forceinline__ void store_partials(const double (&acc)[2 * V], double* __restrict__ part, int64_t grp,
                                               int G, int64_t C, int64_t cv) {
#pragma unroll
  for (int j = 0; j < V; ++j) {
    const int64_t c = cv * V + j;
    part[grp * C + c] = acc[j];
    part[(G + grp) * C + c] = acc[V + j];
  }
}

// Adds the G partials of channel c (both halves of part) in a fixed order; the result is
// in lane 0 of the channel's column. tile: over scalar channels. Every thread of the block
// must call it (lane_reduce synchronises).
__device__ __forceinline__ void sum_partials(const double* __restrict__ part, int G, int64_t C, const Tile& tile,
                                             int64_t c, int lane, bool active, double* red, double (&acc)[2]) {
  acc[0] = acc[1] = 0.0;
  if (active)
    for (int g = lane; g < G; g += tile.lanes) {
      acc[0] += part[int64_t(g) * C + c];
      acc[1] += part[int64_t(G + g) * C + c];
    }
  lane_reduce<2>(acc, red, tile, lane);
}

// The per-channel final kernels' start (one channel per column of the block, 1-D grid over
// channel tiles): adds channel c's G partials; returns c in the thread that holds the sums
// (lane 0 of the column), -1 in the others. Every thread of the block must call it.
__device__ __forceinline__ int64_t channel_sums(const double* __restrict__ part, int G, int64_t C, const Tile& tile,
                                                double* red, double (&acc)[2]) {
  const int cl = threadIdx.x % tile.tc, lane = threadIdx.x / tile.tc;
  const int64_t c = int64_t(blockIdx.x) * tile.tc + cl;
  sum_partials(part, G, C, tile, c, lane, lane < tile.lanes && c < C, red, acc);
  return lane == 0 && c < C ? c : -1;
}

// Blocks along y for a grid over row groups of `lanes` rows, `per_thread` rows per thread.
inline unsigned row_blocks(int64_t rows, int lanes, int per_thread) {
  const int64_t b = (rows + int64_t(lanes) * per_thread - 1) / (int64_t(lanes) * per_thread);
  return detail::capped_blocks(b);
}

}  // namespace patchnet::cuda::norm_detail
