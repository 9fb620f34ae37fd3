// Everything a model holds as one vector of floats: parameters, buffers and counters, in
// registration order (for comparing two runs value by value).
#pragma once

#include <vector>

#include "patchnet/nn/module.hpp"

namespace patchnet::test {

inline std::vector<float> state_of(const nn::Module<float>& m) {
  std::vector<float> out;
  for (const auto& p : m.named_parameters()) {
    auto v = p.tensor.to_vector();
    out.insert(out.end(), v.begin(), v.end());
  }
  for (const auto& b : m.named_buffers()) {
    auto v = b.tensor.to_vector();
    out.insert(out.end(), v.begin(), v.end());
  }
  for (const auto& c : m.named_counters()) out.push_back(static_cast<float>(*c.value));
  return out;
}

}  // namespace patchnet::test
