// The convolutions patchnet_bench times, shared by conv_bench.cpp (CPU) and
// conv_cuda_bench.cpp (GPU): shapes of the three models, with the ideal bytes and MACs.
#pragma once

#include "bench_util.hpp"
#include "patchnet/ops/conv.hpp"

namespace patchnet::bench {

struct ConvBench {
  Shape x, w;  // w: HWIO, or [KH,KW,C] for depthwise
  Conv2dOptions opt;
  bool depthwise = false;
  bool input_grad = true;  // false for a first layer fed with images

  Shape out() const {
    const Window2d g = window2d("bench", x, {w[0], w[1]}, opt.stride, opt.padding, opt.pad);
    return {g.N, g.OH, g.OW, depthwise ? x[3] : w[3]};
  }
  double macs() const {
    const Shape y = out();
    return static_cast<double>(y.numel()) * static_cast<double>(w[0] * w[1] * (depthwise ? 1 : w[2]));
  }
  double fwd_bytes() const {
    return static_cast<double>(x.numel() + w.numel() + out()[3] + out().numel()) * sizeof(float);
  }
  // Backward reads dy, x, w and writes dx (if needed), dw, db.
  double bwd_bytes() const {
    return static_cast<double>(out().numel() + x.numel() + w.numel() + (input_grad ? x.numel() : 0) + w.numel() +
                               out()[3]) *
           sizeof(float);
  }
  Tensor<float> run(const Tensor<float>& a, const Tensor<float>& k, const Tensor<float>& b) const {
    return depthwise ? depthwise_conv2d(a, k, b, opt) : conv2d(a, k, b, opt);
  }
};

using CM = ConvMixerShape;
using SV = ShiftVitShape;
using IN = InvolutionShape;

inline const ConvBench kDepthwise{
    {CM::N, CM::H, CM::W, CM::C}, {CM::K, CM::K, CM::C}, {.padding = Padding::Same}, true};
inline const ConvBench kStem{
    {CM::N, CM::H* CM::P, CM::W* CM::P, 3}, {CM::P, CM::P, 3, CM::C}, {.stride = CM::P}, false, false};
inline const ConvBench kPointwise{{CM::N, CM::H, CM::W, CM::C}, {1, 1, CM::C, CM::C}, {}};
inline const ConvBench kPatchProjection{{SV::N, SV::Image, SV::Image, 3},
                                        {SV::P, SV::P, 3, SV::C},
                                        {.stride = SV::P, .padding = Padding::Same},
                                        false,
                                        false};
inline const ConvBench kPatchMerge{
    {SV::N, SV::H, SV::W, SV::C}, {2, 2, SV::C, 2 * SV::C}, {.stride = 2, .padding = Padding::Same}};
inline const ConvBench kBaseline3x3{
    {IN::N, IN::H, IN::W, IN::C}, {IN::K, IN::K, IN::C, 32}, {.padding = Padding::Same}, false, false};

}  // namespace patchnet::bench
