// A model's state in a file: the state dict under PyTorch's names AND layouts (convolutions
// OIHW, linear [out, in], depthwise [C, 1, KH, KW]; nn/module.hpp TorchLayout), BatchNorm
// running statistics, and num_batches_tracked as int64 scalars, so the file loads into the
// model's PyTorch twin with load_state_dict (tools/load_checkpoint.py). save_model /
// load_model for a whole file; add_state_dict / load_state_dict for a file that holds more
// (a training checkpoint adds the optimizer and the run's state: train/checkpoint.hpp).
// Files are written atomically (io/atomic_file.hpp).
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "patchnet/autograd/grad_mode.hpp"
#include "patchnet/io/safetensors.hpp"
#include "patchnet/nn/module.hpp"
#include "patchnet/ops/copy.hpp"
#include "patchnet/ops/shape_ops.hpp"

namespace patchnet::io {

// patchnet layout -> PyTorch layout (a packed CPU copy).
template <FloatingPoint T>
Tensor<T> to_torch_layout(const Tensor<T>& t, nn::TorchLayout layout) {
  const Tensor<T> x = t.detach().to(Device::cpu());
  switch (layout) {
    case nn::TorchLayout::ConvHWIO:
      return permute(x, {3, 2, 0, 1}).contiguous();
    case nn::TorchLayout::Depthwise:
      return reshape(permute(x, {2, 0, 1}).contiguous(), {x.size(2), 1, x.size(0), x.size(1)});
    case nn::TorchLayout::Linear:
      return transpose(x, 0, 1).contiguous();
    case nn::TorchLayout::Pointwise:
      return reshape(transpose(x, 0, 1).contiguous(), {x.size(1), x.size(0), 1, 1});
    case nn::TorchLayout::Same:
      break;
  }
  return x.contiguous();
}

// The PyTorch shape of a tensor whose patchnet shape is `s`.
inline Shape torch_shape(const Shape& s, nn::TorchLayout layout) {
  switch (layout) {
    case nn::TorchLayout::ConvHWIO:
      return {s[3], s[2], s[0], s[1]};
    case nn::TorchLayout::Depthwise:
      return {s[2], 1, s[0], s[1]};
    case nn::TorchLayout::Linear:
      return {s[1], s[0]};
    case nn::TorchLayout::Pointwise:
      return {s[1], s[0], 1, 1};
    case nn::TorchLayout::Same:
      break;
  }
  return s;
}

// PyTorch layout -> patchnet layout; `shape` is the patchnet shape wanted.
template <FloatingPoint T>
Tensor<T> from_torch_layout(const Tensor<T>& t, nn::TorchLayout layout, const Shape& shape) {
  switch (layout) {
    case nn::TorchLayout::ConvHWIO:
      return permute(t, {2, 3, 1, 0}).contiguous();
    case nn::TorchLayout::Depthwise:
      return permute(reshape(t, {shape[2], shape[0], shape[1]}), {1, 2, 0}).contiguous();
    case nn::TorchLayout::Linear:
      return transpose(t, 0, 1).contiguous();
    case nn::TorchLayout::Pointwise:
      return transpose(reshape(t, {shape[1], shape[0]}), 0, 1).contiguous();
    case nn::TorchLayout::Same:
      break;
  }
  return t;
}

namespace detail {
inline std::string state_shape_text(const std::vector<int64_t>& s) { return Shape(s).str(); }
}  // namespace detail

// Adds the model's state dict (PyTorch names and layouts) to `file`.
template <FloatingPoint T>
void add_state_dict(SafeTensors& file, const nn::Module<T>& model) {
  for (const auto& p : model.named_parameters()) file.add(p.name, to_torch_layout(p.tensor, p.layout));
  for (const auto& b : model.named_buffers()) file.add(b.name, to_torch_layout(b.tensor, b.layout));
  for (const auto& c : model.named_counters()) file.add_i64(c.name, {}, {*c.value});
}

// Copies the model's state from `file`, checking that every tensor is there with the
// shape this model needs. Errors name the file, the tensor and both shapes, and say when
// the file was written for another model.
template <FloatingPoint T>
void load_state_dict(const SafeTensors& file, nn::Module<T>& model, const std::string& model_tag = "") {
  const auto hint = [&]() -> std::string {
    auto it = file.metadata.find("model");
    if (it == file.metadata.end() || model_tag.empty() || it->second == model_tag) return "";
    return " (the checkpoint was written for model '" + it->second + "', this is '" + model_tag + "')";
  };
  auto load_one = [&](const nn::NamedTensor<T>& p) {
    PN_CHECK(file.contains(p.name), "checkpoint ", file.path, ": no tensor '", p.name, "'", hint());
    const TensorRecord& r = file.at(p.name);
    const Shape want = torch_shape(p.tensor.shape(), p.layout);
    PN_CHECK(Shape(r.shape) == want, "checkpoint ", file.path, ": tensor '", p.name, "' has shape ",
             detail::state_shape_text(r.shape), " but this model needs ", want, hint());
    Tensor<T> dst = p.tensor;  // a handle: copying into it writes the model's tensor
    dst.copy_(from_torch_layout(file.tensor<T>(p.name), p.layout, p.tensor.shape()));
  };
  NoGrad no_grad;  // parameters require grad; writing into them is not an op
  for (const auto& p : model.named_parameters()) load_one(p);
  for (const auto& b : model.named_buffers()) load_one(b);
  for (const auto& c : model.named_counters()) {
    if (!file.contains(c.name)) continue;  // optional, as PyTorch treats num_batches_tracked
    const TensorRecord& r = file.at(c.name);
    PN_CHECK(r.dtype == DType::I64 && r.data.size() == 8, "checkpoint ", file.path, ": counter '", c.name,
             "' must be one int64");
    std::memcpy(c.value, r.data.data(), 8);
  }
}

// A model file: the state dict and the model's metadata, no optimizer (best.safetensors,
// or a model a user exports).
template <FloatingPoint T>
void save_model(const std::string& path, const nn::Module<T>& model, const std::string& tag,
                const std::map<std::string, std::string>& metadata) {
  SafeTensors f;
  add_state_dict(f, model);
  f.metadata = metadata;
  f.metadata["model"] = tag;
  f.metadata["format"] = "patchnet checkpoint; tensors in PyTorch layouts";
  save_safetensors(path, f);
}

// Loads a model file (or a training checkpoint) into `model`.
template <FloatingPoint T>
SafeTensors load_model(const std::string& path, nn::Module<T>& model, const std::string& tag) {
  SafeTensors f = load_safetensors(path);
  load_state_dict(f, model, tag);
  return f;
}

}  // namespace patchnet::io
