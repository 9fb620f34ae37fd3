// Image decoding: JPEG through libjpeg-turbo (its TurboJPEG API) and PNG through libpng
// (its simplified API), to 8-bit HWC pixels; load_image_rgb (decode + bilinear resize,
// data/resize.hpp) for one file.
//
// Image files come from users (--data folders, --predict) and are untrusted. Both libraries
// are maintained and fuzzed continuously (OSS-Fuzz), unlike stb_image, which an earlier
// version used and which showed, under libFuzzer, an out-of-bounds write, a use after free
// and uninitialised reads (Debian's 2.27). Every image's size is read from its header and
// refused above kMaxImagePixels before anything is allocated; progressive JPEGs are limited
// in scans (TJFLAG_LIMITSCANS), so a small file can exhaust neither memory nor time.
// A program that includes this header links turbojpeg and png (patchnet::patchnet does so
// when CMake finds them; Debian: libturbojpeg0-dev, libpng-dev).
#pragma once

#include <png.h>
#include <turbojpeg.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "patchnet/core/error.hpp"
#include "patchnet/data/files.hpp"
#include "patchnet/data/resize.hpp"

namespace patchnet::data {

// A decoded image: height * width * channels bytes, HWC.
struct DecodedImage {
  int64_t height = 0, width = 0, channels = 0;
  std::vector<uint8_t> pixels;
};

// The most pixels an image may have (64 megapixels, 192 MiB as RGB): a small file can
// declare a huge image (a 1.6 KB JPEG decoded to 345 MB), so the size is read from the header
// and refused before anything is allocated.
inline constexpr int64_t kMaxImagePixels = int64_t{1} << 26;

namespace detail {

inline void check_image_size(const std::string& name, int64_t w, int64_t h) {
  PN_CHECK(w > 0 && h > 0, "decode_image: ", name, ": the image declares ", w, "x", h, " pixels");
  PN_CHECK(w * h <= kMaxImagePixels, "decode_image: ", name, ": the image declares ", w, "x", h,
           " pixels, more than the limit of ", kMaxImagePixels, " (kMaxImagePixels); refused before decoding");
}

inline DecodedImage decode_jpeg(std::span<const uint8_t> bytes, const std::string& name, int channels) {
  const std::unique_ptr<void, int (*)(tjhandle)> tj(tjInitDecompress(), tjDestroy);
  PN_CHECK(tj != nullptr, "decode_image: ", name, ": cannot start the JPEG decoder");
  auto reason = [&] { return std::string(tjGetErrorStr2(tj.get())); };
  int w = 0, h = 0, subsampling = 0, colorspace = 0;
  unsigned char* data = const_cast<unsigned char*>(bytes.data());  // TurboJPEG 2.x takes a non-const pointer
  const unsigned long size = static_cast<unsigned long>(bytes.size());
  if (tjDecompressHeader3(tj.get(), data, size, &w, &h, &subsampling, &colorspace) != 0)
    fail("decode_image: ", name, ": cannot decode (not a valid JPEG image): ", reason());
  check_image_size(name, w, h);
  // JPEG has no alpha: 2 and 4 channels are grey or RGB with an opaque alpha added.
  const int decoded_channels = channels <= 2 ? 1 : 3;
  DecodedImage img;
  img.height = h;
  img.width = w;
  img.channels = decoded_channels;
  img.pixels.resize(static_cast<size_t>(w) * static_cast<size_t>(h) * static_cast<size_t>(decoded_channels));
  // Accurate (islow) DCT and fancy upsampling, as Pillow decodes. A warning (corrupt data,
  // premature end) stops decoding: a damaged file is refused, never filled in with grey.
  const int flags = TJFLAG_ACCURATEDCT | TJFLAG_LIMITSCANS | TJFLAG_STOPONWARNING;
  if (tjDecompress2(tj.get(), data, size, img.pixels.data(), w, 0, h, decoded_channels == 1 ? TJPF_GRAY : TJPF_RGB,
                    flags) != 0)
    fail("decode_image: ", name, ": cannot decode (not a valid JPEG image): ", reason());
  if (channels == 2 || channels == 4) {
    std::vector<uint8_t> out(static_cast<size_t>(w) * static_cast<size_t>(h) * static_cast<size_t>(channels));
    for (size_t i = 0, n = static_cast<size_t>(w) * static_cast<size_t>(h); i < n; ++i) {
      std::memcpy(&out[i * static_cast<size_t>(channels)], &img.pixels[i * static_cast<size_t>(decoded_channels)],
                  static_cast<size_t>(decoded_channels));
      out[i * static_cast<size_t>(channels) + static_cast<size_t>(channels) - 1] = 255;
    }
    img.pixels = std::move(out);
    img.channels = channels;
  }
  return img;
}

inline DecodedImage decode_png(std::span<const uint8_t> bytes, const std::string& name, int channels) {
  png_image png;
  std::memset(&png, 0, sizeof(png));
  png.version = PNG_IMAGE_VERSION;
  const std::unique_ptr<png_image, void (*)(png_imagep)> guard(&png, png_image_free);
  if (!png_image_begin_read_from_memory(&png, bytes.data(), bytes.size()))
    fail("decode_image: ", name, ": cannot decode (not a valid PNG image): ", png.message);
  check_image_size(name, png.width, png.height);
  // Three channels drop the alpha (as PIL's convert("RGB")) rather than composite it.
  constexpr png_uint_32 formats[] = {PNG_FORMAT_GRAY, PNG_FORMAT_GA, PNG_FORMAT_RGBA, PNG_FORMAT_RGBA};
  png.format = formats[channels - 1];
  const size_t pixels = static_cast<size_t>(png.width) * static_cast<size_t>(png.height);
  std::vector<uint8_t> buf(PNG_IMAGE_SIZE(png));
  if (!png_image_finish_read(&png, nullptr, buf.data(), 0, nullptr))
    fail("decode_image: ", name, ": cannot decode (not a valid PNG image): ", png.message);
  DecodedImage img;
  img.height = png.height;
  img.width = png.width;
  img.channels = channels;
  if (channels == 3) {
    img.pixels.resize(pixels * 3);
    for (size_t i = 0; i < pixels; ++i) std::memcpy(&img.pixels[3 * i], &buf[4 * i], 3);
  } else {
    img.pixels = std::move(buf);
  }
  return img;
}

}  // namespace detail

// Decodes a JPEG or PNG image held in memory, forced to `channels` (1..4; 3 = RGB: grey is
// replicated, alpha dropped; an alpha channel added to a JPEG is opaque). `name` names the
// image in errors. Throws patchnet::Error with the decoder's reason when it cannot.
inline DecodedImage decode_image(std::span<const uint8_t> bytes, const std::string& name, int channels = 3) {
  PN_CHECK(channels >= 1 && channels <= 4, "decode_image: ", name, ": channels ", channels, " must be in [1, 4]");
  PN_CHECK(!bytes.empty(), "decode_image: ", name, ": empty file (0 bytes)");
  static constexpr uint8_t kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (bytes.size() >= 8 && std::memcmp(bytes.data(), kPng, 8) == 0) return detail::decode_png(bytes, name, channels);
  if (bytes.size() >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF)
    return detail::decode_jpeg(bytes, name, channels);
  fail("decode_image: ", name,
       ": cannot decode (not a valid JPEG or PNG image): unknown image type (the file starts "
       "with neither the JPEG nor the PNG signature)");
}

// The same for a file (the error names its absolute path).
inline DecodedImage decode_image_file(const std::string& path, int channels = 3) {
  const std::vector<uint8_t> bytes = read_file_bytes(path, "decode_image");
  return decode_image(bytes, absolute_path(path), channels);
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
