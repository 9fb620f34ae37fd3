// write_png: a Canvas encoded as an 8-bit RGB PNG with stb_image_write, in memory, then
// written with io::write_file_atomic (a temporary file beside the target, fsync, rename), so
// a reader never sees half a picture and a failed write leaves the old file in place.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "patchnet/core/error.hpp"
#include "patchnet/io/atomic_file.hpp"
#include "patchnet/viz/canvas.hpp"

// stb_image_write compiled into this translation unit with internal linkage, so several
// headers or translation units may each carry a copy. The guard lets a second inclusion in
// one translation unit (here or elsewhere in patchnet) skip the implementation.
#ifndef PATCHNET_STB_IMAGE_WRITE_INCLUDED
#define PATCHNET_STB_IMAGE_WRITE_INCLUDED
#ifdef INCLUDE_STB_IMAGE_WRITE_H
// Its declarations would already be extern, and the copy compiled here would clash at link time.
#error "patchnet/viz/png.hpp compiles a private copy of stb_image_write: include it before any <stb_image_write.h>"
#endif
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-variable"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wdouble-promotion"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wcast-qual"
#pragma GCC diagnostic ignored "-Wold-style-cast"
#ifndef STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_STATIC
#endif
#ifndef STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#endif
#include <stb_image_write.h>
#pragma GCC diagnostic pop
#endif

namespace patchnet::viz {

namespace detail {
inline void png_append(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<uint8_t>*>(context);
  const auto* p = static_cast<const uint8_t*>(data);
  out->insert(out->end(), p, p + size);
}
}  // namespace detail

// The PNG file's bytes for the canvas (8-bit RGB, no alpha).
inline std::vector<uint8_t> encode_png(const Canvas& canvas) {
  std::vector<uint8_t> out;
  const int ok = stbi_write_png_to_func(&detail::png_append, &out, canvas.width(), canvas.height(), 3,
                                        canvas.rgb().data(), canvas.width() * 3);
  PN_CHECK(ok != 0 && !out.empty(), "encode_png: stb_image_write failed on a ", canvas.width(), "x", canvas.height(),
           " canvas");
  return out;
}

// Writes the canvas to path as a PNG, atomically. Throws patchnet::Error naming the path.
inline void write_png(const std::string& path, const Canvas& canvas) {
  PN_CHECK(!path.empty(), "write_png: empty path");
  const std::vector<uint8_t> bytes = encode_png(canvas);
  try {
    io::write_file_atomic(path, bytes.data(), bytes.size());
  } catch (const Error& e) {
    fail("write_png: ", e.what());  // the message already names the path, the step and strerror
  }
}

}  // namespace patchnet::viz
