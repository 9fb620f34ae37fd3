// The involutions patchnet_bench times, shared by involution_bench.cpp (CPU) and
// involution_cuda_bench.cpp (GPU).
#pragma once

#include <cstdint>

#include "bench_util.hpp"

namespace patchnet::bench {

struct InvolutionCase {
  int64_t N, H, W, C, K, G;
};
// The seed's first layer, and the paper's RedNet setting.
inline constexpr InvolutionCase kCases[] = {
    {InvolutionShape::N, InvolutionShape::H, InvolutionShape::W, InvolutionShape::C, InvolutionShape::K, 1},
    {128, 16, 16, 256, 7, 16}};

// Bytes an ideal forward moves (read x and kernel, write out) and its FLOPs (stride 1).
inline double fwd_bytes(const InvolutionCase& c) {
  return static_cast<double>(c.N * c.H * c.W * (2 * c.C + c.K * c.K * c.G)) * 4;
}
inline double fwd_flops(const InvolutionCase& c) {
  return 2.0 * static_cast<double>(c.N * c.H * c.W * c.C * c.K * c.K);
}

}  // namespace patchnet::bench
