// doctest main of the GPU suite. Without a CUDA device it prints why and exits 77, which
// CTest reports as skipped. New storage on both devices is poisoned with NaN, so an
// element a kernel fails to write shows in the comparison.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>

#include "patchnet/core/storage.hpp"
#include "patchnet/cuda/runtime.hpp"

int main(int argc, char** argv) {
  bool listing = false;  // --list-test-cases and friends need no GPU
  for (int i = 1; i < argc; ++i)
    listing = listing || std::strncmp(argv[i], "--list", 6) == 0 || std::strncmp(argv[i], "-l", 2) == 0;
  const int n = patchnet::cuda::device_count();
  if (n == 0 && !listing) {
    std::printf("no CUDA device found: skipping the GPU test suite\n");
    return 77;
  }
  if (n > 0) std::printf("GPU suite on %s\n", patchnet::cuda::device_name(0));
  patchnet::poison_new_storage() = true;
  doctest::Context context(argc, argv);
  return context.run();
}
