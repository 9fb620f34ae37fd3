// GPU runner of the op table: each case runs in float on the CPU and on the GPU with the
// same inputs and the same output gradient; outputs and input gradients must agree.
#pragma once

#include "support/op_cases.hpp"

namespace patchnet::test {

inline void run_cuda_vs_cpu(const CaseList& cases) {
  for (const OpCase& c : cases.all()) {
    const std::string where = cases.op() + " [" + c.label + "]";
    std::vector<Tensor<float>> cpu_in = make_inputs<float>(cases.op(), c);
    std::vector<Tensor<float>> gpu_in;
    for (size_t i = 0; i < cpu_in.size(); ++i) {
      gpu_in.push_back(cpu_in[i].to(Device::cuda()));
      if (differentiable(c, static_cast<int>(i))) {
        cpu_in[i].set_requires_grad();
        gpu_in[i].set_requires_grad();
      }
    }
    Tensor<float> cpu_out = c.f32(cpu_in), gpu_out = c.f32(gpu_in);
    REQUIRE_MESSAGE(gpu_out.is_cuda(), where, ": output is not on the GPU");
    check_close(gpu_out, cpu_out, c.opt.rtol, c.opt.atol, where + " forward");
    if (!cpu_out.requires_grad()) continue;
    const Tensor<float> gout = uniform<float>(cpu_out.shape(), seed_of(where + "/gout"));
    cpu_out.backward(gout);
    gpu_out.backward(gout.to(Device::cuda()));
    for (size_t i = 0; i < cpu_in.size(); ++i) {
      if (!differentiable(c, static_cast<int>(i))) continue;
      REQUIRE_MESSAGE(gpu_in[i].grad().defined(), where, ": no gradient for input ", i, " on the GPU");
      check_close(gpu_in[i].grad(), cpu_in[i].grad(), c.opt.rtol, c.opt.atol,
                  where + " gradient of input " + std::to_string(i));
    }
  }
}

}  // namespace patchnet::test

// The test helpers that the *_gpu.cpp files call unqualified (their own helpers live in the
// unnamed namespace of the file; this header is included once, first, in each of them).
namespace {
using patchnet::test::check_close;
using patchnet::test::seed_of;
using patchnet::test::uniform;
}  // namespace
