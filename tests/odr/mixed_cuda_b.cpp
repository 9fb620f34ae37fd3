// See mixed_cuda_a.cpp: this unit is compiled without PATCHNET_WITH_CUDA, even in a program
// that links patchnet::cuda.
#undef PATCHNET_WITH_CUDA
#include <string>

#include "patchnet/patchnet.hpp"

std::string cuda_view_b() {
  std::string what = "allocated";
  try {
    auto t = patchnet::Tensor<float>::zeros({3}, patchnet::Device::cuda());
    what += " " + std::to_string(patchnet::sum(t.to(patchnet::Device::cpu())).item());
  } catch (const patchnet::Error& e) {
    what = e.what();
  }
  return (patchnet::cuda::linked() ? "linked: " : "not linked: ") + what;
}
