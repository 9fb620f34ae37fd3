// ChannelShift: ShiftViT's parameter-free spatial mixing (ops/channel_shift.hpp). Four
// groups of `group` channels move `shift` pixels left, right, up and down.
#pragma once

#include <string>

#include "patchnet/nn/module.hpp"
#include "patchnet/ops/channel_shift.hpp"

namespace patchnet::nn {

template <FloatingPoint T>
class ChannelShift : public Module<T> {
 public:
  ChannelShift(int64_t group, int64_t shift = 1) : group_(group), shift_(shift) {
    PN_CHECK(group >= 0 && shift >= 0, type_name(), ": group ", group, " and shift ", shift, " must be >= 0");
  }
  Tensor<T> forward(const Tensor<T>& x) override { return channel_shift(x, group_, shift_); }
  std::string type_name() const override { return "ChannelShift"; }
  int64_t group() const { return group_; }

 private:
  int64_t group_, shift_;
};

}  // namespace patchnet::nn
