// With odr_b.cpp: patchnet.hpp in two translation units of one program must link (every
// function in a header is inline or a template) and both must compute the same thing.
#include <cstdio>

#include "patchnet/patchnet.hpp"

double value_from_b();

static double value_from_a() {
  patchnet::Generator g(7);
  auto x = patchnet::rand<double>({4, 5}, g).set_requires_grad();
  auto y = patchnet::sum(x * x);
  y.backward();
  return patchnet::sum(x.grad()).item();
}

int main() {
  const double a = value_from_a(), b = value_from_b();
  if (a != b) {
    std::printf("translation units disagree: %.17g vs %.17g\n", a, b);
    return 1;
  }
  std::printf("two translation units agree: %.17g\n", a);
  return 0;
}
