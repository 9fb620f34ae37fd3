// NCCL on the CUDA emulator: the part of nccl.h that include/patchnet/dist/nccl.hpp calls,
// done with MPI on the emulated device's memory (host memory), so the NCCL group's code runs
// under mpirun without a GPU (CTest gpu.dist, tests/dist/gpu_data_parallel_test.cpp). It
// rejects what NCCL would reject or crash on: a buffer outside a device allocation, a rank
// or rank count that is not the job's, a unique id that differs from rank 0's (an id not
// handed round), an operation or type the emulation does not have. It does not emulate
// NCCL's own rings, ordering or asynchronous errors.
#pragma once

#include <mpi.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "../device_memory.hpp"  // emu::is_device

using cudaStream_t = void*;  // as the emulated runtime (runtime_api.hpp) has it

typedef enum {
  ncclSuccess = 0,
  ncclUnhandledCudaError = 1,
  ncclSystemError = 2,
  ncclInternalError = 3,
  ncclInvalidArgument = 4,
  ncclInvalidUsage = 5,
} ncclResult_t;
typedef enum {
  ncclInt8 = 0,
  ncclUint8 = 1,
  ncclInt32 = 2,
  ncclInt64 = 4,
  ncclFloat32 = 7,
  ncclFloat = 7,
  ncclFloat64 = 8,
  ncclDouble = 8,
} ncclDataType_t;
typedef enum { ncclSum = 0, ncclProd = 1, ncclMax = 2, ncclMin = 3 } ncclRedOp_t;

#define NCCL_UNIQUE_ID_BYTES 128
typedef struct {
  char internal[NCCL_UNIQUE_ID_BYTES];
} ncclUniqueId;
struct ncclComm {
  int rank = 0, nranks = 0;
  char last_error[256] = "";
};
typedef ncclComm* ncclComm_t;

namespace emu_nccl {
inline ncclResult_t fail(ncclComm_t comm, ncclResult_t rc, const char* what) {
  if (comm) std::snprintf(comm->last_error, sizeof comm->last_error, "%s", what);
  std::fprintf(stderr, "emulated NCCL: %s\n", what);
  return rc;
}
inline std::size_t type_size(ncclDataType_t t) {
  switch (t) {
    case ncclInt8:
    case ncclUint8:
      return 1;
    case ncclInt32:
      return 4;
    case ncclInt64:
      return 8;
    case ncclFloat:
      return 4;
    case ncclDouble:
      return 8;
  }
  return 0;
}
}  // namespace emu_nccl

inline const char* ncclGetErrorString(ncclResult_t rc) {
  switch (rc) {
    case ncclSuccess:
      return "no error";
    case ncclUnhandledCudaError:
      return "unhandled cuda error";
    case ncclSystemError:
      return "unhandled system error";
    case ncclInternalError:
      return "internal error";
    case ncclInvalidArgument:
      return "invalid argument";
    case ncclInvalidUsage:
      return "invalid usage";
  }
  return "unknown result code";
}
inline const char* ncclGetLastError(ncclComm_t comm) { return comm ? comm->last_error : ""; }

inline ncclResult_t ncclGetUniqueId(ncclUniqueId* id) {
  if (!id) return ncclInvalidArgument;
  std::memset(id->internal, 0, sizeof id->internal);
  std::snprintf(id->internal, sizeof id->internal, "patchnet emulated NCCL, pid %ld", static_cast<long>(getpid()));
  return ncclSuccess;
}

inline ncclResult_t ncclCommInitRank(ncclComm_t* comm, int nranks, ncclUniqueId id, int rank) {
  int up = 0, size = 0, me = 0;
  MPI_Initialized(&up);
  if (!comm || !up) return emu_nccl::fail(nullptr, ncclInvalidUsage, "ncclCommInitRank before MPI_Init");
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Comm_rank(MPI_COMM_WORLD, &me);
  if (nranks != size || rank != me)
    return emu_nccl::fail(nullptr, ncclInvalidArgument, "ncclCommInitRank: rank or rank count is not the MPI job's");
  ncclUniqueId root = id;
  MPI_Bcast(root.internal, NCCL_UNIQUE_ID_BYTES, MPI_BYTE, 0, MPI_COMM_WORLD);
  if (std::memcmp(root.internal, id.internal, NCCL_UNIQUE_ID_BYTES) != 0)
    return emu_nccl::fail(nullptr, ncclInvalidArgument, "ncclCommInitRank: this rank's unique id is not rank 0's");
  *comm = new ncclComm{rank, nranks, ""};
  return ncclSuccess;
}

inline ncclResult_t ncclCommDestroy(ncclComm_t comm) {
  delete comm;
  return ncclSuccess;
}

inline ncclResult_t ncclAllReduce(const void* send, void* recv, std::size_t count, ncclDataType_t type, ncclRedOp_t op,
                                  ncclComm_t comm, cudaStream_t) {
  if (!comm) return emu_nccl::fail(nullptr, ncclInvalidArgument, "ncclAllReduce: null communicator");
  const std::size_t bytes = count * emu_nccl::type_size(type);
  if (op != ncclSum || (type != ncclFloat && type != ncclDouble))
    return emu_nccl::fail(comm, ncclInvalidArgument, "ncclAllReduce: the emulation sums float and double only");
  if (!emu::is_device(send, bytes) || !emu::is_device(recv, bytes))
    return emu_nccl::fail(comm, ncclInvalidArgument, "ncclAllReduce: a buffer is not device memory");
  const MPI_Datatype t = type == ncclFloat ? MPI_FLOAT : MPI_DOUBLE;
  const int n = static_cast<int>(count);  // the tests' buffers are far below 2^31 elements
  const int rc = MPI_Allreduce(send == recv ? MPI_IN_PLACE : send, recv, n, t, MPI_SUM, MPI_COMM_WORLD);
  return rc == MPI_SUCCESS ? ncclSuccess : emu_nccl::fail(comm, ncclSystemError, "ncclAllReduce: MPI_Allreduce");
}

inline ncclResult_t ncclBroadcast(const void* send, void* recv, std::size_t count, ncclDataType_t type, int root,
                                  ncclComm_t comm, cudaStream_t) {
  if (!comm) return emu_nccl::fail(nullptr, ncclInvalidArgument, "ncclBroadcast: null communicator");
  const std::size_t bytes = count * emu_nccl::type_size(type);
  if (root < 0 || root >= comm->nranks) return emu_nccl::fail(comm, ncclInvalidArgument, "ncclBroadcast: bad root");
  if ((comm->rank == root && !emu::is_device(send, bytes)) || !emu::is_device(recv, bytes))
    return emu_nccl::fail(comm, ncclInvalidArgument, "ncclBroadcast: a buffer is not device memory");
  if (comm->rank == root && send != recv) std::memmove(recv, send, bytes);
  const int rc = MPI_Bcast(recv, static_cast<int>(bytes), MPI_BYTE, root, MPI_COMM_WORLD);
  return rc == MPI_SUCCESS ? ncclSuccess : emu_nccl::fail(comm, ncclSystemError, "ncclBroadcast: MPI_Bcast");
}
