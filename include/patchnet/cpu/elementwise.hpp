// CPU kernels of the elementwise ops: a broadcasting binary loop over strided operands
// and a unary loop. Rows with unit steps are plain indexed loops the compiler vectorises.
#pragma once

#include <array>
#include <cstdint>

#include "patchnet/core/shape.hpp"
#include "patchnet/cpu/parallel.hpp"
#include "patchnet/cpu/strided.hpp"
#include "patchnet/math/elementwise.hpp"

namespace patchnet::cpu {

// out = op(a, b) over out_shape; a and b carry broadcast strides (0 on broadcast dims).
template <class T>
void binary(math::BinaryOp op, const T* a, const Strides& sa, const T* b, const Strides& sb, T* out,
            const Shape& out_shape) {
  const Strides so = out_shape.contiguous_strides();
  math::visit_binary(op, [&]<math::BinaryOp Op>() {
    for_each_row<3>(out_shape, {so, sa, sb},
                    [&](const std::array<int64_t, 3>& off, int64_t n, const std::array<int64_t, 3>& st) {
                      T* o = out + off[0];
                      const T* x = a + off[1];
                      const T* y = b + off[2];
                      if (st[1] == 1 && st[2] == 1) {
                        for (int64_t i = 0; i < n; ++i) o[i] = math::binary<Op>(x[i], y[i]);
                      } else if (st[1] == 1 && st[2] == 0) {
                        const T yv = *y;
                        for (int64_t i = 0; i < n; ++i) o[i] = math::binary<Op>(x[i], yv);
                      } else if (st[1] == 0 && st[2] == 1) {
                        const T xv = *x;
                        for (int64_t i = 0; i < n; ++i) o[i] = math::binary<Op>(xv, y[i]);
                      } else {
                        for (int64_t i = 0; i < n; ++i) o[i] = math::binary<Op>(x[i * st[1]], y[i * st[2]]);
                      }
                    });
  });
}

// y[i] = op(x[i], s) over n packed elements.
template <class T>
void unary(math::UnaryOp op, const T* x, T* y, int64_t n, T s) {
  math::visit_unary(op, [&]<math::UnaryOp Op>() {
    parallel_for(0, n, 1 << 15, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) y[i] = math::unary<Op>(x[i], s);
    });
  });
}

// gx[i] = gy[i] * dy/dx at x[i] (y = the forward's output), for the table's functions.
template <class T>
void unary_backward(math::UnaryOp op, const T* x, const T* y, const T* gy, T* gx, int64_t n) {
  math::visit_unary(op, [&]<math::UnaryOp Op>() {
    if constexpr (math::is_unary_function(Op)) {
      parallel_for(0, n, 1 << 15, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i) gx[i] = gy[i] * math::unary_grad<Op>(x[i], y[i]);
      });
    }
  });
}

}  // namespace patchnet::cpu
