// Training checkpoints: one safetensors file (io/safetensors.hpp) holding
//   - the model's state dict under PyTorch's names AND layouts (convolutions OIHW, linear
//     [out, in], depthwise [C, 1, KH, KW]; nn/module.hpp TorchLayout), BatchNorm running
//     statistics, and num_batches_tracked as int64 scalars, so the file loads into the
//     PyTorch twin of the model (timm's ConvMixer, tools/*.py) with load_state_dict once
//     the "optimizer." entries are filtered out (tools/load_checkpoint.py shows how);
//   - the optimizer's state under "optimizer.<param>.<slot>" in patchnet's layout;
//   - the training state (epoch, step, generator offsets, early-stopping counters, the
//     per-epoch history) in the header's __metadata__ as strings.
// Files are written atomically (temporary file, fsync, rename), so an interrupted save
// never damages the previous checkpoint.
#pragma once

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "patchnet/autograd/grad_mode.hpp"
#include "patchnet/io/safetensors.hpp"
#include "patchnet/nn/module.hpp"
#include "patchnet/ops/copy.hpp"
#include "patchnet/ops/shape_ops.hpp"
#include "patchnet/optim/optimizer.hpp"

namespace patchnet::train {

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
inline std::string shape_text(const std::vector<int64_t>& s) { return Shape(s).str(); }
}  // namespace detail

// Adds the model's state dict (PyTorch names and layouts) to `file`.
template <FloatingPoint T>
void add_state_dict(io::SafeTensors& file, const nn::Module<T>& model) {
  for (const auto& p : model.named_parameters()) file.add(p.name, to_torch_layout(p.tensor, p.layout));
  for (const auto& b : model.named_buffers()) file.add(b.name, to_torch_layout(b.tensor, b.layout));
  for (const auto& c : model.named_counters()) file.add_i64(c.name, {}, {*c.value});
}

// Copies the model's state from `file`, checking that every tensor is there with the
// shape this model needs. Errors name the file, the tensor and both shapes, and say when
// the file was written for another model.
template <FloatingPoint T>
void load_state_dict(const io::SafeTensors& file, nn::Module<T>& model, const std::string& model_tag = "") {
  const auto hint = [&]() -> std::string {
    auto it = file.metadata.find("model");
    if (it == file.metadata.end() || model_tag.empty() || it->second == model_tag) return "";
    return " (the checkpoint was written for model '" + it->second + "', this is '" + model_tag + "')";
  };
  auto load_one = [&](const nn::NamedTensor<T>& p) {
    PN_CHECK(file.contains(p.name), "checkpoint ", file.path, ": no tensor '", p.name, "'", hint());
    const io::TensorRecord& r = file.at(p.name);
    const Shape want = torch_shape(p.tensor.shape(), p.layout);
    PN_CHECK(Shape(r.shape) == want, "checkpoint ", file.path, ": tensor '", p.name, "' has shape ",
             detail::shape_text(r.shape), " but this model needs ", want, hint());
    Tensor<T> dst = p.tensor;  // a handle: copying into it writes the model's tensor
    dst.copy_(from_torch_layout(file.tensor<T>(p.name), p.layout, p.tensor.shape()));
  };
  NoGrad no_grad;  // parameters require grad; writing into them is not an op
  for (const auto& p : model.named_parameters()) load_one(p);
  for (const auto& b : model.named_buffers()) load_one(b);
  for (const auto& c : model.named_counters()) {
    if (!file.contains(c.name)) continue;  // optional, as PyTorch treats num_batches_tracked
    const io::TensorRecord& r = file.at(c.name);
    PN_CHECK(r.dtype == io::DType::I64 && r.data.size() == 8, "checkpoint ", file.path, ": counter '", c.name,
             "' must be one int64");
    std::memcpy(c.value, r.data.data(), 8);
  }
}

// Optimizer slots, under "optimizer.<name>".
template <FloatingPoint T>
void add_optimizer_state(io::SafeTensors& file, optim::Optimizer<T>& opt) {
  for (auto& [name, t] : opt.state_tensors()) file.add("optimizer." + name, t.detach().to(Device::cpu()).contiguous());
  file.metadata["optimizer"] = opt.name();
  file.metadata["optimizer_steps"] = std::to_string(opt.steps());
}

// Metadata fields of a checkpoint, parsed strictly (the whole string, in range). A missing
// or malformed field throws naming the file and the field.
inline const std::string& meta_string(const io::SafeTensors& f, const std::string& key) {
  auto it = f.metadata.find(key);
  PN_CHECK(it != f.metadata.end(), "checkpoint ", f.path, ": no '", key, "' in its metadata");
  return it->second;
}
inline int64_t meta_int(const io::SafeTensors& f, const std::string& key, int64_t lo, int64_t hi) {
  const std::string& s = meta_string(f, key);
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  PN_CHECK(ec == std::errc() && end == s.data() + s.size() && !s.empty(), "checkpoint ", f.path, ": metadata '", key,
           "' = '", s, "' is not an integer");
  PN_CHECK(v >= lo && v <= hi, "checkpoint ", f.path, ": metadata '", key, "' = ", v, " is outside [", lo, ", ", hi,
           "]");
  return v;
}
inline uint64_t meta_uint(const io::SafeTensors& f, const std::string& key) {
  const std::string& s = meta_string(f, key);
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  PN_CHECK(ec == std::errc() && end == s.data() + s.size() && !s.empty(), "checkpoint ", f.path, ": metadata '", key,
           "' = '", s, "' is not an unsigned 64-bit integer");
  return v;
}
// Any double, inf and nan included ("%.17g" writes them so).
inline double meta_double(const io::SafeTensors& f, const std::string& key) {
  const std::string& s = meta_string(f, key);
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  PN_CHECK(!s.empty() && end == s.c_str() + s.size() && errno != ERANGE, "checkpoint ", f.path, ": metadata '", key,
           "' = '", s, "' is not a number");
  return v;
}

template <FloatingPoint T>
void load_optimizer_state(const io::SafeTensors& file, optim::Optimizer<T>& opt) {
  auto it = file.metadata.find("optimizer");
  PN_CHECK(it != file.metadata.end(), "checkpoint ", file.path, ": holds no optimizer state (written by --save of ",
           "an evaluation?); cannot resume training from it");
  PN_CHECK(it->second == opt.name(), "checkpoint ", file.path, ": optimizer state is ", it->second, ", this run uses ",
           opt.name());
  NoGrad no_grad;
  for (auto& [name, t] : opt.state_tensors()) {
    const std::string key = "optimizer." + name;
    PN_CHECK(file.contains(key), "checkpoint ", file.path, ": no optimizer tensor '", key, "'");
    PN_CHECK(Shape(file.at(key).shape) == t.shape(), "checkpoint ", file.path, ": optimizer tensor '", key,
             "' has shape ", detail::shape_text(file.at(key).shape), ", expected ", t.shape());
    Tensor<T> dst = t;
    dst.copy_(file.tensor<T>(key));
  }
  opt.set_steps(meta_int(file, "optimizer_steps", 0, std::numeric_limits<int64_t>::max()));
}

}  // namespace patchnet::train
