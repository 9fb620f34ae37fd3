// The NCCL group: data-parallel training on GPUs with the gradients summed in GPU memory by
// NCCL, the collective library GPU clusters run. MPI still starts the processes, hands
// NCCL's unique id from rank 0 to the others (as llm.c does) and carries the few host
// collectives (metrics, flags, abort); only the tensors' collectives go through NCCL.
//
// Include it in the program's main translation unit next to dist/mpi.hpp and link
// patchnet::nccl (CMake finds NCCL in the CUDA toolkit); including it registers the factory
// behind dist::on_device:
//
//   dist::Group& world = dist::world(&argc, &argv);
//   const Device gpu = Device::cuda(world.local_rank() % cuda::device_count());
//   dist::Group& g = dist::on_device(world, gpu);   // "MPI + NCCL"
//
// One communicator per process, on one GPU, created on first use (collective: every rank
// must call on_device). Collectives are queued on patchnet's stream of that GPU, so they
// are ordered after the backward pass that produced the gradients without a host wait.
#pragma once

#include <nccl.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "patchnet/cuda/runtime.hpp"
#include "patchnet/dist/group.hpp"

namespace patchnet::dist {

namespace detail {

class NcclGroup final : public Group {
 public:
  NcclGroup(Group& host, int device) : host_(host), device_(device) {
    cuda::set_device(device);
    ncclUniqueId id{};
    if (host.is_root()) check(ncclGetUniqueId(&id), "ncclGetUniqueId");
    host.broadcast(&id, sizeof id, 0);
    check(ncclCommInitRank(&comm_, host.size(), id, host.rank()), "ncclCommInitRank");
  }
  ~NcclGroup() override {
    if (comm_) ncclCommDestroy(comm_);
  }
  NcclGroup(const NcclGroup&) = delete;
  NcclGroup& operator=(const NcclGroup&) = delete;

  int rank() const override { return host_.rank(); }
  int size() const override { return host_.size(); }
  int local_rank() const override { return host_.local_rank(); }
  int local_size() const override { return host_.local_size(); }
  void all_reduce_sum(float* data, int64_t n) override { host_.all_reduce_sum(data, n); }
  void all_reduce_sum(double* data, int64_t n) override { host_.all_reduce_sum(data, n); }
  void all_reduce_sum(int64_t* data, int64_t n) override { host_.all_reduce_sum(data, n); }
  void broadcast(void* data, int64_t bytes, int root) override { host_.broadcast(data, bytes, root); }
  // MPI_Abort ends every process, those waiting inside NCCL kernels too.
  [[noreturn]] void abort(int code) override {
    host_.abort(code);
    std::exit(code);  // not reached
  }
  const char* backend() const override { return "MPI + NCCL"; }

  bool reduces_on_device() const override { return true; }
  void all_reduce_sum_device(float* data, int64_t n, int device) override { reduce(data, n, ncclFloat, device); }
  void all_reduce_sum_device(double* data, int64_t n, int device) override { reduce(data, n, ncclDouble, device); }
  void broadcast_device(void* data, int64_t bytes, int root, int device) override {
    on(device);
    check(ncclBroadcast(data, data, static_cast<size_t>(bytes), ncclUint8, root, comm_, stream()), "ncclBroadcast");
  }

  bool serves(const Group& host, int device) const { return &host == &host_ && device == device_; }
  int device() const { return device_; }

 private:
  void reduce(void* data, int64_t n, ncclDataType_t type, int device) {
    on(device);
    check(ncclAllReduce(data, data, static_cast<size_t>(n), type, ncclSum, comm_, stream()), "ncclAllReduce");
  }
  void on(int device) const {
    PN_CHECK(device == device_, "dist (NCCL): this process's communicator is on cuda:", device_,
             ", the tensor is on cuda:", device, " (one GPU per process)");
  }
  cudaStream_t stream() const { return static_cast<cudaStream_t>(cuda::stream(device_).handle); }
  void check(ncclResult_t rc, const char* what) const {
    if (rc == ncclSuccess) return;
    const char* detail = comm_ ? ncclGetLastError(comm_) : nullptr;
    fail("dist (NCCL): ", what, " failed on rank ", host_.rank(), " (cuda:", device_, "): ", ncclGetErrorString(rc),
         detail && *detail ? std::string(": ") + detail : std::string());
  }

  Group& host_;
  int device_;
  ncclComm_t comm_ = nullptr;
};

inline Group& nccl_group(Group& host, int device) {
  static std::unique_ptr<NcclGroup> g;
  if (!g) {
    g = std::make_unique<NcclGroup>(host, device);
  } else {
    PN_CHECK(g->serves(host, device),
             "dist::on_device: this process already has its NCCL communicator on cuda:", g->device(),
             "; a process trains on one GPU and one group");
  }
  return *g;
}

inline const bool nccl_registered = (nccl_group_factory() = &nccl_group, true);

}  // namespace detail
}  // namespace patchnet::dist
