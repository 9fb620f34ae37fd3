// Iteration over strided N-d views: the loop skeleton of copies and broadcasting
// elementwise ops. Dimensions that are contiguous for every operand are merged first, so
// a packed tensor is one long row and a broadcast bias is rows of C.
#pragma once

#include <array>
#include <cstdint>

#include "patchnet/core/shape.hpp"
#include "patchnet/cpu/parallel.hpp"

namespace patchnet::cpu {

template <int N>
struct StridedLayout {
  int rank = 0;
  std::array<int64_t, kMaxDims> shape{};
  std::array<std::array<int64_t, kMaxDims>, N> strides{};
};

// Drops size-1 dimensions and merges dimension i into i+1 wherever every operand is
// contiguous across them.
template <int N>
StridedLayout<N> coalesce(const Shape& shape, const std::array<Strides, N>& strides) {
  StridedLayout<N> L;
  for (int i = 0; i < shape.rank(); ++i) {
    if (shape[i] == 1) continue;
    bool merge = L.rank > 0;
    for (int k = 0; k < N && merge; ++k) merge = strides[k][i] * shape[i] == L.strides[k][L.rank - 1];
    if (merge) {
      L.shape[L.rank - 1] *= shape[i];
      for (int k = 0; k < N; ++k) L.strides[k][L.rank - 1] = strides[k][i];
    } else {
      L.shape[L.rank] = shape[i];
      for (int k = 0; k < N; ++k) L.strides[k][L.rank] = strides[k][i];
      ++L.rank;
    }
  }
  return L;
}

// Calls row(offsets, n, steps) once per innermost row: the row starts at offsets[k] in
// operand k, has n elements, and steps[k] between them. Rows run in parallel when the
// view is large; row must not throw.
template <int N, class Row>
void for_each_row(const Shape& shape, const std::array<Strides, N>& strides, Row&& row, int64_t grain = 1 << 15) {
  if (shape.numel() == 0) return;
  const StridedLayout<N> L = coalesce<N>(shape, strides);
  if (L.rank == 0) {  // a single element
    std::array<int64_t, N> zero{}, one{};
    one.fill(1);
    row(zero, int64_t{1}, one);
    return;
  }
  const int last = L.rank - 1;
  const int64_t n = L.shape[last];
  std::array<int64_t, N> steps;
  for (int k = 0; k < N; ++k) steps[k] = L.strides[k][last];
  int64_t rows = 1;
  for (int i = 0; i < last; ++i) rows *= L.shape[i];
  auto row_offsets = [&](int64_t r, std::array<int64_t, kMaxDims>& idx) {
    for (int i = last - 1; i >= 0; --i) {
      idx[i] = r % L.shape[i];
      r /= L.shape[i];
    }
    std::array<int64_t, N> off{};
    for (int k = 0; k < N; ++k)
      for (int i = 0; i < last; ++i) off[k] += idx[i] * L.strides[k][i];
    return off;
  };
  // Few long rows (a packed tensor is one row): split rows into pieces across threads.
  const int64_t threads = max_threads();
  if (rows < threads && n >= 2 * grain) {
    const int64_t pieces = std::min<int64_t>((n + grain - 1) / grain, threads);
    parallel_for(0, rows * pieces, 1, [&](int64_t lo, int64_t hi) {
      std::array<int64_t, kMaxDims> idx{};
      for (int64_t u = lo; u < hi; ++u) {
        const int64_t p = u % pieces, begin = n * p / pieces, end = n * (p + 1) / pieces;
        std::array<int64_t, N> off = row_offsets(u / pieces, idx);
        for (int k = 0; k < N; ++k) off[k] += begin * steps[k];
        row(off, end - begin, steps);
      }
    });
    return;
  }
  const int64_t row_grain = std::max<int64_t>(1, grain / std::max<int64_t>(n, 1));
  parallel_for(0, rows, row_grain, [&](int64_t lo, int64_t hi) {
    std::array<int64_t, kMaxDims> idx{};
    std::array<int64_t, N> off = row_offsets(lo, idx);
    for (int64_t q = lo; q < hi; ++q) {
      row(off, n, steps);
      for (int i = last - 1; i >= 0; --i) {  // odometer step to the next row
        for (int k = 0; k < N; ++k) off[k] += L.strides[k][i];
        if (++idx[i] < L.shape[i]) break;
        for (int k = 0; k < N; ++k) off[k] -= L.strides[k][i] * L.shape[i];
        idx[i] = 0;
      }
    }
  });
}

// dst[i] = src[i] over a shape, each side with its own strides.
template <class T>
void strided_copy(const T* src, const Strides& src_strides, T* dst, const Strides& dst_strides, const Shape& shape) {
  for_each_row<2>(shape, {dst_strides, src_strides},
                  [&](const std::array<int64_t, 2>& off, int64_t n, const std::array<int64_t, 2>& st) {
                    T* d = dst + off[0];
                    const T* s = src + off[1];
                    if (st[0] == 1 && st[1] == 1) {
                      for (int64_t i = 0; i < n; ++i) d[i] = s[i];
                    } else {
                      for (int64_t i = 0; i < n; ++i) d[i * st[0]] = s[i * st[1]];
                    }
                  });
}

}  // namespace patchnet::cpu
