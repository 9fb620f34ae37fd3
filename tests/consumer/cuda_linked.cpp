// Built when the installed patchnet has CUDA: a program that links patchnet::cuda from the
// package must find its launchers registered (the kernels archive is linked whole, also
// through the exported targets), whether or not this machine has a GPU.
#include <patchnet/patchnet.hpp>

#include <iostream>

int main() {
  const bool linked = patchnet::cuda::linked();
  std::cout << "patchnet::cuda linked: " << (linked ? "yes" : "NO") << ", devices: " << patchnet::cuda::device_count()
            << '\n';
  return linked ? 0 : 1;
}
