// Settings of the emulated patchnet::cuda (CMakeLists.txt here): kernel arguments must be
// device memory, an emulator error fails the call (a patchnet::Error, so the test reports
// it), and blocks and threads run in a random order (EMU_ORDER=0 forward, 1 reverse), so a
// result that depends on the order differs between the "deterministic" runs the GPU suite
// compares.
#include <cstdlib>

#include "emu.hpp"

namespace {
[[maybe_unused]] const bool configured = [] {
  emu::g_check_pointers = true;
  emu::g_throw = true;
  const char* order = std::getenv("EMU_ORDER");
  emu::g_order = order ? std::atoi(order) : 2;
  return true;
}();
}  // namespace
