// libFuzzer harness: the safetensors reader (header JSON, offsets, dtypes, shapes), then what
// a resume does with a parsed file: every tensor read as float and as int64, the metadata
// fields parsed strictly, and the state loaded into a small model.
#include "fuzz_support.hpp"
#include "patchnet/patchnet.hpp"

using namespace patchnet;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::expect_only_patchnet_errors([&] {
    const io::SafeTensors f = io::parse_safetensors(std::span<const uint8_t>(data, size), "fuzz.safetensors");
    for (const io::TensorRecord& r : f.records()) {
      fuzz::expect_only_patchnet_errors([&] { (void)f.tensor<float>(r.name); });
      fuzz::expect_only_patchnet_errors([&] { (void)f.i64(r.name); });
    }
    fuzz::expect_only_patchnet_errors([&] { (void)train::meta_int(f, "epoch", 0, 1 << 20); });
    fuzz::expect_only_patchnet_errors([&] { (void)train::meta_uint(f, "seed"); });
    fuzz::expect_only_patchnet_errors([&] { (void)train::meta_double(f, "best_val_accuracy"); });
    fuzz::expect_only_patchnet_errors([&] {
      Generator gen(1);
      nn::Linear<float> model(nn::LinearConfig{.in = 3, .out = 2}, gen);
      io::load_state_dict(f, model);
    });
  });
  return 0;
}
