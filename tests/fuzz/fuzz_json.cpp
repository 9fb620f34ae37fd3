// libFuzzer harness: the JSON parser (the safetensors header, the run settings), then the
// writer on what it accepted: dump(parse(x)) must parse again to the same text.
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "patchnet/io/json.hpp"

using namespace patchnet;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  fuzz::expect_only_patchnet_errors([&] {
    const io::json::Value v = io::json::parse(text, "fuzz.json");
    const std::string once = io::json::dump(v);
    const std::string twice = io::json::dump(io::json::parse(once, "fuzz.json (written back)"));
    if (once != twice) {
      std::fprintf(stderr, "json: dump(parse(dump(v))) differs from dump(v)\n");
      std::abort();
    }
  });
  return 0;
}
