// The MPI process group (dist/group.hpp). Include it in the program's main translation unit
// and link patchnet::mpi (MPI::MPI_CXX); including it registers dist::world's factory, so a
// program that does not include it still builds and runs as one process.
//
// MPI_Init_thread asks for MPI_THREAD_FUNNELED: collectives come from the training thread
// only (the data loader's worker never communicates). MPI_Finalize runs at exit when every
// rank got there; a rank that fails calls abort() (MPI_Abort), which ends the whole job.
#pragma once

#include <mpi.h>

#include <climits>
#include <cstdlib>

#include "patchnet/dist/group.hpp"

namespace patchnet::dist {

namespace detail {

class MpiGroup final : public Group {
 public:
  MpiGroup(int* argc, char*** argv) {
    int initialised = 0;
    MPI_Initialized(&initialised);
    if (!initialised) {
      int provided = 0;
      check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
      owns_ = true;
    }
    check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
    check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
    // The processes that share this machine's memory, ranked as in the world (GPU choice).
    MPI_Comm node = MPI_COMM_NULL;
    check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node),
          "MPI_Comm_split_type");
    check(MPI_Comm_rank(node, &local_rank_), "MPI_Comm_rank");
    check(MPI_Comm_size(node, &local_size_), "MPI_Comm_size");
    MPI_Comm_free(&node);
  }
  ~MpiGroup() override {
    int finalised = 0;
    MPI_Finalized(&finalised);
    if (owns_ && !finalised) MPI_Finalize();
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  int local_size() const override { return local_size_; }
  void all_reduce_sum(float* data, int64_t n) override { reduce(data, n, MPI_FLOAT); }
  void all_reduce_sum(double* data, int64_t n) override { reduce(data, n, MPI_DOUBLE); }
  void all_reduce_sum(int64_t* data, int64_t n) override { reduce(data, n, MPI_INT64_T); }
  void broadcast(void* data, int64_t bytes, int root) override {
    auto* p = static_cast<char*>(data);
    for (int64_t off = 0; off < bytes; off += kChunk) {
      const int count = static_cast<int>(bytes - off < kChunk ? bytes - off : kChunk);
      check(MPI_Bcast(p + off, count, MPI_BYTE, root, MPI_COMM_WORLD), "MPI_Bcast");
    }
  }
  [[noreturn]] void abort(int code) override {
    MPI_Abort(MPI_COMM_WORLD, code);
    std::exit(code);  // MPI_Abort does not return; this keeps [[noreturn]] honest
  }
  const char* backend() const override { return "MPI"; }

 private:
  static constexpr int64_t kChunk = int64_t{1} << 30;  // MPI counts are int

  template <class T>
  void reduce(T* data, int64_t n, MPI_Datatype type) {
    for (int64_t off = 0; off < n; off += kChunk) {
      const int count = static_cast<int>(n - off < kChunk ? n - off : kChunk);
      check(MPI_Allreduce(MPI_IN_PLACE, data + off, count, type, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
    }
  }
  static void check(int rc, const char* what) {
    if (rc == MPI_SUCCESS) return;
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    fail("dist (MPI): ", what, " failed: ", msg);
  }

  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1;
  bool owns_ = false;
};

inline Group& mpi_world(int* argc, char*** argv) {
  static MpiGroup g(argc, argv);
  return g;
}

inline const bool mpi_registered = (mpi_world_factory() = &mpi_world, true);

}  // namespace detail
}  // namespace patchnet::dist
