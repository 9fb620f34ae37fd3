// Golden values as a column of the op table: a row with CaseOptions::torch (a PyTorch
// expression over its inputs x0, x1, ...) is checked in double against PyTorch's float64
// result and input gradients, stored in tests/golden/cases.txt. No per-op generator, file
// or reader: tests/golden/make_golden.py cases runs the CPU suite with PATCHNET_DUMP_CASES
// set, which makes each such row append its inputs and output gradient to that file
// (dump_case), evaluates the expressions, and writes cases.txt.
#pragma once

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "support/golden.hpp"
#include "support/test_util.hpp"

namespace patchnet::test {

// "group_norm/odd 1x5x3x12" -> "group_norm/odd_1x5x3x12": one token of the file format.
inline std::string golden_key(const std::string& op, const std::string& label) {
  std::string k = op + "/" + label;
  for (char& ch : k)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '.' || ch == '-' || ch == '/')) ch = '_';
  return k;
}

inline void append_tensor(std::FILE* f, const std::string& name, const Tensor<double>& t) {
  std::string dims;
  for (int64_t i = 0; i < t.dim(); ++i) dims += (i ? "," : "") + std::to_string(t.size(i));
  std::fprintf(f, "tensor %s f64 [%s]\n", name.c_str(), dims.c_str());
  const std::vector<double> v = t.contiguous().to_vector();
  for (size_t i = 0; i < v.size(); ++i) std::fprintf(f, "%.17g%c", v[i], i + 1 == v.size() ? '\n' : ' ');
  if (v.empty()) std::fprintf(f, "\n");
}

// With PATCHNET_DUMP_CASES=<file>: appends the row's inputs (no_grad: those that get no
// gradient) and output gradient to the file and returns true (the row is then not checked:
// its values are being regenerated).
inline bool dump_case(const std::string& key, const std::string& torch, const std::vector<Tensor<double>>& in,
                      const Tensor<double>& grad_y) {
  const char* path = std::getenv("PATCHNET_DUMP_CASES");
  if (!path || !*path) return false;
  std::FILE* f = std::fopen(path, "a");
  REQUIRE_MESSAGE(f != nullptr, "cannot append to PATCHNET_DUMP_CASES=", path);
  std::fprintf(f, "case %s\nattr torch %s\nattr no_grad", key.c_str(), torch.c_str());
  for (size_t i = 0; i < in.size(); ++i)
    if (!in[i].requires_grad()) std::fprintf(f, " %zu", i);
  std::fprintf(f, "\n");
  for (size_t i = 0; i < in.size(); ++i) append_tensor(f, "x" + std::to_string(i), in[i].detach());
  append_tensor(f, "grad_y", grad_y);
  std::fprintf(f, "end\n");
  std::fclose(f);
  return true;
}

inline const std::map<std::string, golden::Case>& golden_cases() {
  static const std::map<std::string, golden::Case> cases = [] {
    std::map<std::string, golden::Case> m;
    for (golden::Case& c : golden::load("cases.txt").cases) m.emplace(c.name, std::move(c));
    return m;
  }();
  return cases;
}

// Checks a row's double forward and input gradients against its golden values. f: the row's
// function in double; inputs: its inputs, those that get a gradient marked requires_grad
// (the function runs on fresh copies of them).
template <class F>
void check_case_golden(const std::string& op, const std::string& label, const std::string& torch, F&& f,
                       const std::vector<Tensor<double>>& inputs) {
  const std::string key = golden_key(op, label), where = op + " [" + label + "] against PyTorch";
  std::vector<Tensor<double>> in;
  for (const Tensor<double>& t : inputs) {
    in.push_back(t.detach().clone());
    if (t.requires_grad()) in.back().set_requires_grad();
  }
  const Tensor<double> y = f(in);
  const Tensor<double> grad_y = uniform<double>(y.shape(), seed_of(key + "/grad_y"));
  if (dump_case(key, torch, in, grad_y)) return;

  const auto& cases = golden_cases();
  const auto it = cases.find(key);
  REQUIRE_MESSAGE(it != cases.end(), where, ": no golden values for '", key,
                  "' in tests/golden/cases.txt (regenerate: /usr/bin/python3 tests/golden/make_golden.py cases)");
  const golden::Case& c = it->second;
  REQUIRE_MESSAGE(c.attr_values("torch").size() > 0, where, ": the stored case has no expression");
  for (size_t i = 0; i < in.size(); ++i)
    REQUIRE_MESSAGE(c.tensor<double>("x" + std::to_string(i)).to_vector() == in[i].detach().to_vector(), where,
                    ": input ", i, " is not the stored one (the row changed: regenerate cases.txt)");
  const auto check = [&](const Tensor<double>& actual, const std::string& name) {
    const Tensor<double> expected = c.tensor<double>(name);
    double scale = 1.0;
    for (double v : expected.to_vector()) scale = std::max(scale, std::abs(v));
    check_close(actual.detach(), expected, 1e-11, 1e-12 * scale, where + ": " + name);
  };
  check(y, "y");
  if (!y.requires_grad()) return;
  y.backward(grad_y);
  for (size_t i = 0; i < in.size(); ++i)
    if (in[i].requires_grad()) check(in[i].grad(), "grad_x" + std::to_string(i));
}

}  // namespace patchnet::test
