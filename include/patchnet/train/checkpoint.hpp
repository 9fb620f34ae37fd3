// Training checkpoints: one safetensors file (io/safetensors.hpp) holding
//   - the model's state dict (io/model.hpp: PyTorch's names and layouts), so the file loads
//     into the PyTorch twin of the model (timm's ConvMixer, tools/*.py) with load_state_dict
//     once the "optimizer." entries are filtered out (tools/load_checkpoint.py shows how);
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
#include "patchnet/io/model.hpp"
#include "patchnet/io/safetensors.hpp"
#include "patchnet/nn/module.hpp"
#include "patchnet/ops/copy.hpp"
#include "patchnet/ops/shape_ops.hpp"
#include "patchnet/optim/optimizer.hpp"

namespace patchnet::train {

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
             "' has shape ", io::detail::state_shape_text(file.at(key).shape), ", expected ", t.shape());
    Tensor<T> dst = t;
    dst.copy_(file.tensor<T>(key));
  }
  opt.set_steps(meta_int(file, "optimizer_steps", 0, std::numeric_limits<int64_t>::max()));
}

}  // namespace patchnet::train
