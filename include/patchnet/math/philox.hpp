// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011),
// the counter-based generator of cuRAND and PyTorch. Value i of a draw is a pure function
// of (seed, the draw's base counter, i), so CPU loops and CUDA threads produce the same
// numbers in any order, and a draw can be replayed.
#pragma once

#include <cstdint>

#include "patchnet/core/config.hpp"

namespace patchnet::math {

struct PhiloxBlock {
  uint32_t v[4];
};

// One Philox4x32-10 block: 4 random 32-bit words from a 128-bit counter and a 64-bit key.
PATCHNET_HD inline PhiloxBlock philox4x32(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0,
                                          uint32_t k1) {
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = static_cast<uint64_t>(kM0) * c0;
    const uint64_t p1 = static_cast<uint64_t>(kM1) * c2;
    const uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
    const uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += kW0;
    k1 += kW1;
  }
  return {{c0, c1, c2, c3}};
}

// Block `block` of the stream under `seed`: counter (block low, block high, attempt, 0),
// key (seed low, seed high). A CUDA thread that handles 4 consecutive values of a draw
// evaluates this once and uses all 4 words.
PATCHNET_HD inline PhiloxBlock philox_block(uint64_t seed, uint64_t block, uint32_t attempt = 0) {
  return philox4x32(static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32), attempt, 0u,
                    static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

// Word i of the stream that starts at block `base` under `seed`: block base + i/4,
// lane i%4. `attempt` selects an independent stream for rejection sampling.
PATCHNET_HD inline uint32_t philox_word(uint64_t seed, uint64_t base, uint64_t i, uint32_t attempt = 0) {
  return philox_block(seed, base + i / 4, attempt).v[i % 4];
}

// The keep test of dropout and drop path: keep when the word is below keep_prob * 2^32.
// An integer threshold makes float and double runs, and CPU and CUDA, keep the same
// elements for the same seed.
PATCHNET_HD inline uint32_t keep_threshold(double keep_prob) {
  if (keep_prob >= 1.0) return 0xFFFFFFFFu;
  if (keep_prob <= 0.0) return 0u;
  return static_cast<uint32_t>(keep_prob * 4294967296.0);
}
// The test on one word: below the threshold, or everything kept at threshold 2^32 - 1.
PATCHNET_HD inline bool keep_word(uint32_t word, uint32_t threshold) {
  return threshold == 0xFFFFFFFFu || word < threshold;
}
PATCHNET_HD inline bool philox_keep(uint64_t seed, uint64_t base, uint64_t i, uint32_t threshold) {
  return keep_word(philox_word(seed, base, i), threshold);
}

// A double in [0, 1) with 53 random bits, from words 2i and 2i+1.
PATCHNET_HD inline double philox_uniform(uint64_t seed, uint64_t base, uint64_t i, uint32_t attempt = 0) {
  const uint32_t a = philox_word(seed, base, 2 * i, attempt) >> 5;      // 27 bits
  const uint32_t b = philox_word(seed, base, 2 * i + 1, attempt) >> 6;  // 26 bits
  return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
}

// Number of Philox blocks a draw of n values of `words` 32-bit words each consumes.
PATCHNET_HD inline uint64_t philox_blocks(uint64_t n, uint64_t words = 1) { return (n * words + 3) / 4; }

}  // namespace patchnet::math
