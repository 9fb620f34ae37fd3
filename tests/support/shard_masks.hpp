// Data parallel's dropout masks (Generator::set_batch_shard): a rank's rows of a global
// batch, dropped on `device` with the shard set, must equal those rows of the global batch
// dropped on the CPU by one process, forward and gradient, bit for bit, and both generators
// must end at the same offset. Shared by the CPU test and the GPU suite.
#pragma once

#include <string>

#include "patchnet/ops/dropout.hpp"
#include "patchnet/ops/shape_ops.hpp"
#include "support/test_util.hpp"

namespace patchnet::test {

template <class T>
void check_shard_masks(Device device, bool drop_path_op, const Shape& global_shape, int64_t first, int64_t rows,
                       double p, uint64_t seed) {
  const std::string where = std::string(drop_path_op ? "drop_path " : "dropout ") + global_shape.str() + " rows " +
                            std::to_string(first) + "+" + std::to_string(rows) + " on " + device.str();
  auto op = [&](const Tensor<T>& x, Generator& g) {
    return drop_path_op ? drop_path(x, p, true, g) : dropout(x, p, true, g);
  };
  const Tensor<T> x = uniform<T>(global_shape, seed_of(where)), gout = uniform<T>(global_shape, seed_of(where + "/g"));
  Generator one(seed), rank(seed);
  one.set_offset(3);
  rank.set_offset(3);
  Tensor<T> xg = x.clone().set_requires_grad();
  const Tensor<T> yg = op(xg, one);
  yg.backward(gout);
  rank.set_batch_shard({first, rows, global_shape[0]});
  Tensor<T> xs = slice(x, 0, first, first + rows).contiguous().to(device).set_requires_grad();
  const Tensor<T> ys = op(xs, rank);
  ys.backward(slice(gout, 0, first, first + rows).contiguous().to(device));
  check_close(ys.to(Device::cpu()), slice(yg, 0, first, first + rows), 0, 0, where + " forward");
  check_close(xs.grad().to(Device::cpu()), slice(xg.grad(), 0, first, first + rows), 0, 0, where + " gradient");
  CHECK_MESSAGE(rank.offset() == one.offset(), where, ": the shard's draw moved the counter by another amount");
}

}  // namespace patchnet::test
