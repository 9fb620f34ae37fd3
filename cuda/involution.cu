// Involution kernels (launchers in cuda/involution.hpp; formulas and layouts in
// ops/involution.hpp). The patch extraction is fused into each kernel: x is read in place
// with bounds checks standing in for the zero padding, so the K*K patch tensor that the
// unfold formulation writes never exists.
//
//   forward:  one thread per out element (n, oh, ow, c), c fastest. A warp reads adjacent
//             channels of each tap's x pixel (coalesced) and a few kernel values shared by
//             its threads (broadcast); the K*K taps unroll for K = 3, 5, 7.
//   dx:       one thread per dx element (n, ih, iw, c): a gather over the windows that cover
//             the pixel (math::inv_covering), no scatter and no atomics.
//   dkernel:  L lanes of a warp per dkernel element (n, oh, ow, tap, g); each lane sums a
//             strided share of the group's C/G channels, then a fixed xor-shuffle tree adds
//             the L partial sums. L grows with C/G (1 for the seed's 3 channels, 32 from
//             128 on).
// Every element is written by exactly one thread in a fixed order: bitwise deterministic.
// Indices are 32-bit when every tensor has at most 2^30 elements, else 64-bit.
#include <cstdint>

#include "patchnet/cuda/involution.hpp"
#include "patchnet/math/involution.hpp"
#include "reduce.cuh"

namespace patchnet::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMax32 = int64_t{1} << 30;  // i + grid stride (< 2^28) stays below 2^31

// The sizes in the kernels' index type I.
template <class I>
struct Dims {
  I N, H, W, C, K, S, G, pt, pl, OH, OW;
};

template <class I>
Dims<I> dims_as(const math::InvolutionDims& d) {
  return {I(d.N), I(d.H), I(d.W), I(d.C), I(d.K), I(d.S), I(d.G), I(d.pad_top), I(d.pad_left), I(d.OH), I(d.OW)};
}

// KC: the kernel size at compile time (3, 5, 7), or 0 to read it from d.
template <class T, class I, int KC>
__global__ void __launch_bounds__(kThreads)
    involution_forward_kernel(const T* __restrict__ x, const T* __restrict__ kern, T* __restrict__ out, Dims<I> d,
                              I total) {
  const I K = KC > 0 ? I(KC) : d.K, KKG = K * K * d.G;
  for (I i = I(blockIdx.x) * kThreads + I(threadIdx.x); i < total; i += I(gridDim.x) * kThreads) {
    const I c = i % d.C, p = i / d.C;  // p = (n*OH + oh)*OW + ow
    const I ow = p % d.OW, r = p / d.OW, oh = r % d.OH, n = r / d.OH;
    const I ih0 = oh * d.S - d.pt, iw0 = ow * d.S - d.pl;
    const T* __restrict__ kp = kern + p * KKG + c % d.G;
    // Offset of tap (0, 0); it may lie outside the image, only inside taps are read.
    const I x0 = ((n * d.H + ih0) * d.W + iw0) * d.C + c;
    T acc = T(0);
#pragma unroll
    for (I kh = 0; kh < K; ++kh) {
      const I ih = ih0 + kh;
      if (ih < 0 || ih >= d.H) continue;
#pragma unroll
      for (I kw = 0; kw < K; ++kw) {
        const I iw = iw0 + kw;
        if (iw < 0 || iw >= d.W) continue;
        acc += kp[(kh * K + kw) * d.G] * x[x0 + (kh * d.W + kw) * d.C];
      }
    }
    out[i] = acc;
  }
}

// KC as above: with it the loops over the covering windows (at most KC each way) unroll.
template <class T, class I, int KC>
__global__ void __launch_bounds__(kThreads)
    involution_backward_input_kernel(const T* __restrict__ kern, const T* __restrict__ gout, T* __restrict__ dx,
                                     Dims<I> d, I total) {
  const I K = KC > 0 ? I(KC) : d.K, KKG = K * K * d.G;
  for (I i = I(blockIdx.x) * kThreads + I(threadIdx.x); i < total; i += I(gridDim.x) * kThreads) {
    const I c = i % d.C, q = i / d.C;  // q = (n*H + ih)*W + iw
    const I iw = q % d.W, r = q / d.W, ih = r % d.H, n = r / d.H;
    const I th = ih + d.pt, tw = iw + d.pl;  // padded coordinates
    I kh0, nh, kw0, nw;
    math::inv_covering(th, K, d.S, d.OH, kh0, nh);
    math::inv_covering(tw, K, d.S, d.OW, kw0, nw);
    T acc = T(0);
    if (nh > 0 && nw > 0) {
      // Tap (a, b): kh = kh0 + a*S, kw = kw0 + b*S, in output pixel p0 - a*OW - b.
      const I p0 = (n * d.OH + (th - kh0) / d.S) * d.OW + (tw - kw0) / d.S;
      const T* __restrict__ kp = kern + p0 * KKG + (kh0 * K + kw0) * d.G + c % d.G;
      const T* __restrict__ gp = gout + p0 * d.C + c;
      const I k_a = d.S * K * d.G - d.OW * KKG, k_b = d.S * d.G - KKG;  // steps of kp per a, b
      const I g_a = -d.OW * d.C, g_b = -d.C;                            // steps of gp per a, b
#pragma unroll
      for (I a = 0; a < (KC > 0 ? I(KC) : nh); ++a) {
        if (a >= nh) break;
#pragma unroll
        for (I b = 0; b < (KC > 0 ? I(KC) : nw); ++b) {
          if (b >= nw) break;
          acc += kp[a * k_a + b * k_b] * gp[a * g_a + b * g_b];
        }
      }
    }
    dx[i] = acc;
  }
}

// L lanes per dkernel element. `threads` is total * L rounded up to a multiple of 32, so
// the loop runs the same trips in every lane of a warp and all of them reach the shuffles.
template <class T, class I, int L>
__global__ void __launch_bounds__(kThreads)
    involution_backward_kernel_kernel(const T* __restrict__ x, const T* __restrict__ gout, T* __restrict__ dk,
                                      Dims<I> d, I total, I threads) {
  const I KK = d.K * d.K, CG = d.C / d.G;
  for (I t = I(blockIdx.x) * kThreads + I(threadIdx.x); t < threads; t += I(gridDim.x) * kThreads) {
    const I o = t / L, lane = t % L;  // o = ((n*OH + oh)*OW + ow)*K*K*G + tap*G + g
    T acc = T(0);
    if (o < total) {
      const I g = o % d.G, q = o / d.G, tap = q % KK, p = q / KK;
      const I kh = tap / d.K, kw = tap % d.K;
      const I ow = p % d.OW, r = p / d.OW, oh = r % d.OH, n = r / d.OH;
      const I ih = oh * d.S - d.pt + kh, iw = ow * d.S - d.pl + kw;
      if (ih >= 0 && ih < d.H && iw >= 0 && iw < d.W) {
        const T* __restrict__ xp = x + ((n * d.H + ih) * d.W + iw) * d.C + g;
        const T* __restrict__ gp = gout + p * d.C + g;
        for (I j = lane; j < CG; j += L) acc += gp[j * d.G] * xp[j * d.G];
      }
    }
    acc = detail::warp_sum<L>(acc);  // over the L lanes of the element (L = 1: nothing)
    if (o < total && lane == 0) dk[o] = acc;
  }
}

// Lanes per dkernel element: about 4 channels per lane, at most a warp.
int lanes_for(int64_t channels_per_group) {
  int L = 1;
  while (L < 32 && int64_t{L} * 4 < channels_per_group) L *= 2;
  return L;
}

// Calls f.template operator()<KC>() with KC = K for K in {3, 5, 7}, else 0.
template <class F>
void dispatch_k(int64_t K, F&& f) {
  switch (K) {
    case 3:
      return f.template operator()<3>();
    case 5:
      return f.template operator()<5>();
    case 7:
      return f.template operator()<7>();
    default:
      return f.template operator()<0>();
  }
}

}  // namespace

namespace impl {

template <class T>
void involution_forward(const T* x, const T* kernel, T* out, const math::InvolutionDims& d, Stream s) {
  const int64_t total = d.N * d.OH * d.OW * d.C;
  if (total == 0) return;
  const bool small =
      d.N * d.H * d.W * d.C <= kMax32 && d.N * d.OH * d.OW * d.K * d.K * d.G <= kMax32 && total <= kMax32;
  dispatch_k(d.K, [&]<int KC>() {
    if (small)
      involution_forward_kernel<T, int32_t, KC>
          <<<detail::grid_for(total, kThreads), kThreads, 0, detail::stream_of(s.handle)>>>(
              x, kernel, out, dims_as<int32_t>(d), int32_t(total));
    else
      involution_forward_kernel<T, int64_t, KC>
          <<<detail::grid_for(total, kThreads), kThreads, 0, detail::stream_of(s.handle)>>>(x, kernel, out,
                                                                                            dims_as<int64_t>(d), total);
  });
  PN_CUDA_CHECK_LAUNCH("involution_forward_kernel");
}

template <class T>
void involution_backward_input(const T* kernel, const T* gout, T* dx, const math::InvolutionDims& d, Stream s) {
  const int64_t total = d.N * d.H * d.W * d.C;
  if (total == 0) return;
  const bool small =
      total <= kMax32 && d.N * d.OH * d.OW * d.K * d.K * d.G <= kMax32 && d.N * d.OH * d.OW * d.C <= kMax32;
  dispatch_k(d.K, [&]<int KC>() {
    if (small)
      involution_backward_input_kernel<T, int32_t, KC>
          <<<detail::grid_for(total, kThreads), kThreads, 0, detail::stream_of(s.handle)>>>(
              kernel, gout, dx, dims_as<int32_t>(d), int32_t(total));
    else
      involution_backward_input_kernel<T, int64_t, KC>
          <<<detail::grid_for(total, kThreads), kThreads, 0, detail::stream_of(s.handle)>>>(kernel, gout, dx,
                                                                                            dims_as<int64_t>(d), total);
  });
  PN_CUDA_CHECK_LAUNCH("involution_backward_input_kernel");
}

template <class T>
void involution_backward_kernel(const T* x, const T* gout, T* dkernel, const math::InvolutionDims& d, Stream s) {
  const int64_t total = d.N * d.OH * d.OW * d.K * d.K * d.G;
  if (total == 0) return;
  const int L = lanes_for(d.C / d.G);
  const int64_t threads = (total * L + 31) / 32 * 32;
  const bool small = threads <= kMax32 && d.N * d.H * d.W * d.C <= kMax32 && d.N * d.OH * d.OW * d.C <= kMax32;
  auto launch = [&]<int LC>() {
    if (small)
      involution_backward_kernel_kernel<T, int32_t, LC>
          <<<detail::grid_for(threads, kThreads), kThreads, 0, detail::stream_of(s.handle)>>>(
              x, gout, dkernel, dims_as<int32_t>(d), int32_t(total), int32_t(threads));
    else
      involution_backward_kernel_kernel<T, int64_t, LC>
          <<<detail::grid_for(threads, kThreads), kThreads, 0, detail::stream_of(s.handle)>>>(
              x, gout, dkernel, dims_as<int64_t>(d), total, threads);
  };
  switch (L) {
    case 1:
      launch.template operator()<1>();
      break;
    case 2:
      launch.template operator()<2>();
      break;
    case 4:
      launch.template operator()<4>();
      break;
    case 8:
      launch.template operator()<8>();
      break;
    case 16:
      launch.template operator()<16>();
      break;
    default:
      launch.template operator()<32>();
      break;
  }
  PN_CUDA_CHECK_LAUNCH("involution_backward_kernel_kernel");
}

#define PATCHNET_INSTANTIATE(T)                                                                            \
  template void involution_forward<T>(const T*, const T*, T*, const math::InvolutionDims&, Stream);        \
  template void involution_backward_input<T>(const T*, const T*, T*, const math::InvolutionDims&, Stream); \
  template void involution_backward_kernel<T>(const T*, const T*, T*, const math::InvolutionDims&, Stream);
PATCHNET_INSTANTIATE(float)
PATCHNET_INSTANTIATE(double)
#undef PATCHNET_INSTANTIATE

}  // namespace impl

PN_CUDA_REGISTER(involution_forward, float, double);
PN_CUDA_REGISTER(involution_backward_input, float, double);
PN_CUDA_REGISTER(involution_backward_kernel, float, double);

}  // namespace patchnet::cuda
