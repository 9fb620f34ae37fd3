// Learning-rate schedules: ConstantLr and the ShiftViT example's WarmUpCosine at its key
// steps, and the example's errors.
#include <cmath>
#include <numbers>

#include "patchnet/optim/schedule.hpp"
#include "support/test_util.hpp"

using namespace patchnet;

TEST_CASE("schedule: ConstantLr") {
  optim::ConstantLr c{3e-4};
  CHECK(c(0) == 3e-4);
  CHECK(c(123456) == 3e-4);
  CHECK_THROWS_PN(c(-1), "ConstantLr: step -1 must be >= 0");
}

TEST_CASE("schedule: WarmupCosine follows the seed's WarmUpCosine") {
  // The seed's settings scaled down: lr_start 1e-5, lr_max 1e-3, 15% warmup.
  const optim::WarmupCosine s{1e-5, 1e-3, 15, 100};
  const double slope = (1e-3 - 1e-5) / 15;
  CHECK(s(0) == 1e-5);  // first update (iterations = 0)
  CHECK(s(1) == doctest::Approx(1e-5 + slope).epsilon(1e-15));
  CHECK(s(7) == doctest::Approx(1e-5 + 7 * slope).epsilon(1e-15));
  CHECK(s(14) == doctest::Approx(1e-5 + 14 * slope).epsilon(1e-15));  // last warmup step
  CHECK(s(15) == 1e-3);                                               // boundary: cos(0) = 1
  const double mid = 0.5 * 1e-3 * (1 + std::cos(std::numbers::pi * (40.0 - 15) / 85));
  CHECK(s(40) == doctest::Approx(mid).epsilon(1e-15));
  CHECK(s(57) == doctest::Approx(0.5 * 1e-3 * (1 + std::cos(std::numbers::pi * 42 / 85))).epsilon(1e-15));
  CHECK(s(99) > 0);
  CHECK(s(99) < 1e-6);
  CHECK(s(100) == 0.0);  // total: cos(pi) = -1
  CHECK(s(101) == 0.0);  // past total
  CHECK(s(1000000) == 0.0);

  // No warmup: the cosine from step 0, and lr_start is not checked (as in the seed).
  const optim::WarmupCosine nw{5.0, 1.0, 0, 10};
  CHECK(nw(0) == 1.0);
  CHECK(nw(5) == doctest::Approx(0.5).epsilon(1e-15));
  CHECK(nw(10) == 0.0);
  // Warmup over the whole run: the line, then 0 at total (the seed divides 0 by 0 there).
  const optim::WarmupCosine all{0.0, 1.0, 4, 4};
  CHECK(all(2) == 0.5);
  CHECK(all(4) == 0.0);
  CHECK(all(5) == 0.0);

  // As a Schedule.
  optim::Schedule f = s;
  CHECK(f(15) == 1e-3);
  f = optim::ConstantLr{0.1};
  CHECK(f(3) == 0.1);
}

TEST_CASE("schedule: WarmupCosine errors") {
  CHECK_THROWS_PN((optim::WarmupCosine{1e-5, 1e-3, 20, 10}(0)),
                  "WarmupCosine: total_steps 10 must be larger or equal to warmup_steps 20");
  CHECK_THROWS_PN((optim::WarmupCosine{1e-2, 1e-3, 5, 10}(0)),
                  "lr_start 0.01 must be smaller or equal to lr_max 0.001");
  CHECK_THROWS_PN((optim::WarmupCosine{1e-5, 1e-3, -1, 10}(0)), "warmup_steps -1 must be >= 0");
  CHECK_THROWS_PN((optim::WarmupCosine{1e-5, NAN, 1, 10}(0)), "must be finite");
  CHECK_THROWS_PN((optim::WarmupCosine{1e-5, 1e-3, 1, 10}(-3)), "WarmupCosine: step -3 must be >= 0");
  CHECK_NOTHROW(optim::WarmupCosine{1e-5, 1e-3, 1, 10}.validate());
}
