// Pooling and reshaping layers over NHWC: MaxPool2d, AvgPool2d (Keras semantics, ops in
// ops/pool.hpp), GlobalAvgPool ([N, H, W, C] -> [N, C]) and Flatten ([N, ...] -> [N, -1]
// in NHWC order, Keras' Flatten on channels-last data).
#pragma once

#include <string>

#include "patchnet/nn/module.hpp"
#include "patchnet/ops/pool.hpp"
#include "patchnet/ops/shape_ops.hpp"

namespace patchnet::nn {

template <FloatingPoint T>
class MaxPool2d : public Module<T> {
 public:
  explicit MaxPool2d(const Pool2dOptions& opt = {}) : opt_(opt) {}
  Tensor<T> forward(const Tensor<T>& x) override { return max_pool2d(x, opt_); }
  std::string type_name() const override { return "MaxPool2d"; }

 private:
  Pool2dOptions opt_;
};

template <FloatingPoint T>
class AvgPool2d : public Module<T> {
 public:
  explicit AvgPool2d(const Pool2dOptions& opt = {}) : opt_(opt) {}
  Tensor<T> forward(const Tensor<T>& x) override { return avg_pool2d(x, opt_); }
  std::string type_name() const override { return "AvgPool2d"; }

 private:
  Pool2dOptions opt_;
};

template <FloatingPoint T>
class GlobalAvgPool : public Module<T> {
 public:
  Tensor<T> forward(const Tensor<T>& x) override { return global_avg_pool(x); }
  std::string type_name() const override { return "GlobalAvgPool"; }
};

template <FloatingPoint T>
class Flatten : public Module<T> {
 public:
  Tensor<T> forward(const Tensor<T>& x) override {
    PN_CHECK(x.dim() >= 2, "Flatten: input ", x.shape(), " needs a batch dimension and at least one more");
    return flatten(x, 1, -1);
  }
  std::string type_name() const override { return "Flatten"; }
};

}  // namespace patchnet::nn
