// dist::Group: the processes of a data-parallel run, and the collectives the training loop
// needs (sum all-reduce, broadcast, abort). One process is the trivial group (Group::single).
// The MPI group comes from dist/mpi.hpp, which a program includes (and links MPI for) to
// run under mpirun; the NCCL group for GPUs from dist/nccl.hpp (on_device below). Everything
// else in patchnet sees only this interface, so no header's meaning depends on whether MPI
// or NCCL is there (the ODR trap issue 11 removed for CUDA).
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

#include "patchnet/core/device.hpp"
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
  // This process's place among the processes of its machine (which GPU it takes).
  virtual int local_rank() const { return 0; }
  virtual int local_size() const { return 1; }

  // Collectives on CUDA memory of `device`, queued on patchnet's stream there, for groups
  // with a GPU transport (NCCL, dist/nccl.hpp). data_parallel.hpp asks reduces_on_device()
  // and otherwise copies through the host.
  virtual bool reduces_on_device() const { return false; }
  virtual void all_reduce_sum_device(float*, int64_t, int) { no_device_path(); }
  virtual void all_reduce_sum_device(double*, int64_t, int) { no_device_path(); }
  virtual void broadcast_device(void*, int64_t, int, int) { no_device_path(); }

  bool is_root() const { return rank() == 0; }
  bool distributed() const { return size() > 1; }

  // The group of one process: collectives are no-ops.
  static Group& single();

 private:
  [[noreturn]] void no_device_path() const {
    fail("dist: the ", backend(), " group has no collectives on GPU memory (dist::on_device gives the NCCL group)");
  }
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

// Filled by dist/mpi.hpp and dist/nccl.hpp at static initialisation in programs that
// include them.
using WorldFactory = Group& (*)(int* argc, char*** argv);
inline WorldFactory& mpi_world_factory() {
  static WorldFactory f = nullptr;
  return f;
}
using DeviceGroupFactory = Group& (*)(Group& host, int cuda_device);
inline DeviceGroupFactory& nccl_group_factory() {
  static DeviceGroupFactory f = nullptr;
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

// Whether this program can reduce GPU memory with NCCL (it includes dist/nccl.hpp).
inline bool nccl_linked() { return detail::nccl_group_factory() != nullptr; }

// The group to train on `device` with: for a CUDA device in a distributed run of a program
// that includes dist/nccl.hpp, the NCCL group over g's processes (gradients reduced in GPU
// memory; g still starts the processes, shares NCCL's id and carries the host
// collectives); otherwise g itself (tensors on a GPU then travel through host copies).
inline Group& on_device(Group& g, Device device) {
  if (!g.distributed() || !device.is_cuda() || !nccl_linked() || g.reduces_on_device()) return g;
  return detail::nccl_group_factory()(g, device.index);
}

// Rows [lo, hi) of a batch of `rows` that rank `rank` of `ranks` takes: equal shares when
// ranks divides rows, else the first ranks get one fewer.
struct Shard {
  int64_t lo = 0, hi = 0;
};
inline Shard shard_of(int64_t rows, int rank, int ranks) { return {rows * rank / ranks, rows * (rank + 1) / ranks}; }

}  // namespace patchnet::dist
