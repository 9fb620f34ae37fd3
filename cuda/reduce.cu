// Sum over axes: one thread per output element walks its reduced elements, accumulating
// in double. Over the [N*H*W, C] bias-gradient shape, neighbouring threads read
// neighbouring channels, so loads coalesce.
#include <cstdint>

#include "check.cuh"
#include "patchnet/cuda/reduce.hpp"

namespace patchnet::cuda {
namespace {

template <class T>
__global__ void sum_axes_kernel(const T* __restrict__ x, T* __restrict__ out, SumParams p, int64_t n_out,
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

template <class T>
void sum_axes(const T* x, T* out, const SumParams& p, Stream s) {
  int64_t n_out = 1, n_red = 1;
  for (int d = 0; d < p.rank; ++d) (p.reduce[d] ? n_red : n_out) *= p.shape[d];
  if (n_out == 0) return;
  sum_axes_kernel<<<detail::grid_for(n_out), 256, 0, detail::stream_of(s.handle)>>>(x, out, p, n_out, n_red);
  PN_CUDA_CHECK_LAUNCH("sum_axes_kernel");
}

template void sum_axes<float>(const float*, float*, const SumParams&, Stream);
template void sum_axes<double>(const double*, double*, const SumParams&, Stream);

}  // namespace patchnet::cuda
