// read_image_folder, list_images, load_image_rgb and the TensorFlow bilinear resize: PNG
// and JPEG files written here with stb_image_write, resize values from PyTorch (whose
// align_corners=False bilinear is TensorFlow's half-pixel rule), and the errors.
#include "patchnet/data/image_folder.hpp"

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif
#include <stb_image_write.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"
#include "support/test_util.hpp"

using namespace patchnet;
using namespace patchnet::data;
namespace fs = std::filesystem;

namespace {
// An h x w x c image whose bytes are (seed + 7 * i) % 256.
std::vector<uint8_t> pattern(int h, int w, int c, int seed) {
  std::vector<uint8_t> p(static_cast<size_t>(h * w * c));
  for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<uint8_t>((seed + 7 * static_cast<int>(i)) % 256);
  return p;
}

void write_png(const fs::path& file, int h, int w, int c, const std::vector<uint8_t>& px) {
  fs::create_directories(file.parent_path());
  REQUIRE(stbi_write_png(file.string().c_str(), w, h, c, px.data(), w * c) != 0);
}
void write_jpg(const fs::path& file, int h, int w, const std::vector<uint8_t>& px) {
  fs::create_directories(file.parent_path());
  REQUIRE(stbi_write_jpg(file.string().c_str(), w, h, 3, px.data(), 100) != 0);
}
void write_bytes(const fs::path& file, const std::vector<uint8_t>& bytes) {
  fs::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}
}  // namespace

TEST_CASE("data: bilinear resize matches PyTorch / TensorFlow half-pixel values") {
  // src [3, 5, 2], byte i = 37 i % 256; expected from torch.nn.functional.interpolate(
  // mode="bilinear", align_corners=False, antialias=False) in float64.
  std::vector<uint8_t> src(30);
  for (int i = 0; i < 30; ++i) src[static_cast<size_t>(i)] = static_cast<uint8_t>(i * 37 % 256);
  const std::vector<double> up = {9.250000,   46.250000,  101.750000, 138.750000, 194.250000, 71.250000,  62.750000,
                                  67.750000,  25.535714,  62.535714,  104.321429, 141.321429, 173.964286, 73.821429,
                                  74.464286,  84.035714,  74.392857,  111.392857, 112.035714, 149.035714, 113.107143,
                                  81.535714,  109.607143, 132.892857, 123.250000, 160.250000, 119.750000, 156.750000,
                                  52.250000,  89.250000,  144.750000, 181.750000, 158.392857, 99.392857,  100.035714,
                                  137.035714, 101.107143, 138.107143, 97.607143,  134.607143, 193.535714, 38.535714,
                                  80.321429,  117.321429, 149.964286, 186.964286, 50.464286,  87.464286,  205.250000,
                                  18.250000,  73.750000,  110.750000, 166.250000, 203.250000, 34.750000,  71.750000};
  const std::vector<double> down = {53.166667,  90.166667, 112.500000, 149.500000, 107.833333, 80.833333,
                                    160.166667, 69.166667, 91.500000,  128.500000, 86.833333,  123.833333};
  std::vector<float> out_up(up.size());
  resize_bilinear(src.data(), 3, 5, 2, out_up.data(), 7, 4);
  for (size_t i = 0; i < up.size(); ++i) CHECK_MESSAGE(std::abs(out_up[i] - up[i]) < 2e-4, "up ", i);
  std::vector<double> out_down(down.size());
  resize_bilinear(src.data(), 3, 5, 2, out_down.data(), 2, 3);
  for (size_t i = 0; i < down.size(); ++i)
    CHECK_MESSAGE(std::abs(out_down[i] - down[i]) < 1e-4, "down ", i);  // float weights, as TensorFlow

  // TensorFlow's documented 1-D example: [0, 100] -> [0, 25, 75, 100].
  const uint8_t line[2] = {0, 100};
  float four[4];
  resize_bilinear(line, 1, 2, 1, four, 1, 4);
  CHECK(four[0] == 0.0f);
  CHECK(four[1] == 25.0f);
  CHECK(four[2] == 75.0f);
  CHECK(four[3] == 100.0f);

  // Same size is an exact copy; the 8-bit version rounds.
  std::vector<double> same(30);
  resize_bilinear(src.data(), 3, 5, 2, same.data(), 3, 5);
  for (int i = 0; i < 30; ++i) CHECK(same[static_cast<size_t>(i)] == src[static_cast<size_t>(i)]);
  const auto rounded = resize_bilinear_u8(src.data(), 3, 5, 2, 2, 3);
  for (size_t i = 0; i < down.size(); ++i) CHECK(rounded[i] == std::nearbyint(down[i]));
  CHECK_THROWS_PN(resize_bilinear(src.data(), 3, 5, 2, out_up.data(), 0, 4), "resize_bilinear: bad sizes 3x5x2 -> 0x4");
}

TEST_CASE("data: read_image_folder: classes, order, PNG exact, JPEG close, resize, grey and alpha") {
  test::TempDir dir("image_folder");
  const fs::path train = dir.path / "train";
  // Class folders created out of order; a hidden folder and a stray file are ignored.
  const auto cat_b = pattern(4, 4, 3, 1), cat_a = pattern(4, 4, 3, 2), cat_10 = pattern(4, 4, 3, 3);
  write_png(train / "cat" / "b.png", 4, 4, 3, cat_b);
  write_png(train / "cat" / "a.PNG", 4, 4, 3, cat_a);
  write_png(train / "cat" / "10.png", 4, 4, 3, cat_10);
  write_bytes(train / "cat" / "notes.txt", {1, 2, 3});
  write_bytes(train / "cat" / "._a.png", {0, 0, 0, 0});  // macOS resource fork: skipped
  std::vector<uint8_t> red(4 * 4 * 3);
  for (size_t i = 0; i < red.size(); i += 3) red[i] = 200, red[i + 1] = 40, red[i + 2] = 90;
  write_jpg(train / "airplane" / "x.JPEG", 4, 4, red);
  const auto big = pattern(8, 6, 3, 5);  // resized to 4x4
  write_png(train / "dog" / "big.png", 8, 6, 3, big);
  const auto grey = pattern(4, 4, 1, 9);
  write_png(train / "dog" / "grey.png", 4, 4, 1, grey);
  const auto rgba = pattern(4, 4, 4, 11);
  write_png(train / "dog" / "rgba.png", 4, 4, 4, rgba);
  fs::create_directories(train / ".cache");
  write_bytes(train / "README", {1});

  const ImageSet s = read_image_folder(dir.path.string(), "train", 4, 4);
  REQUIRE(s.n == 7);
  CHECK(s.class_names == std::vector<std::string>{"airplane", "cat", "dog"});
  CHECK(s.labels == std::vector<int32_t>{0, 1, 1, 1, 2, 2, 2});
  CHECK(s.height == 4);
  CHECK(s.width == 4);
  CHECK(s.channels == 3);
  CHECK(s.pixels.size() == 7u * 48u);
  // airplane: JPEG of a flat colour decodes within a few levels.
  for (int p = 0; p < 16; ++p) {
    CHECK(std::abs(s.image(0)[p * 3] - 200) <= 3);
    CHECK(std::abs(s.image(0)[p * 3 + 1] - 40) <= 3);
    CHECK(std::abs(s.image(0)[p * 3 + 2] - 90) <= 3);
  }
  // cat: files in byte order 10.png, a.PNG, b.png; PNG is lossless.
  CHECK(std::vector<uint8_t>(s.image(1), s.image(1) + 48) == cat_10);
  CHECK(std::vector<uint8_t>(s.image(2), s.image(2) + 48) == cat_a);
  CHECK(std::vector<uint8_t>(s.image(3), s.image(3) + 48) == cat_b);
  // dog: big.png resized 8x6 -> 4x4 (rounded bilinear), grey replicated, alpha dropped.
  CHECK(std::vector<uint8_t>(s.image(4), s.image(4) + 48) == resize_bilinear_u8(big.data(), 8, 6, 3, 4, 4));
  for (int p = 0; p < 16; ++p) {
    for (int c = 0; c < 3; ++c) CHECK(s.image(5)[p * 3 + c] == grey[static_cast<size_t>(p)]);
    for (int c = 0; c < 3; ++c) CHECK(s.image(6)[p * 3 + c] == rgba[static_cast<size_t>(p * 4 + c)]);
  }
  // A resized image checked by hand at one pixel: 8 -> 4 rows is x = 2 o + 0.5, 6 -> 4
  // columns is x = 1.5 o + 0.25; output (1, 2) mixes rows 2, 3 (0.5 each) and columns
  // 3, 4 (0.75, 0.25).
  {
    auto at = [&](int y, int x, int c) { return double(big[static_cast<size_t>((y * 6 + x) * 3 + c)]); };
    for (int c = 0; c < 3; ++c) {
      const double top = at(2, 3, c) + (at(2, 4, c) - at(2, 3, c)) * 0.25;
      const double bottom = at(3, 3, c) + (at(3, 4, c) - at(3, 3, c)) * 0.25;
      CHECK(s.image(4)[(1 * 4 + 2) * 3 + c] == std::nearbyint(top + (bottom - top) * 0.5));
    }
  }

  // list_images: full paths, sorted, images only.
  const auto files = list_images((train / "cat").string());
  REQUIRE(files.size() == 3u);
  CHECK(files[0] == (train / "cat" / "10.png").string());
  CHECK(files[1] == (train / "cat" / "a.PNG").string());
  CHECK(files[2] == (train / "cat" / "b.png").string());
  CHECK(list_images(train.string()).empty());

  // load_image_rgb: decode + resize of one file.
  CHECK(load_image_rgb((train / "cat" / "b.png").string(), 4, 4) == cat_b);
  CHECK(load_image_rgb((train / "dog" / "big.png").string(), 4, 4) == resize_bilinear_u8(big.data(), 8, 6, 3, 4, 4));
  CHECK(load_image_rgb((train / "dog" / "big.png").string(), 2, 3).size() == 18u);
}

TEST_CASE("data: read_image_folder errors name the folder or file") {
  test::TempDir dir("image_folder_errors");
  const std::string root = dir.path.string();
  CHECK_THROWS_PN(read_image_folder(root + "/nope", "train", 4, 4),
                  "read_image_folder: " + root + "/nope: folder not found");
  CHECK_THROWS_PN(read_image_folder(root, "train", 4, 4),
                  "read_image_folder: " + root + "/train: split folder 'train' not found in " + root);
  fs::create_directories(dir.path / "train");
  CHECK_THROWS_PN(read_image_folder(root, "train", 4, 4), root + "/train: no class folders");
  CHECK_THROWS_PN(read_image_folder(root, "train", 0, 4), "read_image_folder: image size 0x4 must be positive");

  write_png(dir.path / "train" / "cat" / "a.png", 4, 4, 3, pattern(4, 4, 3, 0));
  write_bytes(dir.path / "train" / "dog" / "readme.txt", {65});
  CHECK_THROWS_PN(read_image_folder(root, "train", 4, 4),
                  root + "/train/dog: class folder holds no .jpg, .jpeg or .png images");

  // Random bytes named x.jpg: the file and the reason.
  std::vector<uint8_t> junk(300);
  for (size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<uint8_t>((i * 97 + 13) % 251);
  write_bytes(dir.path / "train" / "dog" / "x.jpg", junk);
  CHECK_THROWS_PN(read_image_folder(root, "train", 4, 4),
                  "decode_image: " + root + "/train/dog/x.jpg: cannot decode (not a valid JPEG or PNG image): ");
  CHECK_THROWS_PN(read_image_folder(root, "train", 4, 4), "unknown image type");
  // A PNG cut short: a real PNG header, then nothing.
  write_png(dir.path / "cut.png", 4, 4, 3, pattern(4, 4, 3, 1));
  std::ifstream in(dir.path / "cut.png", std::ios::binary);
  std::vector<uint8_t> png((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  png.resize(png.size() / 2);
  write_bytes(dir.path / "train" / "dog" / "x.jpg", png);
  CHECK_THROWS_PN(read_image_folder(root, "train", 4, 4), root + "/train/dog/x.jpg: cannot decode");
  write_bytes(dir.path / "train" / "dog" / "x.jpg", {});
  CHECK_THROWS_PN(read_image_folder(root, "train", 4, 4), root + "/train/dog/x.jpg: empty file (0 bytes)");

  CHECK_THROWS_PN(load_image_rgb(root + "/missing.png", 4, 4),
                  "decode_image: " + root + "/missing.png: file not found");
  CHECK_THROWS_PN(list_images(root + "/missing"), "list_images: " + root + "/missing: folder not found");
  CHECK_THROWS_PN(list_images(root + "/cut.png"), root + "/cut.png: not a folder");
}

TEST_CASE("data: image-folder splits with different class folders are refused, naming the difference") {
  ImageSet train, test;
  train.class_names = {"cat", "dog", "frog"};
  test.class_names = {"cat", "frog", "horse"};
  CHECK_THROWS_PN(check_same_classes(train, test, "/data/x"),
                  "differ from the train split's (only in train: dog; only in test: horse)");
  test.class_names = train.class_names;
  CHECK_NOTHROW(check_same_classes(train, test, "/data/x"));
}

TEST_CASE("data: an image whose header declares too many pixels is refused before decoding") {
  const test::TempDir dir("img_bomb");
  const fs::path file = dir.path / "bomb.png";
  write_png(file, 1, 1, 3, {1, 2, 3});  // then a header claiming 768 MB of RGB, with its CRC
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  unsigned char ihdr[17];  // "IHDR" and its 13 bytes, from offset 12
  f.seekg(12);
  f.read(reinterpret_cast<char*>(ihdr), 17);
  const unsigned char size[8] = {0, 0, 0x3e, 0x80, 0, 0, 0x3e, 0x80};  // width, height: 16000 x 16000
  std::copy(size, size + 8, ihdr + 4);
  uint32_t crc = 0xFFFFFFFFu;  // the PNG CRC-32 (polynomial 0xEDB88320)
  for (unsigned char b : ihdr) {
    crc ^= b;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  crc ^= 0xFFFFFFFFu;
  const unsigned char crc_be[4] = {static_cast<unsigned char>(crc >> 24), static_cast<unsigned char>(crc >> 16),
                                   static_cast<unsigned char>(crc >> 8), static_cast<unsigned char>(crc)};
  f.seekp(12);
  f.write(reinterpret_cast<const char*>(ihdr), 17);
  f.write(reinterpret_cast<const char*>(crc_be), 4);
  f.close();
  CHECK_THROWS_PN(decode_image_file(file.string()), "bomb.png: the image declares 16000x16000 pixels, more than");
}

TEST_CASE("data: JPEG decoding: channels, a header declaring too many pixels, a cut file") {
  const test::TempDir dir("img_jpeg");
  std::vector<uint8_t> px(static_cast<size_t>(8 * 8 * 3));
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>(i * 5 % 256);
  write_jpg(dir.path / "a.jpg", 8, 8, px);
  std::ifstream in(dir.path / "a.jpg", std::ios::binary);
  const std::vector<uint8_t> jpg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const DecodedImage ok = decode_image(jpg, "a.jpg", 3);
  CHECK(ok.height == 8);
  CHECK(ok.width == 8);
  CHECK(ok.pixels.size() == px.size());
  CHECK(decode_image(jpg, "a.jpg", 1).pixels.size() == 64u);
  const DecodedImage rgba = decode_image(jpg, "a.jpg", 4);
  CHECK(rgba.pixels[3] == 255);
  CHECK(rgba.pixels[4 * 63 + 3] == 255);
  CHECK(std::equal(rgba.pixels.begin(), rgba.pixels.begin() + 3, ok.pixels.begin()));

  // The baseline frame header (SOF0, FF C0): length(2) precision(1) height(2) width(2).
  std::vector<uint8_t> bomb = jpg;
  size_t sof = 0;
  for (size_t i = 0; i + 1 < bomb.size(); ++i)
    if (bomb[i] == 0xFF && bomb[i + 1] == 0xC0) {
      sof = i;
      break;
    }
  REQUIRE(sof > 0);
  bomb[sof + 5] = bomb[sof + 7] = 0xEA;  // 60000 x 60000 (libjpeg itself stops above 65500)
  bomb[sof + 6] = bomb[sof + 8] = 0x60;
  CHECK_THROWS_PN(decode_image(bomb, "bomb.jpg"),
                  "bomb.jpg: the image declares 60000x60000 pixels, more than the limit");

  std::vector<uint8_t> cut(jpg.begin(), jpg.begin() + static_cast<std::ptrdiff_t>(jpg.size() / 2));
  CHECK_THROWS_PN(decode_image(cut, "cut.jpg"), "decode_image: cut.jpg: cannot decode (not a valid JPEG image): ");
  CHECK_THROWS_PN(decode_image(jpg, "a.jpg", 5), "decode_image: a.jpg: channels 5 must be in [1, 4]");
}
