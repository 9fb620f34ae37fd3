// CPU kernels of the optimizer updates: one pass over n packed elements of a parameter,
// its gradient and its state, applying the per-element rules of math/optim.hpp (formulas
// there). Loops are plain indexed loops the compiler vectorises; tensors of more than
// 2^15 elements are split over threads (every element is independent, so the result does
// not depend on the thread count).
#pragma once

#include <cstdint>

#include "patchnet/cpu/parallel.hpp"
#include "patchnet/math/optim.hpp"

namespace patchnet::cpu {

inline constexpr int64_t kOptimGrain = int64_t(1) << 15;

template <class T>
void adam_update(T* __restrict p, T* __restrict m, T* __restrict v, const T* __restrict g, int64_t n,
                 const math::AdamCoeffs<T>& c) {
  const math::AdamCoeffs<T> k = c;  // a local copy: no aliasing with the arrays
  parallel_for(0, n, kOptimGrain, [&](int64_t lo, int64_t hi) {
    PATCHNET_OMP_SIMD()
    for (int64_t i = lo; i < hi; ++i) math::adam_update(p[i], m[i], v[i], g[i], k);
  });
}

// momentum_buffer may be null when momentum is 0 (PyTorch keeps no buffer then).
template <class T>
void sgd_update(T* __restrict p, T* __restrict momentum_buffer, const T* __restrict g, int64_t n,
                const math::SgdCoeffs<T>& c, bool nesterov) {
  const math::SgdCoeffs<T> k = c;
  parallel_for(0, n, kOptimGrain, [&](int64_t lo, int64_t hi) {
    T* buf = momentum_buffer;
    if (!buf) {
      PATCHNET_OMP_SIMD()
      for (int64_t i = lo; i < hi; ++i) math::sgd_update(p[i], g[i], k);
    } else if (nesterov) {
      PATCHNET_OMP_SIMD()
      for (int64_t i = lo; i < hi; ++i) math::sgd_momentum_update<true>(p[i], buf[i], g[i], k);
    } else {
      PATCHNET_OMP_SIMD()
      for (int64_t i = lo; i < hi; ++i) math::sgd_momentum_update<false>(p[i], buf[i], g[i], k);
    }
  });
}

}  // namespace patchnet::cpu
