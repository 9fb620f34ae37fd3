// parallel_for: splits [begin, end) into one contiguous chunk per thread with OpenMP,
// or runs serially without it. Chunks are fixed by the thread count, so results that
// combine per-chunk partials are reproducible for a given OMP_NUM_THREADS.
#pragma once

#include <algorithm>
#include <cstdint>

#ifdef _OPENMP
#include <omp.h>
#endif

// `#pragma omp simd` with clauses, and nothing (no unknown-pragma warning) without OpenMP.
#ifdef _OPENMP
#define PATCHNET_PRAGMA_(x) _Pragma(#x)
#define PATCHNET_OMP_SIMD(clauses) PATCHNET_PRAGMA_(omp simd clauses)
#else
#define PATCHNET_OMP_SIMD(clauses)
#endif

namespace patchnet::cpu {

inline int max_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

// f(lo, hi) is called on disjoint chunks covering [begin, end); at most one chunk per
// `grain` elements, so small loops stay on one thread. f must not throw.
template <class F>
void parallel_for(int64_t begin, int64_t end, int64_t grain, F&& f) {
  const int64_t n = end - begin;
  if (n <= 0) return;
#ifdef _OPENMP
  const int64_t want = std::min<int64_t>(max_threads(), (n + grain - 1) / std::max<int64_t>(grain, 1));
  if (want > 1 && !omp_in_parallel()) {
#pragma omp parallel num_threads(static_cast <int>(want))
    {
      const int64_t nt = omp_get_num_threads(), tid = omp_get_thread_num();
      const int64_t chunk = (n + nt - 1) / nt;
      const int64_t lo = begin + tid * chunk, hi = std::min(end, lo + chunk);
      if (lo < hi) f(lo, hi);
    }
    return;
  }
#endif
  f(begin, end);
}

}  // namespace patchnet::cpu
