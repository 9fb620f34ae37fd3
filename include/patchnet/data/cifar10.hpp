// Reader of CIFAR-10 in the official binary layout (cifar-10-binary.tar.gz).
//
// A file is a sequence of 3073-byte records: 1 label byte (0..9), then the 32x32 image as
// three planes, 1024 bytes red, 1024 green, 1024 blue, each row-major. The training set is
// data_batch_1.bin .. data_batch_5.bin in that order (10,000 records each in the official
// files), the test set test_batch.bin. Planes are transposed to NHWC on reading.
//
// Where to get the files: ../shared/data/README.md (the mini set and the full set written
// from the JPEG archive), or tools/download_cifar10.sh (downloads the official archive).
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "patchnet/core/error.hpp"
#include "patchnet/data/files.hpp"
#include "patchnet/data/image_set.hpp"

namespace patchnet::data {

enum class Cifar10Split { Train, Test };

inline constexpr int64_t kCifar10RecordBytes = 3073;  // 1 label + 3 * 32 * 32
inline constexpr int64_t kCifar10Side = 32;

// The file names of a split, in reading order.
inline std::vector<std::string> cifar10_files(Cifar10Split split) {
  if (split == Cifar10Split::Test) return {"test_batch.bin"};
  return {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"};
}

namespace detail {
inline const char* cifar10_hint() {
  return "; see ../shared/data/README.md, or fetch the official files with tools/download_cifar10.sh";
}

// Appends the records of one file's bytes to `out` (label checked, planes -> HWC); `name`
// names the file in errors.
inline void append_cifar10_bytes(std::span<const uint8_t> raw, const std::string& name, ImageSet& out) {
  const int64_t size = static_cast<int64_t>(raw.size());
  PN_CHECK(size > 0, "read_cifar10: ", name, ": empty file (0 bytes)");
  PN_CHECK(size % kCifar10RecordBytes == 0, "read_cifar10: ", name, ": truncated: ", size,
           " bytes is not a multiple of ", kCifar10RecordBytes, " (one record: 1 label byte + 3072 pixel bytes)");

  const int64_t records = size / kCifar10RecordBytes;
  constexpr int64_t plane = kCifar10Side * kCifar10Side;
  const size_t first = out.pixels.size();
  out.pixels.resize(first + static_cast<size_t>(records * 3 * plane));
  out.labels.reserve(out.labels.size() + static_cast<size_t>(records));
  for (int64_t r = 0; r < records; ++r) {
    const uint8_t* rec = raw.data() + r * kCifar10RecordBytes;
    PN_CHECK(rec[0] < 10, "read_cifar10: ", name, ": record ", r, ": label ", int{rec[0]}, " out of range [0, 10)");
    out.labels.push_back(rec[0]);
    uint8_t* dst = out.pixels.data() + first + r * 3 * plane;
    for (int64_t p = 0; p < plane; ++p)
      for (int64_t c = 0; c < 3; ++c) dst[p * 3 + c] = rec[1 + c * plane + p];
  }
  out.n += records;
}

inline void append_cifar10_file(const std::filesystem::path& file, ImageSet& out) {
  const std::vector<uint8_t> raw = read_file_bytes(file, "read_cifar10", cifar10_hint());
  append_cifar10_bytes(raw, absolute_path(file), out);
}
}  // namespace detail

// The folder holding the .bin files: `dir` itself when it holds the split's first file,
// else dir/cifar-10-batches-bin when that does. Throws naming both places otherwise.
inline std::filesystem::path find_cifar10_dir(const std::string& dir, Cifar10Split split) {
  namespace fs = std::filesystem;
  const std::string first = cifar10_files(split).front();
  const fs::path here = fs::path(dir), nested = fs::path(dir) / "cifar-10-batches-bin";
  std::error_code ec;
  if (fs::exists(here / first, ec)) return here;
  if (fs::exists(nested / first, ec)) return nested;
  fail("read_cifar10: no CIFAR-10 binary data in '", absolute_path(here), "': looked for ", absolute_path(here / first),
       " and ", absolute_path(nested / first), detail::cifar10_hint());
}

// All images of a split, in file and record order, 32x32x3 NHWC, with CIFAR-10's class
// names. `dir` is the folder of the .bin files or its parent (holding cifar-10-batches-bin/).
inline ImageSet read_cifar10(const std::string& dir, Cifar10Split split) {
  const std::filesystem::path folder = find_cifar10_dir(dir, split);
  ImageSet set;
  set.height = set.width = kCifar10Side;
  set.channels = 3;
  set.class_names = cifar10_class_names();
  for (const std::string& f : cifar10_files(split)) detail::append_cifar10_file(folder / f, set);
  return set;
}

}  // namespace patchnet::data
