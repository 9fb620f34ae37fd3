// dist::Group: the processes of a data-parallel run, and the collectives the training loop
// needs (sum all-reduce, broadcast, abort). One process is the trivial group (Group::single).
// The MPI group comes from dist/mpi.hpp, which a program includes (and links MPI for) to
// run under mpirun; everything else in patchnet sees only this interface, so no header's
// meaning depends on whether MPI is there (the ODR trap issue 11 removed for CUDA).
//
//   dist::Group& g = dist::world(&argc, &argv);   // MPI_Init once; the trivial group without MPI
//   g.all_reduce_sum(grads.data(), n);            // every rank ends with the same sums
//
// Collectives are blocking and called by every rank in the same order. A rank that fails
// calls abort(), which ends every process of the job (a peer waiting in a collective would
// otherwise hang).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>

#include "patchnet/core/error.hpp"

namespace patchnet::dist {

class Group {
 public:
  virtual ~Group() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Element-wise sum over the ranks, in place, the same on every rank.
  virtual void all_reduce_sum(float* data, int64_t n) = 0;
  virtual void all_reduce_sum(double* data, int64_t n) = 0;
  virtual void all_reduce_sum(int64_t* data, int64_t n) = 0;
  // Root's bytes to every rank.
  virtual void broadcast(void* data, int64_t bytes, int root) = 0;
  // Ends every process of the job with this exit code.
  [[noreturn]] virtual void abort(int code) = 0;
  virtual const char* backend() const = 0;

  bool is_root() const { return rank() == 0; }
  bool distributed() const { return size() > 1; }

  // The group of one process: collectives are no-ops.
  static Group& single();
};

namespace detail {
class SingleGroup final : public Group {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void all_reduce_sum(float*, int64_t) override {}
  void all_reduce_sum(double*, int64_t) override {}
  void all_reduce_sum(int64_t*, int64_t) override {}
  void broadcast(void*, int64_t, int) override {}
  [[noreturn]] void abort(int code) override { std::exit(code); }
  const char* backend() const override { return "single process"; }
};

// Filled by dist/mpi.hpp at static initialisation in programs that include it.
using WorldFactory = Group& (*)(int* argc, char*** argv);
inline WorldFactory& mpi_world_factory() {
  static WorldFactory f = nullptr;
  return f;
}
}  // namespace detail

inline Group& Group::single() {
  static detail::SingleGroup g;
  return g;
}

// Whether this program can run distributed (it includes dist/mpi.hpp and links MPI).
inline bool mpi_linked() { return detail::mpi_world_factory() != nullptr; }

// The MPI world (MPI_Init on the first call), or an Error naming what is missing.
inline Group& world(int* argc, char*** argv) {
  PN_CHECK(mpi_linked(), "dist::world: this program was built without MPI (include patchnet/dist/mpi.hpp and link ",
           "patchnet::mpi; CMake finds MPI when libopenmpi-dev is installed)");
  return detail::mpi_world_factory()(argc, argv);
}

// Rows [lo, hi) of a batch of `rows` that rank `rank` of `ranks` takes: equal shares when
// ranks divides rows, else the first ranks get one fewer.
struct Shard {
  int64_t lo = 0, hi = 0;
};
inline Shard shard_of(int64_t rows, int rank, int ranks) { return {rows * rank / ranks, rows * (rank + 1) / ranks}; }

}  // namespace patchnet::dist
