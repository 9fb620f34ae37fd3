// ImageSet: subset, the synthetic set, the seeds' train / validation splits (full-size
// counts and the proportional ones of the mini set), and their errors.
#include <set>
#include <string>

#include "patchnet/data/image_set.hpp"
#include "support/test_util.hpp"

using namespace patchnet;
using namespace patchnet::data;

namespace {
// n images of 1x1x1 whose pixel and label are i % 256 and i % 10: every image says where
// it came from.
ImageSet numbered_set(int64_t n, int64_t side = 1) {
  ImageSet s;
  s.n = n;
  s.height = s.width = side;
  s.channels = 1;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t p = 0; p < side * side; ++p) s.pixels.push_back(static_cast<uint8_t>(i % 256));
    s.labels.push_back(static_cast<int32_t>(i % 10));
  }
  s.class_names = cifar10_class_names();
  return s;
}
}  // namespace

TEST_CASE("data: ImageSet accessors and subset") {
  ImageSet s = numbered_set(20, 2);
  CHECK(s.image_bytes() == 4);
  CHECK(s.num_classes() == 10);
  CHECK(s.image(13)[0] == 13);
  CHECK(s.image(13)[3] == 13);
  CHECK_THROWS_PN(s.image(20), "ImageSet::image: index 20 out of range [0, 20)");
  CHECK_THROWS_PN(s.image(-1), "index -1 out of range");

  ImageSet sub = subset(s, 5, 12);
  CHECK(sub.n == 7);
  CHECK(sub.pixels.size() == 28u);
  CHECK(sub.image(0)[0] == 5);
  CHECK(sub.image(6)[3] == 11);
  CHECK(sub.labels[6] == 1);
  CHECK(sub.class_names == s.class_names);
  CHECK(subset(s, 4, 4).n == 0);
  CHECK_THROWS_PN(subset(s, 5, 21), "subset: range [5, 21) is not within the set's [0, 20)");
  CHECK_THROWS_PN(subset(s, 6, 5), "subset: range [6, 5)");

  s.class_names.clear();
  CHECK(s.num_classes() == 10);  // largest label + 1
  validate(s, "numbered");
  s.labels[3] = -2;
  CHECK_THROWS_PN(validate(s, "numbered"), "numbered: image 3: label -2 out of range [0, 10)");
  s.labels[3] = 3;
  s.pixels.pop_back();
  CHECK_THROWS_PN(validate(s, "numbered"), "numbered: 79 pixel bytes, expected n * h * w * c = 20 * 2 * 2 * 1 = 80");
}

TEST_CASE("data: synthetic_image_set is a pure function of its seed") {
  const ImageSet a = synthetic_image_set(50, 4, 3, 3, 7, 11), b = synthetic_image_set(50, 4, 3, 3, 7, 11);
  const ImageSet c = synthetic_image_set(50, 4, 3, 3, 7, 12);
  CHECK(a.n == 50);
  CHECK(a.pixels.size() == 50u * 36u);
  CHECK(a.labels.size() == 50u);
  CHECK(a.class_names.size() == 7u);
  CHECK(a.class_names[0] == "class0");
  CHECK(a.class_names[6] == "class6");
  CHECK(a.pixels == b.pixels);
  CHECK(a.labels == b.labels);
  CHECK(a.pixels != c.pixels);
  CHECK(a.labels != c.labels);
  validate(a, "synthetic");
  // Labels cover the classes and pixels the byte range (not a constant or a short cycle).
  std::set<int32_t> labels(a.labels.begin(), a.labels.end());
  CHECK(labels.size() == 7u);
  std::set<uint8_t> values(a.pixels.begin(), a.pixels.end());
  CHECK(values.size() > 200u);
  double mean = 0;
  for (uint8_t v : a.pixels) mean += v;
  mean /= static_cast<double>(a.pixels.size());
  CHECK(mean > 117.0);
  CHECK(mean < 138.0);
  CHECK_THROWS_PN(synthetic_image_set(0, 4, 4, 3, 10, 1), "synthetic_image_set: sizes must be positive, got n 0");
  CHECK_THROWS_PN(synthetic_image_set(5, 4, 4, 3, 0, 1), "synthetic_image_set: num_classes 0 must be in [1, 2^31)");
}

TEST_CASE("data: cifar10_class_names in label order") {
  const auto& names = cifar10_class_names();
  REQUIRE(names.size() == 10u);
  CHECK(names[0] == "airplane");
  CHECK(names[1] == "automobile");
  CHECK(names[3] == "cat");
  CHECK(names[9] == "truck");
}

TEST_CASE("data: split_head and split_tail take fixed blocks, in order") {
  const ImageSet s = numbered_set(30);
  const TrainValSplit head = split_head(s, 8);
  CHECK(head.val.n == 8);
  CHECK(head.train.n == 22);
  CHECK(head.val.image(0)[0] == 0);
  CHECK(head.val.image(7)[0] == 7);
  CHECK(head.train.image(0)[0] == 8);
  CHECK(head.train.image(21)[0] == 29);
  CHECK(head.train.labels[0] == 8);

  const TrainValSplit tail = split_tail(s, 8);
  CHECK(tail.train.n == 22);
  CHECK(tail.val.n == 8);
  CHECK(tail.train.image(21)[0] == 21);
  CHECK(tail.val.image(0)[0] == 22);
  CHECK(tail.val.image(7)[0] == 29);

  CHECK_THROWS_PN(split_head(s, 0), "split_head: 0 validation images out of 30");
  CHECK_THROWS_PN(split_tail(s, 30), "split_tail: 30 validation images out of 30");
  CHECK_THROWS_PN(split_tail(s, 31), "need 0 < n_val < 30");

  const TrainValSplit f = split_head_fraction(s, 0.1);  // 3 of 30
  CHECK(f.val.n == 3);
  CHECK(f.train.image(0)[0] == 3);
  CHECK(split_tail_fraction(s, 0.25).val.n == 8);  // 7.5 rounds to 8
  CHECK_THROWS_PN(split_head_fraction(s, 0.0), "split_head_fraction: validation fraction 0 must be in (0, 1)");
  CHECK_THROWS_PN(split_tail_fraction(s, 1.5), "split_tail_fraction: validation fraction 1.5 must be in (0, 1)");
  CHECK_THROWS_PN(split_head_fraction(numbered_set(4), 0.1), "gives 0 validation images");
}

TEST_CASE("data: the seeds' splits: 45,000 / 5,000 and 40,000 / 10,000, proportional on the mini set") {
  const ImageSet full = numbered_set(50000);
  const TrainValSplit cm = split_convmixer(full);
  CHECK(cm.train.n == 45000);
  CHECK(cm.val.n == 5000);
  CHECK(cm.val.image(4999)[0] == 4999 % 256);
  CHECK(cm.train.image(0)[0] == 5000 % 256);
  CHECK(cm.train.labels[0] == 0);  // image 5000

  const TrainValSplit sv = split_shiftvit(full);
  CHECK(sv.train.n == 40000);
  CHECK(sv.val.n == 10000);
  CHECK(sv.train.image(39999)[0] == 39999 % 256);
  CHECK(sv.val.image(0)[0] == 40000 % 256);

  const ImageSet mini = numbered_set(2000), test = numbered_set(500);
  CHECK(split_convmixer(mini).train.n == 1800);
  CHECK(split_convmixer(mini).val.n == 200);
  CHECK(split_shiftvit(mini).train.n == 1600);
  CHECK(split_shiftvit(mini).val.n == 400);
  const TrainValSplit inv = split_involution(mini, test);
  CHECK(inv.train.n == 2000);
  CHECK(inv.val.n == 500);
}
