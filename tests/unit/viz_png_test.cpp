// viz::write_png / encode_png: the file decodes (stb_image) to the canvas's exact pixels,
// overwriting leaves no temporary file behind (also when the write fails, which keeps the old
// picture), and errors name write_png, the path and the system's reason.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "patchnet/viz/png.hpp"
#include "patchnet/viz/png.hpp"  // a second inclusion is harmless
#include "patchnet/data/decode.hpp"
#include "support/temp_dir.hpp"
#include "support/test_util.hpp"

using namespace patchnet;
using namespace patchnet::viz;
namespace fs = std::filesystem;

namespace {
Canvas pattern(int w, int h, int seed) {
  Canvas c(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      c.set(x, y, {static_cast<uint8_t>(x * 7 + seed), static_cast<uint8_t>(y * 13), static_cast<uint8_t>(x ^ y)});
  return c;
}
}  // namespace

TEST_CASE("viz::write_png: the file decodes to the canvas's pixels") {
  test::TempDir dir("viz_png");
  const Canvas c = pattern(37, 23, 0);  // odd sizes: no row padding assumptions
  const fs::path file = dir.path / "pattern.png";
  write_png(file.string(), c);
  const data::DecodedImage d = data::decode_image_file(file.string());
  CHECK(d.width == 37);
  CHECK(d.height == 23);
  CHECK(d.pixels == c.rgb());

  const std::vector<uint8_t> bytes = encode_png(c);
  REQUIRE(bytes.size() > 8);
  const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  CHECK(std::equal(signature, signature + 8, bytes.begin()));
  CHECK(fs::file_size(file) == bytes.size());

  // A 1x1 canvas is a valid picture too.
  write_png((dir.path / "one.png").string(), Canvas(1, 1, {9, 8, 7}));
  const data::DecodedImage one = data::decode_image_file(dir.file("one.png"));
  CHECK(one.width == 1);
  CHECK(one.pixels == std::vector<uint8_t>{9, 8, 7});
}

TEST_CASE("viz::write_png: overwriting replaces the picture and leaves no temporary file") {
  test::TempDir dir("viz_png");
  const fs::path file = dir.path / "chart.png";
  write_png(file.string(), pattern(20, 10, 0));
  write_png(file.string(), pattern(11, 12, 5));
  CHECK(dir.entries() == std::vector<std::string>{"chart.png"});
  const data::DecodedImage d = data::decode_image_file(file.string());
  CHECK(d.width == 11);
  CHECK(d.height == 12);
  CHECK(d.pixels == pattern(11, 12, 5).rgb());
}

TEST_CASE("viz::write_png: a failed write names the path, leaves no temporary file, keeps the old one") {
  test::TempDir dir("viz_png");
  // The target is a directory: the temporary file is written, the rename fails.
  const fs::path target = dir.path / "taken";
  fs::create_directories(target / "inside");
  CHECK_THROWS_PN(write_png(target.string(), pattern(4, 4, 0)), "write_png: ");
  CHECK_THROWS_PN(write_png(target.string(), pattern(4, 4, 0)), target.string() + ": renaming ");
  CHECK_THROWS_PN(write_png(target.string(), pattern(4, 4, 0)), "Is a directory");
  CHECK(dir.entries() == std::vector<std::string>{"taken"});

  // A directory that does not exist: creating the temporary fails, with the system's reason.
  const std::string missing = (dir.path / "no_such_dir" / "x.png").string();
  CHECK_THROWS_PN(write_png(missing, pattern(4, 4, 0)), "write_png: ");
  CHECK_THROWS_PN(write_png(missing, pattern(4, 4, 0)), "cannot write " + missing + ": creating ");
  CHECK_THROWS_PN(write_png(missing, pattern(4, 4, 0)), "No such file or directory");

  // A failed write leaves the previous picture in place.
  const fs::path kept = dir.path / "kept.png";
  write_png(kept.string(), pattern(5, 5, 1));
  CHECK_THROWS_PN(write_png(kept.string() + "/", pattern(6, 6, 0)), "write_png: ");
  CHECK(data::decode_image_file(kept.string()).pixels == pattern(5, 5, 1).rgb());
  CHECK(dir.entries() == std::vector<std::string>{"kept.png", "taken"});

  CHECK_THROWS_PN(write_png("", pattern(4, 4, 0)), "write_png: empty path");
}
