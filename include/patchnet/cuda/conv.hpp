// CUDA launchers of the 2-d convolutions (cuda/depthwise_conv.cu, cuda/conv_im2col.cu),
// float and double, NHWC, packed arrays. The op header (ops/conv.hpp) sizes and allocates
// every temporary as a Tensor and passes it in: no launcher allocates. All outputs are
// written, never accumulated into, and every reduction runs in a fixed order (no atomics).
#pragma once

#include <algorithm>
#include <cstdint>

#include "patchnet/cuda/launcher.hpp"
#include "patchnet/core/geometry.hpp"

namespace patchnet::cuda {

// ---- depthwise (channel multiplier 1): x [N,H,W,C], w [KH,KW,C], y [N,OH,OW,C] ----------

namespace impl {
// y = depthwise(x, w) + bias (bias may be null).
template <class T>
void depthwise_conv2d_forward(const T* x, const T* w, const T* bias, T* y, const Window2d& g, Stream s = {});
// dx [N,H,W,C] from dy [N,OH,OW,C] and w.
template <class T>
void depthwise_conv2d_backward_input(const T* dy, const T* w, T* dx, const Window2d& g, Stream s = {});
}  // namespace impl
PN_CUDA_LAUNCHER(depthwise_conv2d_forward)
PN_CUDA_LAUNCHER(depthwise_conv2d_backward_input)

// Row blocks of the weight gradient's first pass (each writes one [KH*KW*C] partial sum).
inline int64_t depthwise_weight_parts(const Window2d& g) {
  const int64_t rows = g.N * g.OH, taps = g.kernel.h * g.kernel.w * std::max<int64_t>(g.C, 1);
  const int64_t by_work = std::clamp<int64_t>(rows / 16, 1, 1024);
  return std::max<int64_t>(1, std::min(by_work, (int64_t{1} << 24) / std::max<int64_t>(taps, 1)));
}
// Elements of the weight gradient's workspace.
inline int64_t depthwise_weight_workspace(const Window2d& g) {
  return depthwise_weight_parts(g) * g.kernel.h * g.kernel.w * g.C;
}
namespace impl {
// dw [KH,KW,C] from x and dy; `workspace` holds depthwise_weight_workspace(g) elements.
template <class T>
void depthwise_conv2d_backward_weight(const T* x, const T* dy, T* dw, const Window2d& g, T* workspace, Stream s = {});
}  // namespace impl
PN_CUDA_LAUNCHER(depthwise_conv2d_backward_weight)

// ---- helpers of every path ---------------------------------------------------------------

// Row blocks of column_sum's first pass (1: a single pass, no workspace).
inline int64_t column_sum_parts(int64_t rows) { return rows <= 2048 ? 1 : std::min<int64_t>((rows + 255) / 256, 1024); }
inline int64_t column_sum_workspace(int64_t rows, int64_t cols) {
  const int64_t parts = column_sum_parts(rows);
  return parts > 1 ? parts * cols : 0;
}
namespace impl {
// out[c] = sum_r a[r, c] for a packed [rows, cols] (every bias gradient: dy as
// [N*OH*OW, C]); fixed summation order. `workspace`: column_sum_workspace(rows, cols).
template <class T>
void column_sum(const T* a, T* out, int64_t rows, int64_t cols, T* workspace, Stream s = {});

// out[r, c] = row[c] for a packed [rows, cols] out (the bias, before a GEMM with beta 1).
template <class T>
void fill_rows(const T* row, T* out, int64_t rows, int64_t cols, Stream s = {});
}  // namespace impl
PN_CUDA_LAUNCHER(column_sum)
PN_CUDA_LAUNCHER(fill_rows)

// ---- lowering (cpu/im2col.hpp's layout): cols [n*OH*OW, KH*KW*C], group-major columns ----

namespace impl {
// cols from x [n_images, H, W, C]; padding reads as zeros. With kernel == stride and one
// group this is the space-to-depth of the patches path.
template <class T>
void im2col(const T* x, T* cols, const Window2d& g, int64_t groups, int64_t n_images, Stream s = {});
// dx [n_images, H, W, C] = sum of the patch-matrix gradient entries that copied each
// element (a gather: one thread per dx element, windows in a fixed order).
template <class T>
void col2im(const T* dcols, T* dx, const Window2d& g, int64_t groups, int64_t n_images, Stream s = {});
// The same for non-overlapping windows (kernel == stride, one group): each dx element
// takes one entry, or zero where no patch covers it.
template <class T>
void scatter_patches(const T* dcols, T* dx, const Window2d& g, int64_t n_images, Stream s = {});
}  // namespace impl
PN_CUDA_LAUNCHER(im2col)
PN_CUDA_LAUNCHER(col2im)
PN_CUDA_LAUNCHER(scatter_patches)

}  // namespace patchnet::cuda
