// See odr_a.cpp.
#include "patchnet/patchnet.hpp"

double value_from_b() {
  patchnet::Generator g(7);
  auto x = patchnet::rand<double>({4, 5}, g).set_requires_grad();
  auto y = patchnet::sum(x * x);
  y.backward();
  return patchnet::sum(x.grad()).item();
}
