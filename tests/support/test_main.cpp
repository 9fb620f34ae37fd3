// doctest main of the CPU test suite. New storage is poisoned with NaN, so a kernel that
// leaves an output element unwritten fails the comparisons.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "patchnet/core/storage.hpp"

int main(int argc, char** argv) {
  patchnet::poison_new_storage() = true;
  doctest::Context context(argc, argv);
  return context.run();
}
