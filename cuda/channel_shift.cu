// Channel shift kernel (launcher in cuda/channel_shift.hpp; formula in ops/channel_shift.hpp).
// One thread per V consecutive channels of one pixel, channels fastest, so a warp copies
// a contiguous stretch of the output and reads contiguous stretches of the input (one per
// shift group it touches): coalesced along C. V = 16 bytes of channels (4 floats, 2
// doubles) when C and g are multiples of V and both pointers are 16-byte aligned, so a
// vector never straddles a pixel or a group boundary; else V = 1. Each element is a copy
// of one input element or 0: no arithmetic, exact, deterministic.
#include <cstdint>

#include "check.cuh"
#include "patchnet/cuda/channel_shift.hpp"
#include "patchnet/math/channel_shift.hpp"

namespace patchnet::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMax32 = int64_t{1} << 30;  // i + grid stride (< 2^28) stays below 2^31

template <class T, int V>
struct alignas(sizeof(T) * V) Pack {
  T v[V];
};

// total: the number of V-element packs; H, W, C, g, s as in math::ChannelShiftDims.
template <class T, class I, int V>
__global__ void __launch_bounds__(kThreads)
    channel_shift_kernel(const T* __restrict__ x, T* __restrict__ out, I H, I W, I C, I g, I s, I total) {
  using P = Pack<T, V>;
  const P* __restrict__ xv = reinterpret_cast<const P*>(x);
  P* __restrict__ ov = reinterpret_cast<P*>(out);
  for (I i = I(blockIdx.x) * kThreads + I(threadIdx.x); i < total; i += I(gridDim.x) * kThreads) {
    const I e = i * V;  // first element of the pack
    const I c = e % C, q = e / C, w = q % W, h = (q / W) % H;
    I dh, dw;
    math::channel_shift_offset(c, g, s, dh, dw);
    const I hh = h + dh, ww = w + dw;
    P v;
    if (hh >= 0 && hh < H && ww >= 0 && ww < W) {
      v = xv[i + (dh * W + dw) * (C / V)];
    } else {
#pragma unroll
      for (int k = 0; k < V; ++k) v.v[k] = T(0);
    }
    ov[i] = v;
  }
}

template <class T, int V>
void launch(const T* x, T* out, const math::ChannelShiftDims& d, cudaStream_t stream) {
  const int64_t packs = d.N * d.H * d.W * d.C / V;
  const unsigned grid = detail::grid_for(packs, kThreads);
  if (d.N * d.H * d.W * d.C <= kMax32)
    channel_shift_kernel<T, int32_t, V><<<grid, kThreads, 0, stream>>>(
        x, out, int32_t(d.H), int32_t(d.W), int32_t(d.C), int32_t(d.group), int32_t(d.shift), int32_t(packs));
  else
    channel_shift_kernel<T, int64_t, V><<<grid, kThreads, 0, stream>>>(x, out, d.H, d.W, d.C, d.group, d.shift, packs);
  PN_CUDA_CHECK_LAUNCH("channel_shift_kernel");
}

}  // namespace

namespace impl {

template <class T>
void channel_shift(const T* x, T* out, const math::ChannelShiftDims& d, Stream s) {
  if (d.N * d.H * d.W * d.C == 0) return;
  constexpr int V = 16 / sizeof(T);
  const bool aligned = reinterpret_cast<uintptr_t>(x) % 16 == 0 && reinterpret_cast<uintptr_t>(out) % 16 == 0;
  if (aligned && d.C % V == 0 && d.group % V == 0) launch<T, V>(x, out, d, detail::stream_of(s.handle));
  else launch<T, 1>(x, out, d, detail::stream_of(s.handle));
}

template void channel_shift<float>(const float*, float*, const math::ChannelShiftDims&, Stream);
template void channel_shift<double>(const double*, double*, const math::ChannelShiftDims&, Stream);

}  // namespace impl

PN_CUDA_REGISTER(channel_shift, float, double);

}  // namespace patchnet::cuda
