// CPU kernels of 2-d pooling over NHWC images. The geometry is core/geometry.hpp's Window2d
// (sizes, stride, TensorFlow "same" / "valid" padding, built by window2d() in
// ops/geometry.hpp), as for the CUDA launchers (cuda/pool.hpp).
//
// Padded positions are never read: each window is clipped to the input, so max pooling
// ignores padding (TensorFlow pads with -inf) and average pooling divides by the number of
// valid elements (TensorFlow's count). Every inner loop runs along C, the contiguous
// dimension of a pixel. Backward kernels zero one image of dx and scatter-add into it;
// they run in parallel over images, because windows overlap (stride < pool) only within
// an image, so no two threads touch one element.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "patchnet/cpu/parallel.hpp"
#include "patchnet/math/pool.hpp"
#include "patchnet/core/geometry.hpp"

namespace patchnet::cpu {

namespace detail {
// The input rows (or columns) of window o: it starts at input index i0 = o * stride - pad
// (negative inside the padding) and its valid taps are k in [k0, k1).
// (math::pool_span, shared with the CUDA kernels.)
using WindowSpan = math::PoolSpan;
inline WindowSpan window_span(int64_t o, int64_t stride, int64_t pad, int64_t k, int64_t in) {
  return math::pool_span(o, stride, pad, k, in);
}

// Calls f(n, o, rows, cols) for every output pixel of images [n0, n1): n its image, o its
// flat index into [N, OH, OW], rows / cols the valid spans of its window.
template <class F>
void for_each_window(const Window2d& g, int64_t n0, int64_t n1, F&& f) {
  for (int64_t n = n0; n < n1; ++n)
    for (int64_t oh = 0; oh < g.OH; ++oh) {
      const WindowSpan rows = window_span(oh, g.stride.h, g.pad.top, g.kernel.h, g.H);
      for (int64_t ow = 0; ow < g.OW; ++ow)
        f(n, (n * g.OH + oh) * g.OW + ow, rows, window_span(ow, g.stride.w, g.pad.left, g.kernel.w, g.W));
    }
}

// Images per parallel chunk: about 32K elements of work.
inline int64_t image_grain(const Window2d& g) {
  return std::max<int64_t>(1, (int64_t{1} << 15) / std::max<int64_t>(1, g.H * g.W * g.C));
}
}  // namespace detail

// y[n, oh, ow, c] = max over the valid taps of the window.
template <class T>
void max_pool2d_forward(const T* x, const Window2d& g, T* y) {
  const int64_t C = g.C;
  parallel_for(0, g.N, detail::image_grain(g), [&](int64_t lo, int64_t hi) {
    detail::for_each_window(g, lo, hi, [&](int64_t n, int64_t o, detail::WindowSpan rs, detail::WindowSpan cs) {
      const T* img = x + n * g.H * g.W * C;
      T* out = y + o * C;
      const T* first = img + ((rs.i0 + rs.k0) * g.W + cs.i0 + cs.k0) * C;
      for (int64_t c = 0; c < C; ++c) out[c] = first[c];
      for (int64_t kh = rs.k0; kh < rs.k1; ++kh)
        for (int64_t kw = cs.k0; kw < cs.k1; ++kw) {
          if (kh == rs.k0 && kw == cs.k0) continue;
          const T* v = img + ((rs.i0 + kh) * g.W + cs.i0 + kw) * C;
          for (int64_t c = 0; c < C; ++c) out[c] = v[c] > out[c] ? v[c] : out[c];
        }
    });
  });
}

// dx: each output's gradient goes to the first tap, in row-major window order, whose value
// equals the output (the first maximum, as TensorFlow's argmax picks). Branch-free along C:
// `left` holds the gradient not yet delivered and drops to 0 at the first hit. Writes dx.
template <class T>
void max_pool2d_backward(const T* x, const T* y, const T* gy, const Window2d& g, T* dx) {
  const int64_t C = g.C, image = g.H * g.W * C;
  parallel_for(0, g.N, detail::image_grain(g), [&](int64_t lo, int64_t hi) {
    std::vector<T> left_buf(static_cast<size_t>(C));
    T* left = left_buf.data();
    for (int64_t n = lo; n < hi; ++n) {
      std::fill(dx + n * image, dx + (n + 1) * image, T(0));  // one image, still in cache for the scatter
      detail::for_each_window(g, n, n + 1, [&](int64_t, int64_t o, detail::WindowSpan rs, detail::WindowSpan cs) {
        const T* yo = y + o * C;
        std::copy(gy + o * C, gy + (o + 1) * C, left);
        for (int64_t kh = rs.k0; kh < rs.k1; ++kh)
          for (int64_t kw = cs.k0; kw < cs.k1; ++kw) {
            const int64_t at = n * image + ((rs.i0 + kh) * g.W + cs.i0 + kw) * C;
            const T* v = x + at;
            T* d = dx + at;
            for (int64_t c = 0; c < C; ++c) {
              const bool hit = v[c] == yo[c];
              d[c] += hit ? left[c] : T(0);
              left[c] = hit ? T(0) : left[c];
            }
          }
      });
    }
  });
}

// y = mean of the window's valid taps (padding excluded from the count).
template <class T>
void avg_pool2d_forward(const T* x, const Window2d& g, T* y) {
  const int64_t C = g.C;
  parallel_for(0, g.N, detail::image_grain(g), [&](int64_t lo, int64_t hi) {
    detail::for_each_window(g, lo, hi, [&](int64_t n, int64_t o, detail::WindowSpan rs, detail::WindowSpan cs) {
      const T* img = x + n * g.H * g.W * C;
      T* out = y + o * C;
      std::fill(out, out + C, T(0));
      for (int64_t kh = rs.k0; kh < rs.k1; ++kh)
        for (int64_t kw = cs.k0; kw < cs.k1; ++kw) {
          const T* v = img + ((rs.i0 + kh) * g.W + cs.i0 + kw) * C;
          for (int64_t c = 0; c < C; ++c) out[c] += v[c];
        }
      const T inv = T(1) / static_cast<T>((rs.k1 - rs.k0) * (cs.k1 - cs.k0));
      for (int64_t c = 0; c < C; ++c) out[c] *= inv;
    });
  });
}

// dx[tap] += gy / count for every valid tap of every window. Writes dx.
template <class T>
void avg_pool2d_backward(const T* gy, const Window2d& g, T* dx) {
  const int64_t C = g.C, image = g.H * g.W * C;
  parallel_for(0, g.N, detail::image_grain(g), [&](int64_t lo, int64_t hi) {
    for (int64_t n = lo; n < hi; ++n) {
      std::fill(dx + n * image, dx + (n + 1) * image, T(0));
      detail::for_each_window(g, n, n + 1, [&](int64_t, int64_t o, detail::WindowSpan rs, detail::WindowSpan cs) {
        const T* go = gy + o * C;
        const T inv = T(1) / static_cast<T>((rs.k1 - rs.k0) * (cs.k1 - cs.k0));
        for (int64_t kh = rs.k0; kh < rs.k1; ++kh)
          for (int64_t kw = cs.k0; kw < cs.k1; ++kw) {
            T* d = dx + n * image + ((rs.i0 + kh) * g.W + cs.i0 + kw) * C;
            for (int64_t c = 0; c < C; ++c) d[c] += go[c] * inv;
          }
      });
    }
  });
}

// y[n, c] = mean over the HW pixels of image n, accumulated in double.
template <class T>
void global_avg_pool_forward(const T* x, int64_t N, int64_t HW, int64_t C, T* y) {
  const double inv = 1.0 / static_cast<double>(HW);
  parallel_for(0, N, std::max<int64_t>(1, (int64_t{1} << 15) / std::max<int64_t>(1, HW * C)),
               [&](int64_t lo, int64_t hi) {
                 std::vector<double> acc(static_cast<size_t>(C));
                 double* a = acc.data();
                 for (int64_t n = lo; n < hi; ++n) {
                   std::fill(a, a + C, 0.0);
                   for (int64_t p = 0; p < HW; ++p) {
                     const T* v = x + (n * HW + p) * C;
                     for (int64_t c = 0; c < C; ++c) a[c] += static_cast<double>(v[c]);
                   }
                   for (int64_t c = 0; c < C; ++c) y[n * C + c] = static_cast<T>(a[c] * inv);
                 }
               });
}

// dx[n, p, c] = gy[n, c] / HW. Writes dx.
template <class T>
void global_avg_pool_backward(const T* gy, int64_t N, int64_t HW, int64_t C, T* dx) {
  const T inv = static_cast<T>(1.0 / static_cast<double>(HW));
  parallel_for(0, N * HW, std::max<int64_t>(1, (int64_t{1} << 15) / std::max<int64_t>(1, C)),
               [&](int64_t lo, int64_t hi) {
                 for (int64_t q = lo; q < hi; ++q) {
                   const T* go = gy + q / HW * C;
                   T* d = dx + q * C;
                   for (int64_t c = 0; c < C; ++c) d[c] = go[c] * inv;
                 }
               });
}

}  // namespace patchnet::cpu
