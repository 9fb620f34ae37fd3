// The matmul and linear rows of the op table, on the GPU (cuBLAS).
#define PN_OP_TEST_PREFIX "cuda: "
#define PN_OP_RUNNER run_cuda_vs_cpu
#include "gpu/gpu_runner.hpp"
#include "cases/matmul_cases.cpp"
