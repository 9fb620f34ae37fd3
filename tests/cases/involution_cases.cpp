// Op table: involution (the multiply-reduce) and involution_layer (the seed's whole layer).
#include "patchnet/ops/involution.hpp"
#include "support/op_cases.hpp"

using namespace patchnet;

// Inputs: x [N, H, W, C] and kernel [N, OH, OW, K*K*G]; both get gradchecked.
PN_OP_CASES("involution") {
  cases.add("K=3 S=1 G=1 C=3 on 4x5", {{1, 4, 5, 3}, {1, 4, 5, 9}},
            [](const auto& in) { return involution(in[0], in[1], 3, 1, 1); });
  cases.add("K=3 S=2 G=2 C=4 on odd 5x7", {{1, 5, 7, 4}, {1, 3, 4, 18}},
            [](const auto& in) { return involution(in[0], in[1], 3, 2, 2); });
  cases.add("K=3 S=2 G=1 C=2 on 6x4 (odd pad: 0 top, 1 bottom)", {{2, 6, 4, 2}, {2, 3, 2, 9}},
            [](const auto& in) { return involution(in[0], in[1], 3, 2, 1); });
  cases.add("K=5 S=1 G=1 C=5 on 4x4", {{1, 4, 4, 5}, {1, 4, 4, 25}},
            [](const auto& in) { return involution(in[0], in[1], 5, 1, 1); });
  cases.add("K=4 S=1 G=3 C=6 on 3x2 (even K: pad 1 / 2)", {{1, 3, 2, 6}, {1, 3, 2, 48}},
            [](const auto& in) { return involution(in[0], in[1], 4, 1, 3); });
  cases.add("K=3 S=1 G=3 C=6, batch 2 on 3x2", {{2, 3, 2, 6}, {2, 3, 2, 27}},
            [](const auto& in) { return involution(in[0], in[1], 3, 1, 3); });
}

namespace {
// involution_layer on inputs {x, reduce_weight, reduce_bias, gamma, beta, span_weight,
// span_bias}; fresh running statistics each call, so every gradcheck forward sees the
// same ones. Returns the output and the generated kernel, flattened and joined.
template <class T>
Tensor<T> run_layer(const std::vector<Tensor<T>>& in, const InvolutionOptions& opt, bool training) {
  const int64_t cr = in[1].size(1);
  const Device d = in[0].device();  // the GPU suite runs these cases on CUDA inputs
  InvolutionParams<T> p{in[1], in[2], in[3], in[4], Tensor<T>::zeros({cr}, d), Tensor<T>::ones({cr}, d), in[5], in[6]};
  if (!training) {  // eval: running statistics away from the trivial 0 / 1
    p.bn_running_mean = Tensor<T>::full({cr}, T(0.25), d);
    p.bn_running_var = Tensor<T>::full({cr}, T(0.5), d);
  }
  const InvolutionResult<T> r = involution_layer(in[0], p, opt, training);
  return concat({flatten(r.output), flatten(r.kernel)}, 0);
}
}  // namespace

// C = 4, r = 2 (C/r = 2), K = 3, G = 2 (K*K*G = 18).
PN_OP_CASES("involution_layer") {
  const std::vector<Shape> s1 = {{2, 6, 5, 4}, {4, 2}, {2}, {2}, {2}, {2, 18}, {18}};
  const InvolutionOptions o1{.kernel_size = 3, .stride = 1, .groups = 2};
  cases.add("training, N=2 6x5x4 K=3 G=2 r=2", s1, [o1](const auto& in) { return run_layer(in, o1, true); });
  cases.add("eval, N=2 6x5x4 K=3 G=2 r=2", s1, [o1](const auto& in) { return run_layer(in, o1, false); });
  const InvolutionOptions o2{.kernel_size = 3, .stride = 2, .groups = 2};
  const std::vector<Shape> s2 = {{1, 6, 5, 4}, {4, 2}, {2}, {2}, {2}, {2, 18}, {18}};
  cases.add("training, stride 2 (avg-pooled kernel input) on 6x5x4", s2,
            [o2](const auto& in) { return run_layer(in, o2, true); });
}
