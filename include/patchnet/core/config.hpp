// Build-wide constants and the host/device function marker.
#pragma once

#if defined(__CUDACC__)
#define PATCHNET_HD __host__ __device__
#else
#define PATCHNET_HD
#endif

namespace patchnet {

// Highest tensor rank. Shapes live inline (no heap) up to this rank.
inline constexpr int kMaxDims = 8;

}  // namespace patchnet
