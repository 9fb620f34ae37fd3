// How the header-only library reaches the CUDA kernels without depending on them.
//
// Every launcher is defined in cuda/*.cu (namespace cuda::impl, compiled into
// patchnet::cuda) and reached through a slot: a function pointer that the .cu file fills at
// static initialisation (PN_CUDA_REGISTER). The headers compile the same code in every
// translation unit whatever the build, so two translation units of one program can never
// disagree about CUDA (with an #ifdef they did: two bodies of one inline function, an ODR
// violation the linker resolved silently). A program that links patchnet::cuda runs the
// kernels; one that does not gets a patchnet::Error. This is ggml's backend registry,
// reduced to one pointer per launcher.
//
// A launcher, declared in include/patchnet/cuda/<family>.hpp:
//     namespace impl {
//     template <class T> void relu_forward(const T* x, T* y, int64_t n, Stream s = {});
//     }
//     PN_CUDA_LAUNCHER(relu_forward)
// defined and registered in cuda/<family>.cu (after its explicit instantiations):
//     namespace impl { template <class T> void relu_forward(...) { ... } }
//     PN_CUDA_REGISTER(relu_forward, float, double);
// and called as cuda::relu_forward(x, y, n): the element type comes from the arguments
// (exactly one registered type must accept them), the trailing Stream may be left out.
// Non-template functions use PN_CUDA_FUNCTION / PN_CUDA_REGISTER_FUNCTION.
//
// patchnet::cuda is linked as a whole archive (CMakeLists.txt), or the linker would drop
// the .cu objects that nothing names, and their registrations with them.
#pragma once

#include <cstdint>
#include <type_traits>
#include <utility>

#include "patchnet/core/error.hpp"

namespace patchnet::cuda {

// A CUDA stream, opaque here (cudaStream_t). A null handle means patchnet's own stream on
// the current device (created once, non-blocking), where all patchnet work is queued.
struct Stream {
  void* handle = nullptr;
};

// The error for a CUDA call in a program that does not link patchnet::cuda.
[[noreturn]] inline void unavailable(const char* op) {
  fail(op,
       ": this program was built without CUDA support; link patchnet::cuda "
       "(configure with -DPATCHNET_CUDA=ON where nvcc is installed)");
}

namespace detail {

struct DeduceType {};

template <class Fn, class... A>
inline constexpr bool callable_v = std::is_invocable_v<Fn, A...> || std::is_invocable_v<Fn, A..., Stream>;

// Whether the launcher registered for element type U accepts the arguments.
template <template <class> class Slot, class U, class... A>
inline constexpr bool accepts_v = callable_v<decltype(Slot<U>::fn), A...>;

// Calls fn with the arguments, adding the default Stream when the caller left it out.
template <class Fn, class... A>
decltype(auto) call_slot(Fn fn, const char* name, A&&... a) {
  if (!fn) unavailable(name);
  if constexpr (std::is_invocable_v<Fn, A...>) return fn(std::forward<A>(a)...);
  else return fn(std::forward<A>(a)..., Stream{});
}

// Picks the element type whose launcher accepts the arguments (float, double, or the
// integers copy.cu moves), then calls it.
template <template <class> class Slot, class T, class... A>
decltype(auto) launch(const char* name, A&&... a) {
  if constexpr (std::is_same_v<T, DeduceType>) {
    constexpr bool f = accepts_v<Slot, float, A...>, d = accepts_v<Slot, double, A...>,
                   i32 = accepts_v<Slot, int32_t, A...>, i64 = accepts_v<Slot, int64_t, A...>,
                   u8 = accepts_v<Slot, uint8_t, A...>;
    static_assert(f + d + i32 + i64 + u8 == 1,
                  "cuda launcher: the arguments fit no element type, or several (name it: cuda::f<float>(...))");
    using U = std::conditional_t<
        f, float,
        std::conditional_t<d, double, std::conditional_t<i32, int32_t, std::conditional_t<i64, int64_t, uint8_t>>>>;
    return launch<Slot, U>(name, std::forward<A>(a)...);
  } else {
    return call_slot(Slot<T>::fn, name, std::forward<A>(a)...);
  }
}

// Fills the slots of one launcher for the listed types; Get::get<T>() is &impl::name<T>.
template <template <class> class Slot, class Get, class... T>
bool fill_slots() {
  ((Slot<T>::fn = Get::template get<T>()), ...);
  return true;
}

}  // namespace detail
}  // namespace patchnet::cuda

// Declares the slot and the public entry of a launcher template impl::name<T>; use inside
// namespace patchnet::cuda after the impl declaration.
#define PN_CUDA_LAUNCHER(name)                                                            \
  namespace slot {                                                                        \
  template <class T>                                                                      \
  struct name {                                                                           \
    static inline decltype(&::patchnet::cuda::impl::name<T>) fn = nullptr;                \
  };                                                                                      \
  }                                                                                       \
  template <class T = ::patchnet::cuda::detail::DeduceType, class... A>                   \
  decltype(auto) name(A&&... a) {                                                         \
    return ::patchnet::cuda::detail::launch<slot::name, T>(#name, std::forward<A>(a)...); \
  }

// The same for a plain function impl::name.
#define PN_CUDA_FUNCTION(name)                                                                \
  namespace slot {                                                                            \
  struct name {                                                                               \
    static inline decltype(&::patchnet::cuda::impl::name) fn = nullptr;                       \
  };                                                                                          \
  }                                                                                           \
  template <class... A>                                                                       \
  decltype(auto) name(A&&... a) {                                                             \
    return ::patchnet::cuda::detail::call_slot(slot::name::fn, #name, std::forward<A>(a)...); \
  }

// In a .cu file, at namespace scope: fills the launcher's slots for the types listed.
#define PN_CUDA_REGISTER(name, ...)                                                                     \
  namespace {                                                                                           \
  struct pn_get_##name {                                                                                \
    template <class PnT>                                                                                \
    static auto get() {                                                                                 \
      return &::patchnet::cuda::impl::name<PnT>;                                                        \
    }                                                                                                   \
  };                                                                                                    \
  [[maybe_unused]] const bool pn_registered_##name =                                                    \
      ::patchnet::cuda::detail::fill_slots<::patchnet::cuda::slot::name, pn_get_##name, __VA_ARGS__>(); \
  }

#define PN_CUDA_REGISTER_FUNCTION(name)                     \
  [[maybe_unused]] static const bool pn_registered_##name = \
      (::patchnet::cuda::slot::name::fn = &::patchnet::cuda::impl::name, true)
