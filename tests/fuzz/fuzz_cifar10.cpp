// libFuzzer harness: the CIFAR-10 binary reader (records of 1 label byte + 3072 pixels).
#include "fuzz_support.hpp"
#include "patchnet/data/cifar10.hpp"

using namespace patchnet;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::expect_only_patchnet_errors([&] {
    data::ImageSet set;
    data::detail::append_cifar10_bytes(std::span<const uint8_t>(data, size), "fuzz.bin", set);
    if (set.labels.size() != static_cast<size_t>(set.n) || set.pixels.size() != static_cast<size_t>(set.n) * 3072) {
      std::fprintf(stderr, "cifar10: %lld images but %zu labels and %zu pixels\n", static_cast<long long>(set.n),
                   set.labels.size(), set.pixels.size());
      std::abort();
    }
  });
  return 0;
}
