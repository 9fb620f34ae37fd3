// Damaged safetensors files must throw patchnet::Error, never crash or throw anything else:
// the sample truncated at every length, random byte flips in the header (some flips leave a
// valid file, e.g. inside a metadata string; those must load and re-save), and random
// header lengths. Deterministic (fixed seeds) and quick (in memory, a few files on disk).
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "patchnet/io/safetensors.hpp"
#include "support/temp_dir.hpp"
#include "support/test_util.hpp"

using namespace patchnet;

namespace {

const std::string kSample = std::string(PATCHNET_GOLDEN_DIR) + "/safetensors_sample.safetensors";

std::vector<uint8_t> sample_bytes() {
  std::ifstream in(kSample, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// 1: threw patchnet::Error; 0: parsed; -1: threw something else.
int try_parse(const std::vector<uint8_t>& b) {
  try {
    const io::SafeTensors st = io::parse_safetensors(b, "fuzz");
    // What parsed must survive a re-save and re-load.
    const io::SafeTensors again = io::parse_safetensors(io::serialize_safetensors(st), "fuzz (re-saved)");
    if (again.records().size() != st.records().size()) return -1;
    return 0;
  } catch (const Error&) {
    return 1;
  } catch (...) {
    return -1;
  }
}

}  // namespace

TEST_CASE("safetensors fuzz: every truncation throws patchnet::Error") {
  const auto full = sample_bytes();
  REQUIRE(full.size() > 100);
  REQUIRE(try_parse(full) == 0);
  for (size_t len = 0; len < full.size(); ++len) {
    const std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(len));
    CAPTURE(len);
    CHECK(try_parse(cut) == 1);
  }
  // Through real files too (load_safetensors' read path), at a few lengths.
  const test::TempDir tmp("fuzz");
  const std::string path = tmp.file("cut.safetensors");
  for (size_t len : {size_t(0), size_t(7), size_t(8), size_t(9), size_t(64), full.size() / 2, full.size() - 1}) {
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out.write(reinterpret_cast<const char*>(full.data()), static_cast<std::streamsize>(len));
    }
    CAPTURE(len);
    CHECK_THROWS_AS(io::load_safetensors(path), Error);
  }
}

TEST_CASE("safetensors fuzz: random byte flips in the header") {
  const auto full = sample_bytes();
  uint64_t n = 0;
  std::memcpy(&n, full.data(), 8);
  const size_t header_end = 8 + static_cast<size_t>(n);
  std::mt19937_64 rng(20240601);
  int threw = 0, parsed = 0, other = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::vector<uint8_t> b = full;
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int f = 0; f < flips; ++f) {
      const size_t at = rng() % header_end;
      b[at] = iter % 2 ? static_cast<uint8_t>(rng()) : static_cast<uint8_t>(b[at] ^ (1u << (rng() % 8)));
    }
    const int r = try_parse(b);
    threw += r == 1;
    parsed += r == 0;
    other += r == -1;
  }
  MESSAGE("byte flips: ", threw, " threw patchnet::Error, ", parsed, " still valid");
  CHECK(other == 0);
  CHECK(threw > 2000);
}

TEST_CASE("safetensors fuzz: random header lengths and garbage headers") {
  const auto full = sample_bytes();
  std::mt19937_64 rng(7);
  for (int iter = 0; iter < 2000; ++iter) {
    std::vector<uint8_t> b = full;
    uint64_t n = iter < 1000 ? rng() : rng() % (full.size() + 16);
    std::memcpy(b.data(), &n, 8);
    CHECK(try_parse(b) != -1);
  }
  for (int iter = 0; iter < 2000; ++iter) {
    const size_t len = rng() % 200;
    std::vector<uint8_t> b(8 + len);
    const uint64_t n = len;
    std::memcpy(b.data(), &n, 8);
    // Mostly JSON-ish characters, so the parser gets past the first byte.
    static const char alphabet[] = "{}[]\":,0123456789-eE.tfnul \\\"dtypeshapedata_offsetsF32U8I64";
    for (size_t i = 0; i < len; ++i)
      b[8 + i] =
          iter % 3 ? static_cast<uint8_t>(alphabet[rng() % (sizeof(alphabet) - 1)]) : static_cast<uint8_t>(rng());
    CHECK(try_parse(b) != -1);
  }
}
