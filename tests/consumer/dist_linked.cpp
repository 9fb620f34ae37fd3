// A user's data-parallel program against the installed package: patchnet::mpi (and
// patchnet::nccl) must bring MPI's (and NCCL's) headers and libraries.
#include <cstdio>

#include "patchnet/dist/mpi.hpp"
#ifdef CONSUMER_NCCL
#include "patchnet/dist/nccl.hpp"
#endif

int main(int argc, char** argv) {
  patchnet::dist::Group& world = patchnet::dist::world(&argc, &argv);
#ifdef CONSUMER_NCCL
  std::printf("rank %d of %d, NCCL %s\n", world.rank(), world.size(),
              patchnet::dist::nccl_linked() ? "linked" : "missing");
#else
  std::printf("rank %d of %d\n", world.rank(), world.size());
#endif
  return 0;
}
