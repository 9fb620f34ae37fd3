// With mixed_cuda_b.cpp: one program, one translation unit compiled with PATCHNET_WITH_CUDA
// and one without. The library's headers must not depend on the macro (cuda/launcher.hpp):
// both units see the same answer to "is patchnet::cuda linked" and fail, or succeed, the
// same way on a CUDA tensor. Before the launcher registry, this unit called the kernels
// directly (an undefined reference without patchnet::cuda), the other threw "built without
// CUDA", and the linker kept one of the two bodies of every inline op that differed.
#ifndef PATCHNET_WITH_CUDA
#define PATCHNET_WITH_CUDA 1
#endif
#include <cstdio>
#include <string>

#include "patchnet/patchnet.hpp"

std::string cuda_view_b();

static std::string cuda_view_a() {
  std::string what = "allocated";
  try {
    auto t = patchnet::Tensor<float>::zeros({3}, patchnet::Device::cuda());
    what += " " + std::to_string(patchnet::sum(t.to(patchnet::Device::cpu())).item());
  } catch (const patchnet::Error& e) {
    what = e.what();
  }
  return (patchnet::cuda::linked() ? "linked: " : "not linked: ") + what;
}

int main() {
  const std::string a = cuda_view_a(), b = cuda_view_b();
  std::printf("with PATCHNET_WITH_CUDA:    %s\nwithout PATCHNET_WITH_CUDA: %s\n", a.c_str(), b.c_str());
  if (a != b) {
    std::printf("FAIL: the translation units disagree\n");
    return 1;
  }
  const bool expect_linked = PATCHNET_ODR_EXPECT_LINKED;
  if (patchnet::cuda::linked() != expect_linked) {
    std::printf("FAIL: patchnet::cuda is %s, expected %s\n", expect_linked ? "not linked" : "linked",
                expect_linked ? "linked" : "not");
    return 1;
  }
  if (!expect_linked && a.find("built without CUDA support") == std::string::npos) {
    std::printf("FAIL: expected the 'built without CUDA support' error\n");
    return 1;
  }
  return 0;
}
