// dropout and drop_path: masks from the generator (reproducible, identical for float and
// double, the same test as math::philox_keep), kept fraction, scaling, backward, eval
// identity, and errors.
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "patchnet/math/philox.hpp"
#include "patchnet/ops/dropout.hpp"
#include "support/test_util.hpp"
#include "support/shard_masks.hpp"

using namespace patchnet;
using patchnet::test::check_close;

namespace {
// 1 where y kept x (y != 0 for nonzero x), else 0.
template <class T>
std::vector<int> mask_of(const Tensor<T>& y) {
  const auto v = y.to_vector();
  std::vector<int> m(v.size());
  for (size_t i = 0; i < v.size(); ++i) m[i] = v[i] != T(0);
  return m;
}
}  // namespace

TEST_CASE("dropout: same seed gives the same mask, the next draw a different one") {
  const auto x = test::uniform<float>({3, 7, 11, 5}, 31, 0.5, 1.0);  // nonzero: the mask is y != 0
  Generator a(2024), b(2024);
  const auto m1 = mask_of(dropout(x, 0.4, true, a));
  CHECK(m1 == mask_of(dropout(x, 0.4, true, b)));
  const auto m2 = mask_of(dropout(x, 0.4, true, a));
  CHECK(m1 != m2);
  CHECK(a.offset() == 2 * math::philox_blocks(static_cast<uint64_t>(x.numel())));
  Generator c(2025);
  CHECK(m1 != mask_of(dropout(x, 0.4, true, c)));
}

TEST_CASE("dropout: element i is kept iff math::philox_keep(seed, base, i), in float and double") {
  // 1037 elements: 16 groups of 64 plus a 13-element tail; base not a multiple of 16.
  const auto xd = test::uniform<double>({1037}, 32, 0.5, 1.0);
  Generator gd(77), gf(77);
  gd.set_offset(5);
  gf.set_offset(5);
  const auto md = mask_of(dropout(xd, 0.25, true, gd));
  const auto mf = mask_of(dropout(to_dtype<float>(xd), 0.25, true, gf));
  CHECK(md == mf);
  const uint32_t thr = math::keep_threshold(0.75);
  for (size_t i = 0; i < md.size(); ++i) REQUIRE(md[i] == static_cast<int>(math::philox_keep(77, 5, i, thr)));
  // The same test as bernoulli(): the same generator state gives the same pattern.
  Generator gb(77);
  gb.set_offset(5);
  const auto bern = bernoulli<double>({1037}, 0.75, gb).to_vector();
  for (size_t i = 0; i < md.size(); ++i) REQUIRE(md[i] == static_cast<int>(bern[i]));
}

TEST_CASE("dropout: about 1 - p of 100k elements kept, each scaled by 1 / (1 - p), backward uses the mask") {
  const auto x = test::uniform<float>({100003}, 33, 0.5, 1.0).set_requires_grad();
  Generator gen(9);
  const auto y = dropout(x, 0.3, true, gen);
  const auto xv = x.to_vector(), yv = y.to_vector();
  const float scale = static_cast<float>(1.0 / 0.7);
  int64_t kept = 0;
  for (size_t i = 0; i < xv.size(); ++i) {
    if (yv[i] != 0.0f) {
      ++kept;
      REQUIRE(yv[i] == xv[i] * scale);
    }
  }
  // Binomial(100003, 0.7): standard deviation 145, so +-0.5% is 3.4 sigma.
  CHECK(static_cast<double>(kept) / 100003.0 == doctest::Approx(0.7).epsilon(0.005 / 0.7));
  y.backward(Tensor<float>::full(y.shape(), 2.0f));
  const auto g = x.grad().to_vector();
  for (size_t i = 0; i < g.size(); ++i) REQUIRE(g[i] == (yv[i] != 0.0f ? 2.0f * scale : 0.0f));
}

TEST_CASE("dropout: the mask across a carry of the 64-bit Philox counter's low word") {
  // A group of 16 blocks that straddles block 2^32: the vector kernel's carry into the high word.
  const auto x = test::uniform<float>({4 * 64 + 3}, 33, 0.5, 1.0);
  const uint64_t base = (uint64_t(1) << 32) - 7;
  Generator g(91);
  g.set_offset(base);
  const auto m = mask_of(dropout(x, 0.5, true, g));
  const uint32_t thr = math::keep_threshold(0.5);
  for (size_t i = 0; i < m.size(); ++i) REQUIRE(m[i] == static_cast<int>(math::philox_keep(91, base, i, thr)));
}

TEST_CASE("dropout: NaN and inf inputs stay visible where kept") {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> v(130, 1.0f);
  v[3] = std::numeric_limits<float>::quiet_NaN();
  v[100] = inf;
  Generator gen(3);
  const auto y = dropout(Tensor<float>::from_vector(v, {130}), 0.5, true, gen).to_vector();
  CHECK(std::isnan(y[3]));  // x * 0 or x * scale: NaN either way
  CHECK((std::isnan(y[100]) || y[100] == inf));
}

TEST_CASE("dropout: eval and p = 0 return the input and draw nothing") {
  auto x = test::uniform<double>({4, 5}, 34);
  Generator gen(1);
  CHECK(dropout(x, 0.5, false, gen).is_same(x));
  CHECK(dropout(x, 0.0, true, gen).is_same(x));
  CHECK(drop_path(x, 0.5, false, gen).is_same(x));
  CHECK(drop_path(x, 0.0, true, gen).is_same(x));
  CHECK(gen.offset() == 0);
  // A tiny p keeps everything (keep_threshold saturates), still drawing and scaling.
  const auto y = dropout(x, 1e-12, true, gen);
  CHECK(gen.offset() == math::philox_blocks(20));
  check_close(y, x * (1.0 / (1.0 - 1e-12)), 0, 0, "all kept");
}

TEST_CASE("drop_path: each sample is zeroed or scaled whole, about keep of them kept") {
  const auto x = test::uniform<double>({64, 3, 4, 5}, 35, 0.5, 1.0).set_requires_grad();
  Generator gen(11);
  const auto y = drop_path(x, 0.25, true, gen);
  CHECK(gen.offset() == math::philox_blocks(64));
  const auto xv = x.to_vector(), yv = y.to_vector();
  const uint32_t thr = math::keep_threshold(0.75);
  int kept = 0;
  for (int64_t n = 0; n < 64; ++n) {
    const bool keep = math::philox_keep(11, 0, static_cast<uint64_t>(n), thr);
    kept += keep;
    for (int64_t j = 0; j < 60; ++j) {
      const size_t i = static_cast<size_t>(n * 60 + j);
      REQUIRE(yv[i] == (keep ? xv[i] * (1.0 / 0.75) : 0.0));
    }
  }
  CHECK(kept > 0);
  CHECK(kept < 64);
  y.backward(Tensor<double>::ones(y.shape()));
  const auto g = x.grad().to_vector();
  for (size_t i = 0; i < g.size(); ++i) REQUIRE(g[i] == (yv[i] != 0.0 ? 1.0 / 0.75 : 0.0));
  // The kept fraction over many samples: the seed's floor(keep + U) keeps with probability keep.
  Generator big(12);
  const auto ys = drop_path(Tensor<float>::ones({100000, 2}), 0.1, true, big).to_vector();
  int64_t k = 0;
  for (size_t i = 0; i < ys.size(); i += 2) k += ys[i] != 0.0f;
  CHECK(static_cast<double>(k) / 100000.0 == doctest::Approx(0.9).epsilon(0.004 / 0.9));
  // float and double draw the same samples.
  Generator g1(13), g2(13);
  CHECK(mask_of(drop_path(x, 0.5, true, g1)) == mask_of(drop_path(to_dtype<float>(x), 0.5, true, g2)));
}

TEST_CASE("dropout, drop_path: bad probability or input throws naming the op") {
  const auto x = Tensor<float>::ones({2, 3});
  Generator gen(0);
  CHECK_THROWS_PN(dropout(x, 1.0, true, gen), "dropout: drop probability p = 1 is outside [0, 1) (p = 1 would drop");
  CHECK_THROWS_PN(dropout(x, -0.1, true, gen), "dropout: drop probability p = -0.1 is outside [0, 1)");
  CHECK_THROWS_PN(dropout(x, std::nan(""), false, gen), "dropout: drop probability p = nan");
  CHECK_THROWS_PN(drop_path(x, 1.5, true, gen), "drop_path: drop probability p = 1.5 is outside [0, 1)");
  CHECK_THROWS_PN(drop_path(Tensor<float>::scalar(1.0f), 0.5, true, gen), "drop_path: input [] has no batch dimension");
  CHECK_THROWS_PN(dropout(Tensor<float>(), 0.5, true, gen), "dropout: input is undefined");
}

TEST_CASE("dropout, drop_path: a batch shard keeps its rows of the global batch's draw") {
  for (bool dp : {false, true}) {
    test::check_shard_masks<float>(Device::cpu(), dp, {8, 4, 4, 8}, 4, 4, 0.3, 31);  // rows of whole Philox blocks
    test::check_shard_masks<float>(Device::cpu(), dp, {9, 3, 1, 5}, 3, 4, 0.5, 32);  // 15-element rows: skew 1
    test::check_shard_masks<double>(Device::cpu(), dp, {7, 2, 3}, 5, 2, 0.4, 33);    // skew 2, the last rows
    test::check_shard_masks<float>(Device::cpu(), dp, {6, 13}, 0, 3, 0.2, 34);       // the first share
  }
  // An input whose dimension 0 is not the shard's rows draws as usual (the shard is ignored).
  Generator a(9), b(9);
  b.set_batch_shard({2, 4, 8});
  const Tensor<float> x = Tensor<float>::ones({5, 7});
  check_close(dropout(x, 0.5, true, b), dropout(x, 0.5, true, a), 0, 0, "dropout of 5 rows with a 4-row shard");
  CHECK(a.offset() == b.offset());
}
