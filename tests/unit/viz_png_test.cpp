// viz::write_png / encode_png: the file decodes (stb_image) to the canvas's exact pixels,
// overwriting leaves no temporary file behind (also when the write fails, which keeps the old
// picture), and errors name write_png, the path and the system's reason.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "patchnet/viz/png.hpp"
#include "patchnet/viz/png.hpp"  // a second inclusion is harmless
#include "support/test_util.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>
#pragma GCC diagnostic pop

using namespace patchnet;
using namespace patchnet::viz;
namespace fs = std::filesystem;

namespace {
// A fresh directory under the system's temp dir, removed afterwards.
struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("patchnet_viz_png_" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

struct Decoded {
  int w = 0, h = 0;
  std::vector<uint8_t> rgb;
};
Decoded decode(const fs::path& file) {
  Decoded d;
  int comp = 0;
  unsigned char* p = stbi_load(file.c_str(), &d.w, &d.h, &comp, 3);
  REQUIRE_MESSAGE(p != nullptr, "stb_image cannot read ", file.string(), ": ", stbi_failure_reason());
  d.rgb.assign(p, p + static_cast<size_t>(d.w) * d.h * 3);
  stbi_image_free(p);
  return d;
}

Canvas pattern(int w, int h, int seed) {
  Canvas c(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      c.set(x, y, {static_cast<uint8_t>(x * 7 + seed), static_cast<uint8_t>(y * 13), static_cast<uint8_t>(x ^ y)});
  return c;
}

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}
}  // namespace

TEST_CASE("viz::write_png: the file decodes to the canvas's pixels") {
  TempDir dir;
  const Canvas c = pattern(37, 23, 0);  // odd sizes: no row padding assumptions
  const fs::path file = dir.path / "pattern.png";
  write_png(file.string(), c);
  const Decoded d = decode(file);
  CHECK(d.w == 37);
  CHECK(d.h == 23);
  CHECK(d.rgb == c.rgb());

  const std::vector<uint8_t> bytes = encode_png(c);
  REQUIRE(bytes.size() > 8);
  const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  CHECK(std::equal(signature, signature + 8, bytes.begin()));
  CHECK(fs::file_size(file) == bytes.size());

  // A 1x1 canvas is a valid picture too.
  write_png((dir.path / "one.png").string(), Canvas(1, 1, {9, 8, 7}));
  const Decoded one = decode(dir.path / "one.png");
  CHECK(one.w == 1);
  CHECK(one.rgb == std::vector<uint8_t>{9, 8, 7});
}

TEST_CASE("viz::write_png: overwriting replaces the picture and leaves no temporary file") {
  TempDir dir;
  const fs::path file = dir.path / "chart.png";
  write_png(file.string(), pattern(20, 10, 0));
  write_png(file.string(), pattern(11, 12, 5));
  CHECK(names_in(dir.path) == std::vector<std::string>{"chart.png"});
  const Decoded d = decode(file);
  CHECK(d.w == 11);
  CHECK(d.h == 12);
  CHECK(d.rgb == pattern(11, 12, 5).rgb());
}

TEST_CASE("viz::write_png: a failed write names the path, leaves no temporary file, keeps the old one") {
  TempDir dir;
  // The target is a directory: the temporary file is written, the rename fails.
  const fs::path target = dir.path / "taken";
  fs::create_directories(target / "inside");
  CHECK_THROWS_PN(write_png(target.string(), pattern(4, 4, 0)), "write_png: ");
  CHECK_THROWS_PN(write_png(target.string(), pattern(4, 4, 0)), target.string() + ": renaming ");
  CHECK_THROWS_PN(write_png(target.string(), pattern(4, 4, 0)), "Is a directory");
  CHECK(names_in(dir.path) == std::vector<std::string>{"taken"});

  // A directory that does not exist: creating the temporary fails, with the system's reason.
  const std::string missing = (dir.path / "no_such_dir" / "x.png").string();
  CHECK_THROWS_PN(write_png(missing, pattern(4, 4, 0)), "write_png: ");
  CHECK_THROWS_PN(write_png(missing, pattern(4, 4, 0)), "cannot write " + missing + ": creating ");
  CHECK_THROWS_PN(write_png(missing, pattern(4, 4, 0)), "No such file or directory");

  // A failed write leaves the previous picture in place.
  const fs::path kept = dir.path / "kept.png";
  write_png(kept.string(), pattern(5, 5, 1));
  CHECK_THROWS_PN(write_png(kept.string() + "/", pattern(6, 6, 0)), "write_png: ");
  CHECK(decode(kept).rgb == pattern(5, 5, 1).rgb());
  CHECK(names_in(dir.path) == std::vector<std::string>{"kept.png", "taken"});

  CHECK_THROWS_PN(write_png("", pattern(4, 4, 0)), "write_png: empty path");
}
