// The op-by-shape table. Each tests/cases/<family>_cases.cpp lists, per op, cases of
// input shapes and a generic lambda that runs the op:
//
//   PN_OP_CASES("gelu") {
//     cases.add("odd 3x5x7", {{3, 5, 7}}, [](const auto& in) { return gelu(in[0]); });
//   }
//
// The same file is compiled into two programs. In the CPU suite each PN_OP_CASES is one
// doctest case "gradcheck: <op>" that checks every case's backward against central
// differences in double, and float against double in the forward. In the GPU suite it is
// "cuda: <op>", comparing the CUDA result with the CPU one. A case that prints its label
// on failure; inputs are seeded from the op and label, so a failure repeats.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "support/case_golden.hpp"
#include "support/test_util.hpp"

namespace patchnet::test {

struct CaseOptions {
  std::vector<int> no_grad;                       // inputs that get no requires_grad
  std::vector<std::pair<double, double>> ranges;  // value range per input (default [-1, 1])
  GradcheckOptions gradcheck;                     // tolerances of the double gradcheck
  double rtol = 1e-4, atol = 1e-5;                // float vs double, and CUDA vs CPU
  // For a pointwise op of one input: the formula per element, written independently of the
  // library (std:: functions), against which the double forward is checked.
  std::function<double(double)> reference;
  // Golden values: a PyTorch expression over the inputs x0, x1, ... in float64, in
  // patchnet's layouts, with the helpers of tests/golden/make_golden.py (nchw, nhwc, F,
  // torch, and its Keras-semantics functions), e.g. "nhwc(F.group_norm(nchw(x0), 3, x1, x2))".
  // The CPU suite checks the row's double forward and input gradients against PyTorch's,
  // stored in tests/golden/cases.txt (support/case_golden.hpp).
  std::string torch;
};

struct OpCase {
  std::string label;
  std::vector<Shape> shapes;
  CaseOptions opt;
  std::function<Tensor<double>(const std::vector<Tensor<double>>&)> f64;
  std::function<Tensor<float>(const std::vector<Tensor<float>>&)> f32;
};

class CaseList {
 public:
  explicit CaseList(std::string op) : op_(std::move(op)) {}
  const std::string& op() const { return op_; }
  const std::vector<OpCase>& all() const { return cases_; }

  // f: a generic lambda (const std::vector<Tensor<T>>&) -> Tensor<T>. Ops with several
  // outputs return them joined, e.g. concat({flatten(a), flatten(b)}, 0).
  template <class F>
  void add(std::string label, std::vector<Shape> shapes, F f, CaseOptions opt = {}) {
    OpCase c{std::move(label), std::move(shapes), std::move(opt), {}, {}};
    c.f64 = [f](const std::vector<Tensor<double>>& in) { return f(in); };
    c.f32 = [f](const std::vector<Tensor<float>>& in) { return f(in); };
    cases_.push_back(std::move(c));
  }

 private:
  std::string op_;
  std::vector<OpCase> cases_;
};

template <class T>
std::vector<Tensor<T>> make_inputs(const std::string& op, const OpCase& c, Device device = Device::cpu()) {
  std::vector<Tensor<T>> in;
  for (size_t i = 0; i < c.shapes.size(); ++i) {
    const auto range = i < c.opt.ranges.size() ? c.opt.ranges[i] : std::pair<double, double>{-1.0, 1.0};
    in.push_back(
        uniform<T>(c.shapes[i], seed_of(op + "/" + c.label + "/" + std::to_string(i)), range.first, range.second)
            .to(device));
  }
  return in;
}

inline bool differentiable(const OpCase& c, int i) {
  for (int j : c.opt.no_grad)
    if (j == i) return false;
  return true;
}

// CPU suite: gradcheck in double, and the float forward against the double one.
inline void run_gradcheck(const CaseList& cases) {
  CHECK_MESSAGE(!cases.all().empty(), cases.op(), ": no cases");
  for (const OpCase& c : cases.all()) {
    const std::string where = cases.op() + " [" + c.label + "]";
    std::vector<Tensor<double>> in = make_inputs<double>(cases.op(), c);
    for (size_t i = 0; i < in.size(); ++i)
      if (differentiable(c, static_cast<int>(i))) in[i].set_requires_grad();
    const GradcheckResult r = gradcheck(c.f64, in, c.opt.gradcheck);
    CHECK_MESSAGE(r.ok, where, ": ", r.message);
    if (c.opt.reference) {
      REQUIRE_MESSAGE(in.size() == 1, where, ": a reference formula needs one input");
      std::vector<double> expect = in[0].to_vector();
      for (double& e : expect) e = c.opt.reference(e);
      check_close(c.f64(in).detach(), Tensor<double>::from_vector(expect, in[0].shape()), 1e-13, 1e-15,
                  where + " against its reference formula");
    }

    if (!c.opt.torch.empty()) check_case_golden(cases.op(), c.label, c.opt.torch, c.f64, in);

    std::vector<Tensor<double>> in64 = make_inputs<double>(cases.op(), c);
    std::vector<Tensor<float>> in32;
    for (const auto& t : in64) in32.push_back(to_dtype<float>(t));
    check_close(c.f32(in32), c.f64(in64), c.opt.rtol, c.opt.atol, where + " float vs double forward");
  }
}

}  // namespace patchnet::test

#define PN_CAT_(a, b) a##b
#define PN_CAT(a, b) PN_CAT_(a, b)

#ifndef PN_OP_TEST_PREFIX
#define PN_OP_TEST_PREFIX "gradcheck: "
#define PN_OP_RUNNER run_gradcheck
#endif

#define PN_OP_CASES_IMPL(op_name, fn)                \
  static void fn(::patchnet::test::CaseList& cases); \
  TEST_CASE(PN_OP_TEST_PREFIX op_name) {             \
    ::patchnet::test::CaseList pn_cases_(op_name);   \
    fn(pn_cases_);                                   \
    ::patchnet::test::PN_OP_RUNNER(pn_cases_);       \
  }                                                  \
  static void fn([[maybe_unused]] ::patchnet::test::CaseList& cases)

#define PN_OP_CASES(op_name) PN_OP_CASES_IMPL(op_name, PN_CAT(pn_op_cases_, __LINE__))
