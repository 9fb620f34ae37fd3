// Rank 1 fails before a collective that rank 0 is already waiting in: the job must end with
// an error, not hang (CTest dist.rank_failure_ends_job and dist.rank_killed_ends_job). With
// no argument rank 1 throws and, as the examples' guarded_main does, prints the error and
// calls Group::abort; with "kill" it dies from SIGKILL, and mpirun must end rank 0.
#include <csignal>
#include <cstdio>
#include <cstring>

#include "patchnet/dist/mpi.hpp"

int main(int argc, char** argv) {
  const bool kill = argc > 1 && std::strcmp(argv[1], "kill") == 0;
  patchnet::dist::Group& world = patchnet::dist::world(&argc, &argv);
  try {
    if (world.rank() == 1) {
      if (kill) std::raise(SIGKILL);
      patchnet::fail("rank_failure: rank 1 could not read its data (on purpose)");
    }
    int64_t x = 1;
    world.all_reduce_sum(&x, 1);  // rank 0 waits here for a rank that never comes
    std::printf("rank %d: the collective finished, which it must not\n", world.rank());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rank %d: %s\n", world.rank(), e.what());
    world.abort(3);
  }
}
