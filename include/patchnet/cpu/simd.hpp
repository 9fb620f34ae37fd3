// The SIMD register width the CPU kernels size their register tiles by, fixed at compile
// time from the target (-march): 64 bytes with AVX-512, 32 with AVX, 16 otherwise.
#pragma once

#include <cstdint>

namespace patchnet::cpu {

#if defined(__AVX512F__)
inline constexpr int kVectorBytes = 64;
#elif defined(__AVX__)
inline constexpr int kVectorBytes = 32;
#else
inline constexpr int kVectorBytes = 16;
#endif

}  // namespace patchnet::cpu
