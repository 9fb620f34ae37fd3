// Lowering kernels of conv2d's patches and im2col paths, and the column sum behind every
// bias gradient (launchers in cuda/conv.hpp). Layout of the patch matrix as cpu/im2col.hpp:
// row (n, oh, ow), column gi*(KH*KW*Cg) + (kh*KW + kw)*Cg + ci.
//
// im2col: one thread per patch-matrix element (consecutive threads = consecutive columns:
// the writes coalesce, the reads are runs of Cg channels). With kernel == stride it is the
// space-to-depth gather of the patches path.
// col2im: one thread per dx element gathering the entries of every window that covers it
// (kh, then kw ascending): no atomics, a fixed order. scatter_patches: the same with exactly
// one covering window (or none: zero).
// column_sum: block (32 columns x 8 row lanes) per block of rows; lanes stride the rows,
// then are added in lane order through shared memory (double accumulators); with several
// row blocks a second pass adds their partial rows in block order.
#include <climits>
#include <cstdint>

#include "patchnet/cuda/conv.hpp"
#include "reduce.cuh"

namespace patchnet::cuda {
namespace {

constexpr int kLanes = 8;
constexpr int kCols = 32;

// The kernels index in 32 bits (core/geometry.hpp); a column row (KH * KW * C) must fit too.
Window2dI32 geom_of(const Window2d& g) {
  PN_CHECK(g.kernel.h * g.kernel.w * g.C <= INT_MAX / 4, "conv2d (CUDA): a column row of ",
           g.kernel.h * g.kernel.w * g.C, " elements is out of the kernels' range");
  return window2d_i32(g, "conv2d (CUDA)");
}

template <class T>
__global__ void column_sum_kernel(const T* __restrict__ a, T* __restrict__ out, int64_t rows, int64_t cols, int parts) {
  __shared__ double red[kLanes][kCols];
  const int64_t c = blockIdx.x * int64_t(kCols) + threadIdx.x;
  const int p = blockIdx.y;
  const int64_t r0 = rows * p / parts, r1 = rows * (p + 1) / parts;
  double acc = 0;
  if (c < cols)
    for (int64_t r = r0 + threadIdx.y; r < r1; r += kLanes) acc += static_cast<double>(a[r * cols + c]);
  const double s = detail::sum_lanes_in_order(red, acc);
  if (threadIdx.y == 0 && c < cols) out[int64_t(p) * cols + c] = static_cast<T>(s);
}

template <class T>
__global__ void fill_rows_kernel(const T* __restrict__ row, T* __restrict__ out, int64_t cols, int64_t total) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = row[i % cols];
}

template <class T>
__global__ void im2col_kernel(const T* __restrict__ x, T* __restrict__ cols, Window2dI32 g, int groups, int64_t total) {
  const int Cg = g.C / groups, group_width = g.KH * g.KW * Cg, width = group_width * groups;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int col = static_cast<int>(i % width);
    int64_t rest = i / width;
    const int ow = static_cast<int>(rest % g.OW);
    rest /= g.OW;
    const int oh = static_cast<int>(rest % g.OH);
    const int64_t n = rest / g.OH;
    const int gi = col / group_width, rem = col % group_width, tap = rem / Cg, ci = rem % Cg;
    const int kh = tap / g.KW, kw = tap % g.KW;
    const int ih = oh * g.SH - g.top + kh, iw = ow * g.SW - g.left + kw;
    cols[i] = ih >= 0 && ih < g.H && iw >= 0 && iw < g.W ? x[((n * g.H + ih) * g.W + iw) * int64_t(g.C) + gi * Cg + ci]
                                                         : T(0);
  }
}

template <class T>
__global__ void col2im_kernel(const T* __restrict__ dcols, T* __restrict__ dx, Window2dI32 g, int groups,
                              int64_t total) {
  const int Cg = g.C / groups, group_width = g.KH * g.KW * Cg, width = group_width * groups;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int c = static_cast<int>(i % g.C);
    int64_t rest = i / g.C;
    const int iw = static_cast<int>(rest % g.W);
    rest /= g.W;
    const int ih = static_cast<int>(rest % g.H);
    const int64_t n = rest / g.H;
    const int gi = c / Cg, ci = c % Cg;
    const int th = ih + g.top, tw = iw + g.left;  // padded coordinates (padding >= 0)
    const T* base = dcols + gi * group_width + ci;
    T acc = T(0);
    for (int kh = th % g.SH; kh < g.KH && kh <= th; kh += g.SH) {
      const int oh = (th - kh) / g.SH;
      if (oh >= g.OH) continue;
      for (int kw = tw % g.SW; kw < g.KW && kw <= tw; kw += g.SW) {
        const int ow = (tw - kw) / g.SW;
        if (ow >= g.OW) continue;
        acc += base[((n * g.OH + oh) * g.OW + ow) * int64_t(width) + (kh * g.KW + kw) * Cg];
      }
    }
    dx[i] = acc;
  }
}

template <class T>
__global__ void scatter_patches_kernel(const T* __restrict__ dcols, T* __restrict__ dx, Window2dI32 g, int64_t total) {
  const int width = g.KH * g.KW * g.C;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int c = static_cast<int>(i % g.C);
    int64_t rest = i / g.C;
    const int iw = static_cast<int>(rest % g.W);
    rest /= g.W;
    const int ih = static_cast<int>(rest % g.H);
    const int64_t n = rest / g.H;
    const int th = ih + g.top, tw = iw + g.left;
    const int oh = th / g.KH, kh = th % g.KH, ow = tw / g.KW, kw = tw % g.KW;
    dx[i] = oh < g.OH && ow < g.OW ? dcols[((n * g.OH + oh) * g.OW + ow) * int64_t(width) + (kh * g.KW + kw) * g.C + c]
                                   : T(0);
  }
}

}  // namespace

namespace impl {

template <class T>
void column_sum(const T* a, T* out, int64_t rows, int64_t cols, T* workspace, Stream s) {
  if (cols == 0) return;
  const int64_t blocks_x = (cols + kCols - 1) / kCols;
  PN_CHECK(blocks_x <= INT_MAX, "column_sum (CUDA): ", cols, " columns are too many");
  const int parts = static_cast<int>(column_sum_parts(rows));
  const cudaStream_t st = detail::stream_of(s.handle);
  const dim3 block(kCols, kLanes);
  if (parts == 1) {
    column_sum_kernel<<<dim3(static_cast<unsigned>(blocks_x), 1), block, 0, st>>>(a, out, rows, cols, 1);
    PN_CUDA_CHECK_LAUNCH("column_sum_kernel");
    return;
  }
  PN_CHECK(workspace != nullptr, "column_sum (CUDA): ", rows, " rows need a workspace");
  column_sum_kernel<<<dim3(static_cast<unsigned>(blocks_x), static_cast<unsigned>(parts)), block, 0, st>>>(
      a, workspace, rows, cols, parts);
  PN_CUDA_CHECK_LAUNCH("column_sum_kernel");
  column_sum_kernel<<<dim3(static_cast<unsigned>(blocks_x), 1), block, 0, st>>>(workspace, out, parts, cols, 1);
  PN_CUDA_CHECK_LAUNCH("column_sum_kernel");
}

template <class T>
void fill_rows(const T* row, T* out, int64_t rows, int64_t cols, Stream s) {
  const int64_t total = rows * cols;
  if (total == 0) return;
  fill_rows_kernel<<<detail::grid_for(total), 256, 0, detail::stream_of(s.handle)>>>(row, out, cols, total);
  PN_CUDA_CHECK_LAUNCH("fill_rows_kernel");
}

template <class T>
void im2col(const T* x, T* cols, const Window2d& g, int64_t groups, int64_t n_images, Stream s) {
  const Window2dI32 f = geom_of(g);
  const int64_t total = n_images * f.OH * f.OW * int64_t(f.KH) * f.KW * f.C;
  if (total == 0) return;
  im2col_kernel<<<detail::grid_for(total), 256, 0, detail::stream_of(s.handle)>>>(x, cols, f, static_cast<int>(groups),
                                                                                  total);
  PN_CUDA_CHECK_LAUNCH("im2col_kernel");
}

template <class T>
void col2im(const T* dcols, T* dx, const Window2d& g, int64_t groups, int64_t n_images, Stream s) {
  const Window2dI32 f = geom_of(g);
  const int64_t total = n_images * f.H * f.W * int64_t(f.C);
  if (total == 0) return;
  col2im_kernel<<<detail::grid_for(total), 256, 0, detail::stream_of(s.handle)>>>(dcols, dx, f,
                                                                                  static_cast<int>(groups), total);
  PN_CUDA_CHECK_LAUNCH("col2im_kernel");
}

template <class T>
void scatter_patches(const T* dcols, T* dx, const Window2d& g, int64_t n_images, Stream s) {
  const Window2dI32 f = geom_of(g);
  PN_CHECK(f.KH == f.SH && f.KW == f.SW, "scatter_patches (CUDA): kernel must equal stride");
  const int64_t total = n_images * f.H * f.W * int64_t(f.C);
  if (total == 0) return;
  scatter_patches_kernel<<<detail::grid_for(total), 256, 0, detail::stream_of(s.handle)>>>(dcols, dx, f, total);
  PN_CUDA_CHECK_LAUNCH("scatter_patches_kernel");
}

#define PATCHNET_INSTANTIATE(T)                                                     \
  template void column_sum<T>(const T*, T*, int64_t, int64_t, T*, Stream);          \
  template void fill_rows<T>(const T*, T*, int64_t, int64_t, Stream);               \
  template void im2col<T>(const T*, T*, const Window2d&, int64_t, int64_t, Stream); \
  template void col2im<T>(const T*, T*, const Window2d&, int64_t, int64_t, Stream); \
  template void scatter_patches<T>(const T*, T*, const Window2d&, int64_t, Stream);
PATCHNET_INSTANTIATE(float)
PATCHNET_INSTANTIATE(double)
#undef PATCHNET_INSTANTIATE

}  // namespace impl

PN_CUDA_REGISTER(column_sum, float, double);
PN_CUDA_REGISTER(fill_rows, float, double);
PN_CUDA_REGISTER(im2col, float, double);
PN_CUDA_REGISTER(col2im, float, double);
PN_CUDA_REGISTER(scatter_patches, float, double);

}  // namespace patchnet::cuda
