// CPU kernel of sum over a set of axes of a packed tensor. Axes are grouped into runs of
// kept and reduced dimensions: [kept | reduced] sums rows, [reduced | kept] sums columns
// (the bias-gradient case over N*H*W), anything else goes through a general loop.
// Accumulation is in double. The parameters are math::SumParams, as for the CUDA launcher
// (cuda/reduce.hpp).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "patchnet/cpu/parallel.hpp"
#include "patchnet/math/reduce.hpp"

namespace patchnet::cpu {

template <class T>
void sum_axes(const T* x, const math::SumParams& params, T* out) {
  // Merge neighbouring dimensions of the same kind.
  std::vector<int64_t> size;
  std::vector<bool> red;
  int64_t total = 1;
  for (int i = 0; i < params.rank; ++i) {
    total *= params.shape[i];
    if (params.shape[i] == 1) continue;
    if (!size.empty() && red.back() == params.reduce[i]) {
      size.back() *= params.shape[i];
    } else {
      size.push_back(params.shape[i]);
      red.push_back(params.reduce[i]);
    }
  }
  int64_t kept = 1;
  for (size_t i = 0; i < size.size(); ++i)
    if (!red[i]) kept *= size[i];
  if (total == 0) {
    for (int64_t j = 0; j < kept; ++j) out[j] = T(0);
    return;
  }
  if (size.empty() || (size.size() == 1 && !red[0])) {  // nothing to reduce
    for (int64_t j = 0; j < kept; ++j) out[j] = x[j];
    return;
  }
  if (size.size() == 1 || (size.size() == 2 && !red[0])) {  // [kept | reduced] or all reduced
    const int64_t rows = size.size() == 1 ? 1 : size[0], n = size.back();
    // Few long rows (a whole-tensor sum): fixed pieces per row summed in parallel, then
    // in order. The split depends on the shape alone, so the result does not depend on
    // the thread count.
    const int64_t pieces = rows < 16 ? std::clamp<int64_t>(n >> 15, 1, 64) : 1;
    if (pieces > 1) {
      std::vector<double> part(static_cast<size_t>(rows * pieces), 0.0);
      parallel_for(0, rows * pieces, 1, [&](int64_t lo, int64_t hi) {
        for (int64_t u = lo; u < hi; ++u) {
          const int64_t p = u % pieces, begin = n * p / pieces, end = n * (p + 1) / pieces;
          const T* x_row = x + (u / pieces) * n;
          double acc = 0;
          for (int64_t i = begin; i < end; ++i) acc += x_row[i];
          part[static_cast<size_t>(u)] = acc;
        }
      });
      for (int64_t r = 0; r < rows; ++r) {
        double acc = 0;
        for (int64_t p = 0; p < pieces; ++p) acc += part[static_cast<size_t>(r * pieces + p)];
        out[r] = static_cast<T>(acc);
      }
      return;
    }
    parallel_for(0, rows, std::max<int64_t>(1, (1 << 15) / n), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        double acc = 0;
        const T* p = x + r * n;
        for (int64_t i = 0; i < n; ++i) acc += p[i];
        out[r] = static_cast<T>(acc);
      }
    });
    return;
  }
  if (size.size() == 2) {  // [reduced | kept]
    const int64_t rows = size[0], n = size[1];
    parallel_for(0, n, 256, [&](int64_t lo, int64_t hi) {
      std::vector<double> acc(static_cast<size_t>(hi - lo), 0.0);
      for (int64_t r = 0; r < rows; ++r) {
        const T* p = x + r * n;
        for (int64_t j = lo; j < hi; ++j) acc[static_cast<size_t>(j - lo)] += p[j];
      }
      for (int64_t j = lo; j < hi; ++j) out[j] = static_cast<T>(acc[static_cast<size_t>(j - lo)]);
    });
    return;
  }
  // General: walk the input, adding each element into its output slot.
  const int r = static_cast<int>(size.size());
  std::vector<int64_t> ostride(size.size(), 0);
  int64_t acc_stride = 1;
  for (int i = r - 1; i >= 0; --i) {
    if (red[static_cast<size_t>(i)]) continue;
    ostride[static_cast<size_t>(i)] = acc_stride;
    acc_stride *= size[static_cast<size_t>(i)];
  }
  std::vector<double> acc(static_cast<size_t>(kept), 0.0);
  std::vector<int64_t> idx(size.size(), 0);
  int64_t o = 0;
  for (int64_t i = 0; i < total; ++i) {
    acc[static_cast<size_t>(o)] += x[i];
    for (int d = r - 1; d >= 0; --d) {
      const size_t k = static_cast<size_t>(d);
      o += ostride[k];
      if (++idx[k] < size[k]) break;
      o -= ostride[k] * size[k];
      idx[k] = 0;
    }
  }
  for (int64_t j = 0; j < kept; ++j) out[j] = static_cast<T>(acc[static_cast<size_t>(j)]);
}

}  // namespace patchnet::cpu
