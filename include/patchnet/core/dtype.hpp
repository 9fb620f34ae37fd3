// Scalar types a tensor can hold, and the names used in messages and files.
#pragma once

#include <concepts>
#include <cstdint>

namespace patchnet {

// Differentiable ops are defined for floating-point tensors; integer tensors (labels,
// indices) support storage, views and copies.
template <class T>
concept FloatingPoint = std::same_as<T, float> || std::same_as<T, double>;

template <class T>
constexpr const char* dtype_name() {
  if constexpr (std::same_as<T, float>) return "float32";
  else if constexpr (std::same_as<T, double>) return "float64";
  else if constexpr (std::same_as<T, int32_t>) return "int32";
  else if constexpr (std::same_as<T, int64_t>) return "int64";
  else if constexpr (std::same_as<T, uint8_t>) return "uint8";
  else return "unknown";
}

}  // namespace patchnet
