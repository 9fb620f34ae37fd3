// CUDA emulation on the host: every GPU thread of a block is a ucontext fiber on one OS
// thread. __syncthreads is a real block barrier; __shfl_*_sync is a real 32-lane exchange
// (all lanes of the warp must reach the same shuffle call site, else an error is raised);
// __shared__ arrays are per-kernel statics poisoned with 0xFF bytes (NaN) before every
// block. Scheduling order of fibers and blocks is selectable (forward / reverse / random)
// so results that depend on interleaving (races) show up as run-to-run differences.
#pragma once
#include <ucontext.h>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>
#include <climits>
#include <functional>
#include <limits>
#include <type_traits>
#include "patchnet/core/error.hpp"
#include "runtime_api.hpp"

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static
struct dim3 {
  unsigned x = 1, y = 1, z = 1;
  constexpr dim3(unsigned a = 1, unsigned b = 1, unsigned c = 1) : x(a), y(b), z(c) {}
};
inline dim3 threadIdx, blockIdx, blockDim, gridDim;
using std::isfinite;
using std::max;
using std::min;

#if defined(__SANITIZE_ADDRESS__)
#define EMU_UCONTEXT 1
#endif
#ifndef EMU_UCONTEXT
extern "C" void emu_switch(void** save_sp, void* new_sp);
// weak: every kernel file of the emulated library (CMakeLists.txt here) carries a copy
asm(R"(
.text
.weak emu_switch
.type emu_switch,@function
emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
.size emu_switch,.-emu_switch
)");
#endif
namespace emu {
enum State { Run, Bar, Shfl, Done };
struct Fiber {
  ucontext_t ctx;
  void* sp = nullptr;
  State st = Run;
  int line = 0, arg = 0, width = 32;
  unsigned mask = 0;
  int size = 0;
  unsigned char val[16], res[16];
  dim3 tid;
};
inline ucontext_t g_sched;
inline std::vector<Fiber> g_f;
inline int g_cur = -1;
inline int g_order = 0;  // 0 forward, 1 reverse, 2 random
inline std::mt19937 g_rng(7);
inline long g_errors = 0, g_launches = 0, g_exited_at_barrier = 0;
inline std::set<std::pair<void*, size_t>> g_shared;
inline std::vector<std::string> g_log;
inline bool g_throw = false;  // the emulated library (backend.cpp): an error fails the launch or call
inline std::string g_last_error;
inline void err(const std::string& s) {
  ++g_errors;
  g_last_error = s;
  if (g_errors < 20) std::fprintf(stderr, "EMU ERROR: %s\n", s.c_str());
}
inline void reg_shared(void* p, size_t n) {
  if (g_shared.insert({p, n}).second) std::memset(p, 0xFF, n);
}
inline void* g_sched_sp = nullptr;
#ifdef EMU_UCONTEXT
inline void yield_now() { swapcontext(&g_f[g_cur].ctx, &g_sched); }
inline void resume(int t) { swapcontext(&g_sched, &g_f[t].ctx); }
#else
inline void yield_now() { emu_switch(&g_f[g_cur].sp, g_sched_sp); }
inline void resume(int t) { emu_switch(&g_sched_sp, g_f[t].sp); }
#endif

inline std::function<void()>* g_body = nullptr;
inline void entry() {
  (*g_body)();
  g_f[g_cur].st = Done;
  yield_now();
  std::abort();
}

inline std::vector<char> g_stacks;
constexpr size_t kStack = 32 * 1024;

// With the emulated runtime in use, a pointer argument of a kernel must point into device
// memory (runtime_api.hpp): a host pointer there is the bug a GPU reports as an illegal address.
template <class A>
void check_argument(const A& a, int i) {
  if constexpr (std::is_pointer_v<A>)
    if (g_check_pointers && a && !is_device(a))
      err("kernel argument " + std::to_string(i) + " is not device memory (a host pointer?)");
}

template <class F, class... A>
void run_grid(dim3 grid, dim3 block, F f, A... args) {
  ++g_launches;
  if (grid.x == 0 || grid.y == 0 || grid.z == 0) {
    err("empty grid");
    return;
  }
  if (grid.y > 65535 || grid.z > 65535) err("gridDim.y/z > 65535");
  const unsigned nt = block.x * block.y * block.z;
  if (nt > 1024 || nt == 0) err("bad block size");
  gridDim = grid;
  blockDim = block;
  std::function<void()> body = [&] { f(args...); };
  g_body = &body;
  if (g_stacks.size() < nt * kStack) g_stacks.resize(nt * kStack);
  std::vector<dim3> blocks;
  for (unsigned bz = 0; bz < grid.z; ++bz)
    for (unsigned by = 0; by < grid.y; ++by)
      for (unsigned bx = 0; bx < grid.x; ++bx) blocks.push_back(dim3(bx, by, bz));
  if (g_order == 1) std::reverse(blocks.begin(), blocks.end());
  if (g_order == 2) std::shuffle(blocks.begin(), blocks.end(), g_rng);
  std::vector<int> order(nt);
  for (unsigned t = 0; t < nt; ++t) order[t] = int(t);
  for (const dim3& b : blocks) {
    for (auto& s : g_shared) std::memset(s.first, 0xFF, s.second);
    g_f.assign(nt, Fiber{});
    for (unsigned t = 0; t < nt; ++t) {
      Fiber& fb = g_f[t];
      fb.tid = dim3(t % block.x, (t / block.x) % block.y, t / (block.x * block.y));
#ifdef EMU_UCONTEXT
      getcontext(&fb.ctx);
      fb.ctx.uc_stack.ss_sp = g_stacks.data() + t * kStack;
      fb.ctx.uc_stack.ss_size = kStack;
      fb.ctx.uc_link = nullptr;
      makecontext(&fb.ctx, entry, 0);
#else
      // top of stack: [6 zero regs][&entry] and rsp % 16 == 8 at entry
      uintptr_t top = reinterpret_cast<uintptr_t>(g_stacks.data() + (t + 1) * kStack) & ~uintptr_t(15);
      void** sp = reinterpret_cast<void**>(top - 8);
      *--sp = reinterpret_cast<void*>(&entry);
      for (int k = 0; k < 6; ++k) *--sp = nullptr;
      fb.sp = sp;
#endif
    }
    if (g_order == 1) std::reverse(order.begin(), order.end());
    for (;;) {
      if (g_order == 2) std::shuffle(order.begin(), order.end(), g_rng);
      bool ran = false;
      for (int t : order) {
        if (g_f[t].st != Run) continue;
        ran = true;
        g_cur = t;
        threadIdx = g_f[t].tid;
        blockIdx = b;
        resume(t);
      }
      // all blocked or done: resolve shuffles warp by warp, then the barrier
      bool progress = false;
      int alive = 0, at_bar = 0, at_shfl = 0;
      for (unsigned w = 0; w * 32 < nt; ++w) {
        const unsigned lo = w * 32, hi = std::min(nt, lo + 32);
        int n_sh = 0, n_alive = 0;
        for (unsigned t = lo; t < hi; ++t) {
          if (g_f[t].st != Done) ++n_alive;
          if (g_f[t].st == Shfl) ++n_sh;
        }
        if (n_sh == 0) continue;
        if (n_sh != n_alive) continue;  // wait for the rest (they may be at a barrier: checked below)
        const Fiber& f0 = g_f[lo + 0 < hi && g_f[lo].st == Shfl ? lo : lo];
        unsigned members = 0;
        for (unsigned t = lo; t < hi; ++t)
          if (g_f[t].st == Shfl) members |= 1u << (t - lo);
        const Fiber* ref = nullptr;
        for (unsigned t = lo; t < hi; ++t)
          if (g_f[t].st == Shfl) {
            ref = &g_f[t];
            break;
          }
        (void)f0;
        for (unsigned t = lo; t < hi; ++t) {
          const Fiber& q = g_f[t];
          if (q.st != Shfl) continue;
          if (q.line != ref->line || q.arg != ref->arg || q.width != ref->width || q.size != ref->size)
            err("divergent shuffle in warp (lines " + std::to_string(q.line) + " vs " + std::to_string(ref->line) +
                ")");
          if ((q.mask & members) != q.mask)
            err("shuffle mask names exited/missing lanes, line " + std::to_string(q.line));
        }
        for (unsigned t = lo; t < hi; ++t) {
          Fiber& q = g_f[t];
          if (q.st != Shfl) continue;
          const int lane = int(t - lo);
          int src;
          if (q.arg >= 0) src = lane ^ q.arg;  // xor
          else src = lane;
          if (q.width < 32 && src / q.width != lane / q.width) src = lane;
          if (src >= int(hi - lo) || g_f[lo + src].st != Shfl) {
            err("shuffle reads an inactive lane");
            src = lane;
          }
          std::memcpy(q.res, g_f[lo + src].val, 16);
        }
        for (unsigned t = lo; t < hi; ++t)
          if (g_f[t].st == Shfl) g_f[t].st = Run;
        progress = true;
      }
      if (progress) continue;
      for (unsigned t = 0; t < nt; ++t) {
        if (g_f[t].st != Done) ++alive;
        if (g_f[t].st == Bar) ++at_bar;
        if (g_f[t].st == Shfl) ++at_shfl;
      }
      if (alive == 0) break;
      if (at_shfl) {
        err("deadlock: shuffle with lanes at a barrier or exited");
        return;
      }
      if (at_bar == alive) {
        int line = -1;
        for (unsigned t = 0; t < nt; ++t)
          if (g_f[t].st == Bar) {
            if (line < 0) line = g_f[t].line;
            else if (g_f[t].line != line) err("threads at different __syncthreads");
          }
        if (alive != int(nt)) ++g_exited_at_barrier;
        for (unsigned t = 0; t < nt; ++t)
          if (g_f[t].st == Bar) g_f[t].st = Run;
        continue;
      }
      if (!ran) {
        err("scheduler stuck");
        return;
      }
    }
  }
}

// A kernel launch: kernel<<<grid, block>>>(args) as conv.py rewrites it.
template <class F, class... A>
void launch(dim3 grid, dim3 block, F f, A... args) {
  const long before = g_errors;
  int i = 0;
  (check_argument(args, i++), ...);
  if (g_throw && g_errors != before) ::patchnet::fail("CUDA emulator: ", g_last_error);  // before it writes anything
  run_grid(grid, block, f, args...);
  if (g_throw && g_errors != before) ::patchnet::fail("CUDA emulator: ", g_last_error);
}

inline void sync_(int line) {
  g_f[g_cur].st = Bar;
  g_f[g_cur].line = line;
  yield_now();
}
template <class T>
T shfl_(unsigned mask, T v, int arg, int width, int line) {
  static_assert(sizeof(T) <= 16);
  Fiber& f = g_f[g_cur];
  f.st = Shfl;
  f.mask = mask;
  f.arg = arg;
  f.width = width;
  f.line = line;
  f.size = sizeof(T);
  std::memcpy(f.val, &v, sizeof(T));
  yield_now();
  T r;
  std::memcpy(&r, g_f[g_cur].res, sizeof(T));
  return r;
}
}  // namespace emu

#define __syncthreads() ::emu::sync_(__LINE__)
#define __shfl_xor_sync(mask, v, ...) ::emu::shfl_(mask, v, EMU_XOR_ARGS(__VA_ARGS__, 32), __LINE__)
#define EMU_XOR_ARGS(o, w, ...) (o), (w)
template <class T>
inline T atomicAdd(T* p, T v) {
  T old = *p;
  *p += v;
  return old;
}
// check.cuh's checks, against the emulated runtime (runtime_api.hpp).
#define EMU_CHECK_STATUS(call, ok, name_of, what)                                                         \
  do {                                                                                                    \
    const auto pn_st_ = (call);                                                                           \
    if (pn_st_ != ok)                                                                                     \
      ::patchnet::fail(what, " error in ", #call, " at ", __FILE__, ":", __LINE__, ": ", name_of(pn_st_), \
                       " (emulated)");                                                                    \
  } while (0)
#define PN_CUDA_CHECK(call) EMU_CHECK_STATUS(call, cudaSuccess, cudaGetErrorName, "CUDA")
#define PN_CUBLAS_CHECK(call) EMU_CHECK_STATUS(call, CUBLAS_STATUS_SUCCESS, cublasGetStatusName, "cuBLAS")
#define PN_CUDA_CHECK_LAUNCH(x) \
  do {                          \
  } while (0)
namespace patchnet::cuda::detail {
cudaStream_t current_stream();  // runtime.cu, where it is part of the emulated library
inline cudaStream_t stream_of(void* h) { return h; }
inline unsigned g_grid_cap = 7;  // real: 65535 * 16; small so grid-stride loops wrap
inline unsigned grid_for(long long n, int threads = 256) {
  const long long blocks = (n + threads - 1) / threads;
  return static_cast<unsigned>(blocks < g_grid_cap ? (blocks > 0 ? blocks : 1) : g_grid_cap);
}
}  // namespace patchnet::cuda::detail
inline long long g_ycap = 3;  // emulation-only cap for the 65535 grid.y caps
inline long long emu_cap() { return g_ycap; }
namespace patchnet::cuda::detail {
inline unsigned capped_blocks(long long blocks) {  // check.cuh's, capped at g_ycap
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > g_ycap ? g_ycap : blocks));
}
}  // namespace patchnet::cuda::detail
