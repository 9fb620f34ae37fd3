// read_cifar10: the mini set of ../shared/data (counts, labels, pixels against a decode
// of the raw bytes written here), both accepted folder forms, and every error on files
// written into a temporary folder.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "patchnet/data/cifar10.hpp"
#include "support/data_dir.hpp"
#include "support/temp_dir.hpp"
#include "support/test_util.hpp"

using namespace patchnet;
using namespace patchnet::data;
namespace fs = std::filesystem;

namespace {
const std::string kMiniRoot = test::mini_cifar10_root();
const std::string kMiniBin = kMiniRoot + "/cifar-10-batches-bin";

bool have_mini() { return test::have_data(kMiniBin + "/test_batch.bin"); }

// Record r of a file, read with C stdio: an independent path to the expected values.
std::vector<unsigned char> raw_record(const std::string& file, long r) {
  std::vector<unsigned char> rec(3073);
  FILE* f = std::fopen(file.c_str(), "rb");
  REQUIRE(f != nullptr);
  REQUIRE(std::fseek(f, r * 3073L, SEEK_SET) == 0);
  REQUIRE(std::fread(rec.data(), 1, rec.size(), f) == rec.size());
  std::fclose(f);
  return rec;
}

// `records` records, record r with label labels(r) and pixel bytes (r + i) % 256.
template <class F>
void write_records(const fs::path& file, int records, F label_of, int extra_bytes = 0) {
  std::ofstream out(file, std::ios::binary);
  for (int r = 0; r < records; ++r) {
    out.put(static_cast<char>(label_of(r)));
    for (int i = 0; i < 3072; ++i) out.put(static_cast<char>((r + i) % 256));
  }
  for (int i = 0; i < extra_bytes; ++i) out.put('\0');
}
}  // namespace

TEST_CASE("data: read_cifar10 reads the mini set: counts, labels, pixels") {
  if (!have_mini()) return;
  const ImageSet train = read_cifar10(kMiniRoot, Cifar10Split::Train);
  CHECK(train.n == 2000);
  CHECK(train.height == 32);
  CHECK(train.width == 32);
  CHECK(train.channels == 3);
  CHECK(train.pixels.size() == 2000u * 3072u);
  CHECK(train.labels.size() == 2000u);
  CHECK(train.class_names == cifar10_class_names());
  std::vector<int> per_class(10, 0);
  for (int32_t l : train.labels) {
    REQUIRE(l >= 0);
    REQUIRE(l < 10);
    ++per_class[static_cast<size_t>(l)];
  }
  for (int c = 0; c < 10; ++c) CHECK_MESSAGE(per_class[static_cast<size_t>(c)] == 200, "class ", c);

  const ImageSet test = read_cifar10(kMiniBin, Cifar10Split::Test);  // the .bin folder itself
  CHECK(test.n == 500);
  CHECK(test.pixels.size() == 500u * 3072u);
  for (int32_t l : test.labels) CHECK((l >= 0 && l < 10));

  // Image 817 of the training set is record 17 of data_batch_3.bin; image 1999 is the last
  // record of data_batch_5.bin; test image 123 is record 123 of test_batch.bin.
  struct Spot {
    const ImageSet* set;
    int64_t image;
    std::string file;
    long record;
  };
  const Spot spots[] = {{&train, 817, "data_batch_3.bin", 17},
                        {&train, 0, "data_batch_1.bin", 0},
                        {&train, 1999, "data_batch_5.bin", 399},
                        {&test, 123, "test_batch.bin", 123}};
  for (const Spot& s : spots) {
    const auto rec = raw_record(kMiniBin + "/" + s.file, s.record);
    CHECK(s.set->labels[static_cast<size_t>(s.image)] == rec[0]);
    const uint8_t* img = s.set->image(s.image);
    const int pts[][3] = {{0, 0, 0}, {5, 7, 2}, {31, 31, 1}, {12, 30, 0}, {20, 3, 2}};
    for (const auto& p : pts) {
      const int y = p[0], x = p[1], c = p[2];
      CHECK_MESSAGE(img[(y * 32 + x) * 3 + c] == rec[static_cast<size_t>(1 + c * 1024 + y * 32 + x)], s.file,
                    " record ", s.record, " pixel (", y, ",", x, ",", c, ")");
    }
    // Whole image, every byte, through the planar layout.
    int bad = 0;
    for (int c = 0; c < 3; ++c)
      for (int p = 0; p < 1024; ++p) bad += img[p * 3 + c] != rec[static_cast<size_t>(1 + c * 1024 + p)];
    CHECK(bad == 0);
  }
}

TEST_CASE("data: read_cifar10 errors name the file and what is wrong") {
  test::TempDir dir("cifar10_errors");
  const std::string d = dir.path.string();
  auto label_ok = [](int r) { return r % 10; };

  // Nothing there: both places it looked, and the hint.
  CHECK_THROWS_PN(read_cifar10(d, Cifar10Split::Test), "read_cifar10: no CIFAR-10 binary data in '" + d + "'");
  CHECK_THROWS_PN(read_cifar10(d, Cifar10Split::Test), d + "/cifar-10-batches-bin/test_batch.bin");
  CHECK_THROWS_PN(read_cifar10(d, Cifar10Split::Train), "tools/download_cifar10.sh");
  CHECK_THROWS_PN(read_cifar10(d, Cifar10Split::Train), "../shared/data/README.md");

  // Truncated: two records and 5 bytes.
  write_records(dir.path / "test_batch.bin", 2, label_ok, 5);
  CHECK_THROWS_PN(read_cifar10(d, Cifar10Split::Test),
                  "read_cifar10: " + d + "/test_batch.bin: truncated: 6151 bytes is not a multiple of 3073");

  // Label 12 in record 17.
  write_records(dir.path / "test_batch.bin", 20, [](int r) { return r == 17 ? 12 : r % 10; });
  CHECK_THROWS_PN(read_cifar10(d, Cifar10Split::Test), d + "/test_batch.bin: record 17: label 12 out of range [0, 10)");

  // Empty file.
  { std::ofstream(dir.path / "test_batch.bin", std::ios::binary | std::ios::trunc); }
  CHECK_THROWS_PN(read_cifar10(d, Cifar10Split::Test), d + "/test_batch.bin: empty file (0 bytes)");

  // A valid file reads, in the parent-folder form too.
  fs::create_directories(dir.path / "cifar-10-batches-bin");
  write_records(dir.path / "cifar-10-batches-bin" / "test_batch.bin", 3, label_ok);
  fs::remove(dir.path / "test_batch.bin");
  const ImageSet t = read_cifar10(d, Cifar10Split::Test);
  REQUIRE(t.n == 3);
  CHECK(t.labels == std::vector<int32_t>{0, 1, 2});
  // Record 2, pixel (y 1, x 2), channel 1: byte 1 + 1024 + 34 of the record = (2 + 1058) % 256.
  CHECK(t.image(2)[(1 * 32 + 2) * 3 + 1] == (2 + 1024 + 34) % 256);

  // Training files: the third one missing.
  const fs::path bin = dir.path / "cifar-10-batches-bin";
  write_records(bin / "data_batch_1.bin", 2, label_ok);
  write_records(bin / "data_batch_2.bin", 2, label_ok);
  CHECK_THROWS_PN(read_cifar10(d, Cifar10Split::Train),
                  "read_cifar10: " + bin.string() + "/data_batch_3.bin: file not found");
  write_records(bin / "data_batch_3.bin", 2, label_ok);
  write_records(bin / "data_batch_4.bin", 1, label_ok);
  write_records(bin / "data_batch_5.bin", 2, [](int r) { return 9 - r; });
  const ImageSet train = read_cifar10(bin.string(), Cifar10Split::Train);
  CHECK(train.n == 9);
  CHECK(train.labels == std::vector<int32_t>{0, 1, 0, 1, 0, 1, 0, 9, 8});

  // A folder where a file should be.
  fs::remove(bin / "data_batch_4.bin");
  fs::create_directories(bin / "data_batch_4.bin");
  CHECK_THROWS_PN(read_cifar10(d, Cifar10Split::Train), "data_batch_4.bin: not a regular file");
}
