// Softmax / log_softmax kernels (launchers in cuda/softmax.hpp), over [outer, dim, inner].
//
// inner == 1 (the last axis, rows contiguous): one warp per row; lanes stride the row,
// the max and the sums are combined with butterfly shuffles (a fixed order, so results are
// reproducible run to run, though not bit-equal to the CPU's serial sums).
// inner > 1: one thread per (outer, inner) position walks the axis with stride inner;
// neighbouring threads read neighbouring inner positions (the channels of NHWC), so loads
// coalesce. Same three passes as the CPU: max, sum of exp, write.
#include <cstdint>

#include "patchnet/cuda/softmax.hpp"
#include "reduce.cuh"

namespace patchnet::cuda {
namespace {

using namespace detail;  // reduce.cuh: warp reductions, the row-per-warp mapping

template <bool Log, class T>
__global__ void softmax_rows_forward(const T* __restrict__ x, T* __restrict__ y, int64_t rows, int64_t D) {
  const int lane = threadIdx.x & 31;
  const int64_t step = row_step();  // hoisted: in the loop it cost registers
  for (int64_t r = first_row(); r < rows; r += step) {
    const T* xr = x + r * D;
    T* yr = y + r * D;
    T m, s;
    warp_row_max_sumexp(xr, D, lane, m, s);
    if (Log) {
      const T log_s = dev_log(s);
      for (int64_t j = lane; j < D; j += 32) yr[j] = (xr[j] - m) - log_s;
    } else {
      const T inv = T(1) / s;
      for (int64_t j = lane; j < D; j += 32) yr[j] = dev_exp(xr[j] - m) * inv;
    }
  }
}

template <bool Log, class T>
__global__ void softmax_rows_backward(const T* __restrict__ y, const T* __restrict__ g, T* __restrict__ gx,
                                      int64_t rows, int64_t D) {
  const int lane = threadIdx.x & 31;
  const int64_t step = row_step();  // hoisted: in the loop it cost registers
  for (int64_t r = first_row(); r < rows; r += step) {
    const T *yr = y + r * D, *gr = g + r * D;
    T* out = gx + r * D;
    T dot = 0;
    for (int64_t j = lane; j < D; j += 32) dot += Log ? gr[j] : gr[j] * yr[j];
    dot = warp_sum(dot);
    for (int64_t j = lane; j < D; j += 32) out[j] = Log ? gr[j] - dev_exp(yr[j]) * dot : yr[j] * (gr[j] - dot);
  }
}

template <bool Log, class T>
__global__ void softmax_strided_forward(const T* __restrict__ x, T* __restrict__ y, int64_t outer, int64_t D,
                                        int64_t I) {
  const int64_t n = outer * I;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < n; t += int64_t(gridDim.x) * blockDim.x) {
    const int64_t off = (t / I) * D * I + t % I;
    const T* xo = x + off;
    T* yo = y + off;
    T m = xo[0];
    for (int64_t d = 1; d < D; ++d) m = max_like_cpu(m, xo[d * I]);
    T s = 0;
    for (int64_t d = 0; d < D; ++d) s += dev_exp(xo[d * I] - m);
    if (Log) {
      const T log_s = dev_log(s);
      for (int64_t d = 0; d < D; ++d) yo[d * I] = (xo[d * I] - m) - log_s;
    } else {
      const T inv = T(1) / s;
      for (int64_t d = 0; d < D; ++d) yo[d * I] = dev_exp(xo[d * I] - m) * inv;
    }
  }
}

template <bool Log, class T>
__global__ void softmax_strided_backward(const T* __restrict__ y, const T* __restrict__ g, T* __restrict__ gx,
                                         int64_t outer, int64_t D, int64_t I) {
  const int64_t n = outer * I;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < n; t += int64_t(gridDim.x) * blockDim.x) {
    const int64_t off = (t / I) * D * I + t % I;
    const T *yo = y + off, *go = g + off;
    T* out = gx + off;
    T dot = 0;
    for (int64_t d = 0; d < D; ++d) dot += Log ? go[d * I] : go[d * I] * yo[d * I];
    for (int64_t d = 0; d < D; ++d)
      out[d * I] = Log ? go[d * I] - dev_exp(yo[d * I]) * dot : yo[d * I] * (go[d * I] - dot);
  }
}

}  // namespace

namespace impl {

template <class T>
void softmax_forward(const T* x, T* y, const SoftmaxParams& p, Stream s) {
  if (p.outer == 0 || p.dim == 0 || p.inner == 0) return;
  const auto st = detail::stream_of(s.handle);
  if (p.inner == 1) {
    if (p.log) softmax_rows_forward<true, T><<<row_grid(p.outer), kRowThreads, 0, st>>>(x, y, p.outer, p.dim);
    else softmax_rows_forward<false, T><<<row_grid(p.outer), kRowThreads, 0, st>>>(x, y, p.outer, p.dim);
    PN_CUDA_CHECK_LAUNCH("softmax_rows_forward");
  } else {
    const unsigned grid = detail::grid_for(p.outer * p.inner);
    if (p.log) softmax_strided_forward<true, T><<<grid, 256, 0, st>>>(x, y, p.outer, p.dim, p.inner);
    else softmax_strided_forward<false, T><<<grid, 256, 0, st>>>(x, y, p.outer, p.dim, p.inner);
    PN_CUDA_CHECK_LAUNCH("softmax_strided_forward");
  }
}

template <class T>
void softmax_backward(const T* y, const T* gy, T* gx, const SoftmaxParams& p, Stream s) {
  if (p.outer == 0 || p.dim == 0 || p.inner == 0) return;
  const auto st = detail::stream_of(s.handle);
  if (p.inner == 1) {
    if (p.log) softmax_rows_backward<true, T><<<row_grid(p.outer), kRowThreads, 0, st>>>(y, gy, gx, p.outer, p.dim);
    else softmax_rows_backward<false, T><<<row_grid(p.outer), kRowThreads, 0, st>>>(y, gy, gx, p.outer, p.dim);
    PN_CUDA_CHECK_LAUNCH("softmax_rows_backward");
  } else {
    const unsigned grid = detail::grid_for(p.outer * p.inner);
    if (p.log) softmax_strided_backward<true, T><<<grid, 256, 0, st>>>(y, gy, gx, p.outer, p.dim, p.inner);
    else softmax_strided_backward<false, T><<<grid, 256, 0, st>>>(y, gy, gx, p.outer, p.dim, p.inner);
    PN_CUDA_CHECK_LAUNCH("softmax_strided_backward");
  }
}

template void softmax_forward<float>(const float*, float*, const SoftmaxParams&, Stream);
template void softmax_forward<double>(const double*, double*, const SoftmaxParams&, Stream);
template void softmax_backward<float>(const float*, const float*, float*, const SoftmaxParams&, Stream);
template void softmax_backward<double>(const double*, const double*, double*, const SoftmaxParams&, Stream);

}  // namespace impl

PN_CUDA_REGISTER(softmax_forward, float, double);
PN_CUDA_REGISTER(softmax_backward, float, double);

}  // namespace patchnet::cuda
