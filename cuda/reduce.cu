// Sum over axes (launcher in cuda/reduce.hpp). Accumulation is in double.
//
// When the summed dimensions are one run of consecutive dimensions (after dropping size-1
// ones) the input is viewed as [outer, R, inner] and summed over R, which covers every
// reduction of the models: bias gradients ([N*H*W, C] -> [C]), row sums ([B, K] -> [B]),
// global pooling ([N, H*W, C] -> [N, C]) and full sums. R is cut into chunks of kChunk
// rows; one block sums one chunk for 32 inner positions (or, when inner == 1, one chunk
// of a row with all its threads), writing a partial sum per chunk (in double, as the CPU
// keeps its sums); a second kernel adds the chunks in order. The chunk count depends on the shape only, so the result
// is the same on any GPU and every run. Other axis sets use a plain kernel with one thread per output element.
#include <cstdint>

#include "check.cuh"
#include "patchnet/cuda/reduce.hpp"

namespace patchnet::cuda {
namespace {

constexpr int64_t kChunk = 256;  // rows of R per block
constexpr int64_t kMaxChunks = 4096;

struct Canonical {
  bool ok = false;  // one run of summed dims
  int64_t outer = 1, R = 1, inner = 1;
};

Canonical canonical(const math::SumParams& p) {
  Canonical c;
  int state = 0;  // 0: before the summed run, 1: in it, 2: after it
  for (int d = 0; d < p.rank; ++d) {
    if (p.shape[d] == 1) continue;
    if (p.reduce[d]) {
      if (state == 2) return c;  // a second run
      state = 1;
      c.R *= p.shape[d];
    } else {
      if (state == 1) state = 2;
      (state == 0 ? c.outer : c.inner) *= p.shape[d];
    }
  }
  c.ok = true;
  return c;
}

int64_t chunks_of(int64_t R) {
  int64_t chunks = (R + kChunk - 1) / kChunk;
  return chunks < kMaxChunks ? chunks : kMaxChunks;
}

// Block (32, 8): x = inner position, y = a row slot. Grid (inner tiles, outer, chunks).
// D: T when one chunk writes the result, double for partial sums.
template <class T, class D>
__global__ void sum_columns_kernel(const T* __restrict__ x, D* __restrict__ dst, int64_t R, int64_t inner,
                                   int64_t rows_per_chunk) {
  __shared__ double part[8][33];
  const int64_t i = blockIdx.x * 32LL + threadIdx.x;
  const int64_t o = blockIdx.y, chunk = blockIdx.z;
  const int64_t r0 = chunk * rows_per_chunk, r1 = min(R, r0 + rows_per_chunk);
  double acc = 0;
  if (i < inner)
    for (int64_t r = r0 + threadIdx.y; r < r1; r += 8) acc += static_cast<double>(x[(o * R + r) * inner + i]);
  part[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.y == 0 && i < inner) {
    double s = part[0][threadIdx.x];
    for (int k = 1; k < 8; ++k) s += part[k][threadIdx.x];
    dst[(o * gridDim.z + chunk) * inner + i] = static_cast<D>(s);  // [outer, chunks, inner]
  }
}

// inner == 1: 256 threads sum one chunk of one row; a fixed shared-memory tree.
template <class T, class D>
__global__ void sum_rows_kernel(const T* __restrict__ x, D* __restrict__ dst, int64_t R, int64_t rows_per_chunk) {
  __shared__ double part[256];
  const int64_t o = blockIdx.y, chunk = blockIdx.x;
  const int64_t r0 = chunk * rows_per_chunk, r1 = min(R, r0 + rows_per_chunk);
  double acc = 0;
  for (int64_t r = r0 + threadIdx.x; r < r1; r += blockDim.x) acc += static_cast<double>(x[o * R + r]);
  part[threadIdx.x] = acc;
  __syncthreads();
  for (int w = 128; w > 0; w >>= 1) {
    if (threadIdx.x < w) part[threadIdx.x] += part[threadIdx.x + w];
    __syncthreads();
  }
  if (threadIdx.x == 0) dst[o * gridDim.x + chunk] = static_cast<D>(part[0]);
}

// out[o, i] = sum over chunks of partial[o, c, i], in chunk order.
template <class T>
__global__ void sum_chunks_kernel(const double* __restrict__ partial, T* __restrict__ out, int64_t outer,
                                  int64_t chunks, int64_t inner) {
  const int64_t n = outer * inner;
  for (int64_t k = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; k < n; k += int64_t(gridDim.x) * blockDim.x) {
    const int64_t o = k / inner, i = k % inner;
    double s = 0;
    for (int64_t c = 0; c < chunks; ++c) s += partial[(o * chunks + c) * inner + i];
    out[k] = static_cast<T>(s);
  }
}

template <class T>
__global__ void sum_axes_kernel(const T* __restrict__ x, T* __restrict__ out, math::SumParams p, int64_t n_out,
                                int64_t n_red) {
  int64_t stride[kMaxDims];
  int64_t acc_stride = 1;
  for (int d = p.rank - 1; d >= 0; --d) {
    stride[d] = acc_stride;
    acc_stride *= p.shape[d];
  }
  for (int64_t o = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; o < n_out; o += int64_t(gridDim.x) * blockDim.x) {
    int64_t rem = o, base = 0;
    for (int d = p.rank - 1; d >= 0; --d) {
      if (p.reduce[d]) continue;
      base += (rem % p.shape[d]) * stride[d];
      rem /= p.shape[d];
    }
    double acc = 0;
    for (int64_t r = 0; r < n_red; ++r) {
      int64_t rr = r, off = base;
      for (int d = p.rank - 1; d >= 0; --d) {
        if (!p.reduce[d]) continue;
        off += (rr % p.shape[d]) * stride[d];
        rr /= p.shape[d];
      }
      acc += static_cast<double>(x[off]);
    }
    out[o] = static_cast<T>(acc);
  }
}

}  // namespace

namespace impl {

// In elements of T, float or double: room for the double partial sums either way.
int64_t sum_axes_workspace(const math::SumParams& p) {
  const Canonical c = canonical(p);
  if (!c.ok) return 0;
  const int64_t chunks = chunks_of(c.R);
  return chunks > 1 ? 2 * c.outer * chunks * c.inner : 0;
}

template <class T>
void sum_axes(const T* x, T* out, T* workspace, const math::SumParams& p, Stream s) {
  int64_t n_out = 1, n_red = 1;
  for (int d = 0; d < p.rank; ++d) (p.reduce[d] ? n_red : n_out) *= p.shape[d];
  if (n_out == 0) return;
  const cudaStream_t st = detail::stream_of(s.handle);
  const Canonical c = canonical(p);
  if (!c.ok || c.outer > 65535 || n_red == 0) {
    sum_axes_kernel<<<detail::grid_for(n_out), 256, 0, st>>>(x, out, p, n_out, n_red);
    PN_CUDA_CHECK_LAUNCH("sum_axes_kernel");
    return;
  }
  const int64_t chunks = chunks_of(c.R);
  const int64_t rows_per_chunk = (c.R + chunks - 1) / chunks;
  PN_CHECK(chunks == 1 || workspace != nullptr, "cuda::sum_axes: no workspace for ", chunks, " chunks");
  // The workspace comes from the caching allocator: aligned for doubles.
  double* partial = reinterpret_cast<double*>(workspace);
  if (c.inner == 1) {
    const dim3 grid(static_cast<unsigned>(chunks), static_cast<unsigned>(c.outer));
    if (chunks == 1) sum_rows_kernel<<<grid, 256, 0, st>>>(x, out, c.R, rows_per_chunk);
    else sum_rows_kernel<<<grid, 256, 0, st>>>(x, partial, c.R, rows_per_chunk);
    PN_CUDA_CHECK_LAUNCH("sum_rows_kernel");
  } else {
    const dim3 grid(static_cast<unsigned>((c.inner + 31) / 32), static_cast<unsigned>(c.outer),
                    static_cast<unsigned>(chunks));
    if (chunks == 1) sum_columns_kernel<<<grid, dim3(32, 8), 0, st>>>(x, out, c.R, c.inner, rows_per_chunk);
    else sum_columns_kernel<<<grid, dim3(32, 8), 0, st>>>(x, partial, c.R, c.inner, rows_per_chunk);
    PN_CUDA_CHECK_LAUNCH("sum_columns_kernel");
  }
  if (chunks > 1) {
    sum_chunks_kernel<<<detail::grid_for(c.outer * c.inner), 256, 0, st>>>(partial, out, c.outer, chunks, c.inner);
    PN_CUDA_CHECK_LAUNCH("sum_chunks_kernel");
  }
}

template void sum_axes<float>(const float*, float*, float*, const math::SumParams&, Stream);
template void sum_axes<double>(const double*, double*, double*, const math::SumParams&, Stream);

}  // namespace impl

PN_CUDA_REGISTER_FUNCTION(sum_axes_workspace);
PN_CUDA_REGISTER(sum_axes, float, double);

}  // namespace patchnet::cuda
