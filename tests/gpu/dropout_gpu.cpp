// Beyond the dropout and drop_path rows of the op table (run on the GPU from tests/cases/):
// masks drawn on the GPU
// bit-identical to the CPU's for the same generator state, at realistic sizes.
#include "gpu/gpu_runner.hpp"
#include "patchnet/ops/dropout.hpp"
#include "support/shard_masks.hpp"

using namespace patchnet;

namespace {

enum class Op { Dropout, DropPath };

// Runs op on x (CPU) and on x.to(cuda) from generators in the same state, twice in a row
// (the second draw checks that both advanced alike); forward and gradient must agree bit
// for bit.
template <class T>
void check_same_masks(Op op, const Shape& shape, double p, uint64_t seed, bool slice_input = false) {
  const std::string where = std::string(op == Op::Dropout ? "dropout " : "drop_path ") + shape.str() +
                            " p=" + std::to_string(p) + (slice_input ? " (offset view)" : "");
  const Tensor<T> base = uniform<T>(shape, seed_of(where));
  Generator gc(seed), gg(seed);
  gc.set_offset(5);
  gg.set_offset(5);
  for (int draw = 0; draw < 2; ++draw) {
    const std::string w = where + " draw " + std::to_string(draw);
    Tensor<T> lc = base.clone().set_requires_grad();
    Tensor<T> lg = base.to(Device::cuda()).set_requires_grad();
    // A row slice is contiguous but starts off the 16-byte boundary: the scalar kernel path.
    const Tensor<T> xc = slice_input ? slice(lc, 0, 1, shape[0]) : lc;
    const Tensor<T> xg = slice_input ? slice(lg, 0, 1, shape[0]) : lg;
    Tensor<T> yc = op == Op::Dropout ? dropout(xc, p, true, gc) : drop_path(xc, p, true, gc);
    Tensor<T> yg = op == Op::Dropout ? dropout(xg, p, true, gg) : drop_path(xg, p, true, gg);
    REQUIRE(yg.is_cuda());
    check_close(yg, yc, 0, 0, w + " forward");
    CHECK_MESSAGE(gc.offset() == gg.offset(), w, ": generator offsets differ");
    const Tensor<T> gout = uniform<T>(yc.shape(), seed_of(w + "/gout"));
    yc.backward(gout);
    yg.backward(gout.to(Device::cuda()));
    REQUIRE(lg.grad().defined());
    check_close(lg.grad(), lc.grad(), 0, 0, w + " gradient");
    // A dropout mask over >= 1000 elements is not trivial: some dropped, some kept.
    const std::vector<T> v = yc.to_vector();
    int64_t zeros = 0;
    for (T e : v) zeros += e == T(0);
    if (op == Op::Dropout && v.size() >= 1000)
      CHECK_MESSAGE((zeros > 0 && zeros < static_cast<int64_t>(v.size())), w, ": degenerate mask");
  }
}
}  // namespace

TEST_CASE("cuda: dropout masks equal the CPU's for the same seed") {
  for (double p : {0.1, 0.5}) {
    check_same_masks<float>(Op::Dropout, {8, 8, 8, 96}, p, 11);
    check_same_masks<float>(Op::Dropout, {128, 16, 16, 32}, p, 12);
    check_same_masks<float>(Op::Dropout, {7, 13, 5}, p, 13);       // 455: a partial last block
    check_same_masks<float>(Op::Dropout, {9, 7, 3}, p, 14, true);  // unaligned start
    check_same_masks<double>(Op::Dropout, {8, 8, 8, 96}, p, 15);
    check_same_masks<double>(Op::Dropout, {5, 11}, p, 16, true);
  }
}

TEST_CASE("cuda: drop_path factors equal the CPU's for the same seed") {
  for (double p : {0.1, 0.5}) {
    check_same_masks<float>(Op::DropPath, {8, 8, 8, 96}, p, 21);
    check_same_masks<float>(Op::DropPath, {128, 8, 8, 64}, p, 22);
    check_same_masks<float>(Op::DropPath, {128, 197}, p, 23);
    check_same_masks<double>(Op::DropPath, {128, 4, 4, 8}, p, 24);
  }
}

TEST_CASE("cuda: dropout and drop_path in eval are the identity and draw nothing") {
  Tensor<float> x = uniform<float>({8, 8, 8, 96}, 3).to(Device::cuda());
  Generator g(7);
  CHECK(dropout(x, 0.5, false, g).is_same(x));
  CHECK(drop_path(x, 0.5, false, g).is_same(x));
  CHECK(dropout(x, 0.0, true, g).is_same(x));
  CHECK(g.offset() == 0);
}

TEST_CASE("cuda: dropout keeps about 1 - p of a large tensor") {
  Generator g(99);
  Tensor<float> y = dropout(Tensor<float>::ones({128, 16, 16, 32}, Device::cuda()), 0.1, true, g);
  const std::vector<float> v = y.to_vector();
  int64_t kept = 0;
  for (float e : v) kept += e != 0.0f;
  const double frac = static_cast<double>(kept) / static_cast<double>(v.size());
  CHECK(frac > 0.895);
  CHECK(frac < 0.905);
}

TEST_CASE("cuda: a batch shard's dropout and drop_path masks are its rows of the CPU's global draw") {
  for (bool dp : {false, true}) {
    test::check_shard_masks<float>(Device::cuda(), dp, {16, 8, 8, 32}, 8, 8, 0.3, 41);
    test::check_shard_masks<float>(Device::cuda(), dp, {9, 3, 1, 5}, 3, 4, 0.5, 42);  // skew 1: the buffered path
    test::check_shard_masks<double>(Device::cuda(), dp, {7, 2, 3}, 5, 2, 0.4, 43);
  }
}
