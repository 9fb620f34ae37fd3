// CPU 2-d convolution as lowering + GEMM, NHWC input, HWIO weight [KH, KW, C/groups, Cout]:
//
//   y[rows, Cout] = bias + cols[rows, KH*KW*C] x w[KH*KW*C/groups, Cout]   (per group)
//
// where cols is the patch matrix of cpu/im2col.hpp (for non-overlapping windows, kernel ==
// stride, a space-to-depth of the input). The patch matrix is built a chunk of images at a
// time into a caller-provided workspace, so its size stays bounded (kChunkBytes) however
// large the batch (a 3x3 convolution's matrix is 9x its input), and so it is still in the
// cache when the GEMM reads it: measured on the models' shapes, 4 MiB chunks run 5-15%
// faster than one 28 MiB matrix.
//
// Backward, per chunk: rebuild cols and add cols^T dy into dw (GEMM with beta = 1, chunks
// in order: deterministic); then dcols = dy w^T into the same workspace and col2im (each
// thread owns whole input rows: race-free, fixed order) or, for non-overlapping windows,
// the plain scatter of cpu/patches.hpp into dx. The bias gradient is left to the caller.
#pragma once

#include <algorithm>
#include <cstdint>

#include "patchnet/cpu/gemm.hpp"
#include "patchnet/cpu/im2col.hpp"
#include "patchnet/cpu/parallel.hpp"
#include "patchnet/cpu/patches.hpp"
#include "patchnet/core/geometry.hpp"

namespace patchnet::cpu {

enum class Lowering { Patches, Im2col };

struct LoweredConv2d {
  Window2d g;  // input N, H, W, C; kernel, stride, padding; OH, OW
  int64_t groups = 1;
  int64_t cout = 0;
  Lowering lowering = Lowering::Im2col;

  int64_t width() const { return g.kernel.h * g.kernel.w * g.C; }  // columns of the patch matrix
  int64_t rows_per_image() const { return g.OH * g.OW; }
};

inline constexpr int64_t kChunkBytes = int64_t{4} << 20;

// Images per chunk: as many as fit kChunkBytes of patch matrix, at least one.
inline int64_t conv2d_images_per_chunk(const LoweredConv2d& p, int64_t elem_bytes, int64_t chunk_bytes = kChunkBytes) {
  const int64_t per_image = std::max<int64_t>(1, p.rows_per_image() * p.width() * elem_bytes);
  return std::clamp<int64_t>(chunk_bytes / per_image, 1, std::max<int64_t>(p.g.N, 1));
}

// Elements of workspace the forward and backward need for chunks of `images` images.
inline int64_t conv2d_workspace_elems(const LoweredConv2d& p, int64_t images) {
  return images * p.rows_per_image() * p.width();
}

namespace conv2d_detail {
// The patch-matrix gradient back to the input. (The forward lowering is im2col for both
// kinds: with kernel == stride it is a space-to-depth.)
template <class T>
void cols_to_input(const T* dcols, const LoweredConv2d& p, int64_t n, T* dx) {
  if (p.lowering == Lowering::Patches) scatter_patches(dcols, p.g, n, dx);
  else col2im(dcols, p.g, p.groups, n, dx);
}
}  // namespace conv2d_detail

// y [N, OH, OW, Cout] = conv(x, w) + bias (bias may be null); writes every y. `cols` holds
// conv2d_workspace_elems(p, images_per_chunk) elements.
template <class T>
void conv2d_lowered_forward(const T* x, const T* w, const T* bias, T* y, const LoweredConv2d& p,
                            int64_t images_per_chunk, T* cols) {
  const Window2d& g = p.g;
  const int64_t K = p.width(), Kg = K / p.groups, Cout = p.cout, Coutg = Cout / p.groups;
  for (int64_t n0 = 0; n0 < g.N; n0 += images_per_chunk) {
    const int64_t nb = std::min(images_per_chunk, g.N - n0), rows = nb * p.rows_per_image();
    im2col(x + n0 * g.H * g.W * g.C, p.g, p.groups, nb, cols);
    T* yc = y + n0 * p.rows_per_image() * Cout;
    if (bias) {  // start from the bias; the products accumulate on top
      const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 15) / std::max<int64_t>(Cout, 1));
      parallel_for(0, rows, grain, [&](int64_t lo, int64_t hi) {
        for (int64_t r = lo; r < hi; ++r) std::copy_n(bias, Cout, yc + r * Cout);
      });
    }
    for (int64_t gi = 0; gi < p.groups; ++gi)
      gemm<T>(false, false, rows, Coutg, Kg, T(1), cols + gi * Kg, K, w + gi * Coutg, Cout, bias ? T(1) : T(0),
              yc + gi * Coutg, Cout);
  }
}

// dx [N, H, W, C] and dw [KH, KW, C/groups, Cout] from dy [N, OH, OW, Cout]; either output
// may be null (not needed). Both are written, not accumulated into.
template <class T>
void conv2d_lowered_backward(const T* x, const T* w, const T* dy, T* dx, T* dw, const LoweredConv2d& p,
                             int64_t images_per_chunk, T* cols) {
  const Window2d& g = p.g;
  const int64_t K = p.width(), Kg = K / p.groups, Cout = p.cout, Coutg = Cout / p.groups;
  if (dw && g.N == 0) std::fill_n(dw, Kg * Cout, T(0));
  for (int64_t n0 = 0; n0 < g.N; n0 += images_per_chunk) {
    const int64_t nb = std::min(images_per_chunk, g.N - n0), rows = nb * p.rows_per_image();
    const T* dyc = dy + n0 * p.rows_per_image() * Cout;
    if (dw) {
      im2col(x + n0 * g.H * g.W * g.C, p.g, p.groups, nb, cols);
      for (int64_t gi = 0; gi < p.groups; ++gi)
        gemm<T>(true, false, Kg, Coutg, rows, T(1), cols + gi * Kg, K, dyc + gi * Coutg, Cout, n0 == 0 ? T(0) : T(1),
                dw + gi * Coutg, Cout);
    }
    if (dx) {
      for (int64_t gi = 0; gi < p.groups; ++gi)
        gemm<T>(false, true, rows, Kg, Coutg, T(1), dyc + gi * Coutg, Cout, w + gi * Coutg, Cout, T(0), cols + gi * Kg,
                K);
      conv2d_detail::cols_to_input(cols, p, nb, dx + n0 * g.H * g.W * g.C);
    }
  }
}

}  // namespace patchnet::cpu
