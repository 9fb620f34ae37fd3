// The gelu and relu rows of the op table, on the GPU.
#define PN_OP_TEST_PREFIX "cuda: "
#define PN_OP_RUNNER run_cuda_vs_cpu
#include "gpu/gpu_runner.hpp"
#include "cases/activation_cases.cpp"
