// CUDA launchers of the optimizer updates (cuda/optim.cu), float and double: one pass over
// n packed elements of a parameter, its gradient and its state, applying the per-element
// rules of math/optim.hpp, the same code the CPU loops (cpu/optim.hpp) run.
#pragma once

#include <cstdint>

#include "patchnet/cuda/launcher.hpp"
#include "patchnet/math/optim.hpp"

namespace patchnet::cuda {

namespace impl {
template <class T>
void adam_update(T* p, T* m, T* v, const T* g, int64_t n, const math::AdamCoeffs<T>& c, Stream s = {});
// momentum_buffer may be null when momentum is 0.
template <class T>
void sgd_update(T* p, T* momentum_buffer, const T* g, int64_t n, const math::SgdCoeffs<T>& c, bool nesterov,
                Stream s = {});
}  // namespace impl
PN_CUDA_LAUNCHER(adam_update)
PN_CUDA_LAUNCHER(sgd_update)

}  // namespace patchnet::cuda
