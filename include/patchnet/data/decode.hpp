// Image decoding: JPEG and PNG files through stb_image, to 8-bit HWC pixels, and
// load_image_rgb (decode + bilinear resize, data/resize.hpp) for one file.
//
// stb_image is compiled here as a private (static) copy in every translation unit that
// includes this header: a header-only library cannot own the one non-static definition,
// and a static copy cannot clash with a user's own stb_image at link time. The cost is
// compile time and code size per translation unit, so only JPEG and PNG are compiled in.
// A translation unit must not include <stb_image.h> itself before this header (the
// declarations would be the non-static ones); this is checked. Another patchnet header
// that wants stb_image includes this one, or tests PATCHNET_STB_IMAGE_COMPILED.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "patchnet/core/error.hpp"
#include "patchnet/data/files.hpp"
#include "patchnet/data/resize.hpp"

#ifndef PATCHNET_STB_IMAGE_COMPILED
#define PATCHNET_STB_IMAGE_COMPILED
#ifdef STBI_INCLUDE_STB_IMAGE_H
#error "patchnet/data/decode.hpp compiles a private copy of stb_image: include it before any <stb_image.h>"
#endif
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wcast-qual"
#pragma GCC diagnostic ignored "-Wdouble-promotion"
#pragma GCC diagnostic ignored "-Wpedantic"
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wduplicated-branches"
#pragma GCC diagnostic ignored "-Wuseless-cast"
#endif
#endif
#include <stb_image.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
#undef STB_IMAGE_IMPLEMENTATION
#endif  // PATCHNET_STB_IMAGE_COMPILED

namespace patchnet::data {

// A decoded image: height * width * channels bytes, HWC.
struct DecodedImage {
  int64_t height = 0, width = 0, channels = 0;
  std::vector<uint8_t> pixels;
};

// The most pixels decode_image_file accepts (64 megapixels, 192 MiB as RGB): a small file can
// declare a huge image (a 1.6 KB JPEG decodes to 345 MB), so the size is read from the header
// and refused before anything is allocated.
inline constexpr int64_t kMaxImagePixels = int64_t{1} << 26;

// Decodes a JPEG or PNG file forced to `channels` (1..4; 3 = RGB: grey is replicated,
// alpha dropped). Throws naming the file and stb_image's reason when it cannot.
inline DecodedImage decode_image_file(const std::string& path, int channels = 3) {
  PN_CHECK(channels >= 1 && channels <= 4, "decode_image_file: ", absolute_path(path), ": channels ", channels,
           " must be in [1, 4]");
  const std::vector<uint8_t> bytes = read_file_bytes(path, "decode_image_file");
  const std::string name = absolute_path(path);
  PN_CHECK(!bytes.empty(), "decode_image_file: ", name, ": empty file (0 bytes)");
  PN_CHECK(bytes.size() <= static_cast<size_t>(std::numeric_limits<int>::max()), "decode_image_file: ", name, ": ",
           bytes.size(), " bytes is too large to decode");
  int w = 0, h = 0, file_channels = 0;
  if (stbi_info_from_memory(bytes.data(), static_cast<int>(bytes.size()), &w, &h, &file_channels))
    PN_CHECK(int64_t{w} * int64_t{h} <= kMaxImagePixels, "decode_image_file: ", name, ": the image declares ", w, "x",
             h, " pixels, more than the limit of ", kMaxImagePixels, " (kMaxImagePixels); refused before decoding");
  unsigned char* p = stbi_load_from_memory(bytes.data(), static_cast<int>(bytes.size()), &w, &h, &file_channels, channels);
  if (p == nullptr) {
    const char* reason = stbi_failure_reason();
    fail("decode_image_file: ", name, ": cannot decode (not a valid JPEG or PNG image): ",
         reason ? reason : "unknown reason");
  }
  DecodedImage img;
  img.height = h;
  img.width = w;
  img.channels = channels;
  img.pixels.assign(p, p + static_cast<size_t>(h) * static_cast<size_t>(w) * static_cast<size_t>(channels));
  stbi_image_free(p);
  return img;
}

// Decodes one image to RGB and resizes it to height x width when its size differs.
inline std::vector<uint8_t> load_image_rgb(const std::string& path, int64_t height, int64_t width) {
  PN_CHECK(height > 0 && width > 0, "load_image_rgb: ", absolute_path(path), ": target size ", height, "x", width,
           " must be positive");
  DecodedImage img = decode_image_file(path, 3);
  if (img.height == height && img.width == width) return std::move(img.pixels);
  return resize_bilinear_u8(img.pixels.data(), img.height, img.width, 3, height, width);
}

}  // namespace patchnet::data
