// libFuzzer harness: the image decoder (JPEG through libjpeg-turbo, PNG through libpng),
// with the channel count taken from the last byte, and the decoded size checked.
#include "fuzz_support.hpp"
#include "patchnet/data/decode.hpp"

using namespace patchnet;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int channels = 1 + data[size - 1] % 4;
  fuzz::expect_only_patchnet_errors([&] {
    const data::DecodedImage img = data::decode_image(std::span<const uint8_t>(data, size - 1), "fuzz.img", channels);
    if (img.height * img.width > data::kMaxImagePixels || img.channels != channels ||
        img.pixels.size() != static_cast<size_t>(img.height * img.width * channels)) {
      std::fprintf(stderr, "image: %lldx%lldx%lld with %zu bytes\n", static_cast<long long>(img.height),
                   static_cast<long long>(img.width), static_cast<long long>(img.channels), img.pixels.size());
      std::abort();
    }
  });
  return 0;
}
