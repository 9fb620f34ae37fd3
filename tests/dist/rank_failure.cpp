// Rank 1 fails before a collective that rank 0 is already waiting in: the job must end with
// an error, not hang (CTest dist.rank_failure_ends_job). The examples' guarded_main does the
// same: an Error on any rank prints it and calls Group::abort.
#include <cstdio>

#include "patchnet/dist/mpi.hpp"

int main(int argc, char** argv) {
  patchnet::dist::Group& world = patchnet::dist::world(&argc, &argv);
  try {
    if (world.rank() == 1) patchnet::fail("rank_failure: rank 1 could not read its data (on purpose)");
    int64_t x = 1;
    world.all_reduce_sum(&x, 1);  // rank 0 waits here for a rank that never comes
    std::printf("rank %d: the collective finished, which it must not\n", world.rank());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rank %d: %s\n", world.rank(), e.what());
    world.abort(3);
  }
}
