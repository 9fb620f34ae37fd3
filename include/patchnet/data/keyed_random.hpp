// Keyed (counter-based) random numbers for the data pipeline: the shuffle of an epoch and
// the crop / flip of one sample are pure functions of (seed, epoch, index), so a resumed
// run, any thread count and any batch boundary see the same numbers.
//
// One Philox4x32-10 block (math/philox.hpp) per (stream, epoch, index): key = the user's
// 64-bit seed, counter = (index low, index high, epoch, stream). The stream word keeps the
// shuffle and the augmentation independent under one seed without mixing anything into
// the key (two seeds can never collide). The epoch is one 32-bit word, so it is checked.
#pragma once

#include <cstdint>
#include <string>

#include "patchnet/core/error.hpp"
#include "patchnet/math/philox.hpp"

namespace patchnet::data {

// Independent streams under one seed.
enum class RandomStream : uint32_t { Shuffle = 0x5348u, Augment = 0x4155u, Synthetic = 0x5359u };

inline void check_epoch(const char* op, uint64_t epoch) {
  PN_CHECK(epoch <= 0xFFFFFFFFull, op, ": epoch ", epoch, " is too large (the data pipeline keys on a 32-bit epoch)");
}

// The 4 random words of (seed, stream, epoch, index).
inline math::PhiloxBlock keyed_block(uint64_t seed, RandomStream stream, uint64_t epoch, uint64_t index) {
  return math::philox4x32(static_cast<uint32_t>(index), static_cast<uint32_t>(index >> 32),
                          static_cast<uint32_t>(epoch), static_cast<uint32_t>(stream), static_cast<uint32_t>(seed),
                          static_cast<uint32_t>(seed >> 32));
}

// Uniform integer in [0, n) from two 32-bit words (Lemire's multiply-shift on 64 bits:
// the bias is at most n / 2^64, nothing at data-set sizes). n must be >= 1.
inline uint64_t uniform_below(uint32_t hi_word, uint32_t lo_word, uint64_t n) {
  // High 64 bits of the 128-bit product r * n, r = hi_word:lo_word, from 32-bit pieces.
  const uint64_t n_lo = n & 0xFFFFFFFFu, n_hi = n >> 32;
  const uint64_t ll = uint64_t{lo_word} * n_lo, lh = uint64_t{lo_word} * n_hi;
  const uint64_t hl = uint64_t{hi_word} * n_lo, hh = uint64_t{hi_word} * n_hi;
  const uint64_t mid = (ll >> 32) + (lh & 0xFFFFFFFFu) + (hl & 0xFFFFFFFFu);
  return hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

}  // namespace patchnet::data
