// gradcheck: compares the gradients autograd computes with central differences, in
// double, with PyTorch's defaults (eps 1e-6, atol 1e-5, rtol 1e-3).
//
// For every input with requires_grad set, the numerical Jacobian column of element j is
// (f(x + eps e_j) - f(x - eps e_j)) / 2 eps; the analytical Jacobian row of output
// element k is the input gradient of backward(e_k). They must agree elementwise within
// atol + rtol * |numerical|. Cost: 2 forwards per input element and one backward per
// output element, so keep the shapes small (hundreds of elements).
#pragma once

#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "patchnet/autograd/engine.hpp"
#include "patchnet/autograd/grad_mode.hpp"
#include "patchnet/core/tensor.hpp"

namespace patchnet {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
};

struct GradcheckResult {
  bool ok = true;
  std::string message;  // the first mismatch, or a summary when ok
  double max_abs_error = 0;
  explicit operator bool() const { return ok; }
};

// f must be deterministic in its inputs (re-seed any generator inside f).
inline GradcheckResult gradcheck(const std::function<Tensor<double>(const std::vector<Tensor<double>>&)>& f,
                                 std::vector<Tensor<double>> inputs, const GradcheckOptions& opt = {}) {
  std::vector<size_t> diff;  // inputs to differentiate
  for (size_t i = 0; i < inputs.size(); ++i) {
    PN_CHECK(inputs[i].defined() && inputs[i].is_cpu(), "gradcheck: input ", i, " must be a defined CPU tensor");
    if (!inputs[i].requires_grad()) continue;
    PN_CHECK(inputs[i].is_leaf(), "gradcheck: input ", i, " must be a leaf");
    // Own, packed copies, so perturbing one element touches nothing else.
    Tensor<double> own = inputs[i].detach().clone();
    own.set_requires_grad();
    inputs[i] = own;
    diff.push_back(i);
  }
  PN_CHECK(!diff.empty(), "gradcheck: no input has requires_grad set");

  Tensor<double> out = f(inputs);
  PN_CHECK(out.requires_grad(), "gradcheck: the output does not depend on any input that requires grad");
  const int64_t n_out = out.numel();

  // Analytical Jacobians, one backward per output element.
  std::vector<std::vector<double>> analytic(diff.size());
  for (size_t d = 0; d < diff.size(); ++d)
    analytic[d].assign(static_cast<size_t>(n_out * inputs[diff[d]].numel()), 0.0);
  for (int64_t k = 0; k < n_out; ++k) {
    for (size_t i : diff) inputs[i].zero_grad();
    Tensor<double> onehot = Tensor<double>::zeros(out.shape());
    onehot.data()[k] = 1.0;
    out.backward(onehot, /*retain_graph=*/true);
    for (size_t d = 0; d < diff.size(); ++d) {
      const Tensor<double> g = inputs[diff[d]].grad();
      if (!g.defined()) continue;
      const std::vector<double> gv = g.to_vector();
      const int64_t n_in = inputs[diff[d]].numel();
      for (int64_t j = 0; j < n_in; ++j) analytic[d][static_cast<size_t>(k * n_in + j)] = gv[static_cast<size_t>(j)];
    }
  }

  GradcheckResult result;
  NoGrad no_grad;
  for (size_t d = 0; d < diff.size(); ++d) {
    Tensor<double>& x = inputs[diff[d]];
    const int64_t n_in = x.numel();
    double* p = x.data();
    for (int64_t j = 0; j < n_in; ++j) {
      const double saved = p[j];
      p[j] = saved + opt.eps;
      const std::vector<double> plus = f(inputs).to_vector();
      p[j] = saved - opt.eps;
      const std::vector<double> minus = f(inputs).to_vector();
      p[j] = saved;
      for (int64_t k = 0; k < n_out; ++k) {
        const double num = (plus[static_cast<size_t>(k)] - minus[static_cast<size_t>(k)]) / (2 * opt.eps);
        const double ana = analytic[d][static_cast<size_t>(k * n_in + j)];
        const double err = std::abs(num - ana);
        result.max_abs_error = std::max(result.max_abs_error, err);
        if (result.ok && !(err <= opt.atol + opt.rtol * std::abs(num))) {
          std::ostringstream s;
          s << "gradcheck: input " << diff[d] << " " << x.shape() << ", element " << j << ", output element " << k
            << ": analytical " << ana << " vs numerical " << num << " (|diff| " << err << ")";
          result.ok = false;
          result.message = s.str();
        }
      }
    }
  }
  if (result.ok) {
    std::ostringstream s;
    s << "gradcheck passed: " << diff.size() << " inputs, " << n_out << " outputs, max |diff| " << result.max_abs_error;
    result.message = s.str();
  }
  return result;
}

}  // namespace patchnet
