// bfloat16 (and TF32 at the end): the top 16 bits of a float32 (8 exponent bits, 7 mantissa bits). Rounding as
// the x86 conversion instructions (VCVTNEPS2BF16) and cuBLAS's bf16 compute types do it:
// to nearest, ties to even; a NaN stays a quiet NaN; a denormal input becomes a zero of its
// sign (those instructions treat input denormals as zero), so the scalar and vector paths of
// cpu/gemm_bf16.hpp round every value alike.
#pragma once

#include <cstdint>
#include <cstring>

namespace patchnet::math {

inline uint16_t bf16_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  if ((u & 0x7F800000u) == 0x7F800000u && (u & 0x007FFFFFu) != 0) return static_cast<uint16_t>((u >> 16) | 0x0040u);
  if ((u & 0x7F800000u) == 0) return static_cast<uint16_t>((u >> 16) & 0x8000u);
  u += 0x7FFFu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

inline float bf16_to_float(uint16_t b) {
  const uint32_t u = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// f rounded to the nearest bfloat16, as a float.
inline float round_bf16(float f) { return bf16_to_float(bf16_bits(f)); }

// Two values as one 32-bit pair, `lo` in the low half: the layout of VDPBF16PS's operands
// (element 2i the low word, 2i + 1 the high word of lane i).
inline uint32_t bf16_pair(float lo, float hi) {
  return static_cast<uint32_t>(bf16_bits(lo)) | (static_cast<uint32_t>(bf16_bits(hi)) << 16);
}

// f rounded to TF32 (float32 with 10 mantissa bits, to nearest even), as a float: the
// inputs of the tf32 policy's GPU products, and the emulator's model of them.
inline float round_tf32(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  if ((u & 0x7F800000u) != 0x7F800000u) u = (u + 0xFFFu + ((u >> 13) & 1u)) & ~0x1FFFu;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

}  // namespace patchnet::math
