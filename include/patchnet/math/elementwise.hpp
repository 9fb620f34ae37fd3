// Scalar functions of the elementwise ops, shared by the CPU loops and the CUDA kernels
// so the two cannot drift. Ops are enums, so a launcher takes one argument to pick one;
// each side switches once, outside its loop (visit_binary / visit_unary), and the loop
// body is a compile-time choice.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iterator>

#include "patchnet/core/config.hpp"

namespace patchnet::math {

enum class BinaryOp : uint8_t { Add, Sub, Mul, Div };

template <BinaryOp Op, class T>
PATCHNET_HD inline T binary(T a, T b) {
  if constexpr (Op == BinaryOp::Add) return a + b;
  else if constexpr (Op == BinaryOp::Sub) return a - b;
  else if constexpr (Op == BinaryOp::Mul) return a * b;
  else return a / b;
}

// Unary ops; `s` is the scalar operand of the *Scalar ops and ignored by the others.
enum class UnaryOp : uint8_t {
  Neg,
  Exp,
  Log,
  Sqrt,
  Square,
  Tanh,
  Sigmoid,
  AddScalar,   // x + s
  MulScalar,   // x * s
  RSubScalar,  // s - x
  RDivScalar,  // s / x
  PowScalar,   // x ^ s
};

template <UnaryOp Op, class T>
PATCHNET_HD inline T unary(T x, T s) {
  using std::exp, std::log, std::sqrt, std::tanh, std::pow;
  if constexpr (Op == UnaryOp::Neg) return -x;
  else if constexpr (Op == UnaryOp::Exp) return exp(x);
  else if constexpr (Op == UnaryOp::Log) return log(x);
  else if constexpr (Op == UnaryOp::Sqrt) return sqrt(x);
  else if constexpr (Op == UnaryOp::Square) return x * x;
  else if constexpr (Op == UnaryOp::Tanh) return tanh(x);
  else if constexpr (Op == UnaryOp::Sigmoid) return T(1) / (T(1) + exp(-x));
  else if constexpr (Op == UnaryOp::AddScalar) return x + s;
  else if constexpr (Op == UnaryOp::MulScalar) return x * s;
  else if constexpr (Op == UnaryOp::RSubScalar) return s - x;
  else if constexpr (Op == UnaryOp::RDivScalar) return s / x;
  else return pow(x, s);
}

// Calls f.template operator()<Op>() for the runtime op.
template <class F>
inline void visit_binary(BinaryOp op, F&& f) {
  switch (op) {
    case BinaryOp::Add: f.template operator()<BinaryOp::Add>(); break;
    case BinaryOp::Sub: f.template operator()<BinaryOp::Sub>(); break;
    case BinaryOp::Mul: f.template operator()<BinaryOp::Mul>(); break;
    case BinaryOp::Div: f.template operator()<BinaryOp::Div>(); break;
  }
}

template <class F>
inline void visit_unary(UnaryOp op, F&& f) {
  switch (op) {
    case UnaryOp::Neg: f.template operator()<UnaryOp::Neg>(); break;
    case UnaryOp::Exp: f.template operator()<UnaryOp::Exp>(); break;
    case UnaryOp::Log: f.template operator()<UnaryOp::Log>(); break;
    case UnaryOp::Sqrt: f.template operator()<UnaryOp::Sqrt>(); break;
    case UnaryOp::Square: f.template operator()<UnaryOp::Square>(); break;
    case UnaryOp::Tanh: f.template operator()<UnaryOp::Tanh>(); break;
    case UnaryOp::Sigmoid: f.template operator()<UnaryOp::Sigmoid>(); break;
    case UnaryOp::AddScalar: f.template operator()<UnaryOp::AddScalar>(); break;
    case UnaryOp::MulScalar: f.template operator()<UnaryOp::MulScalar>(); break;
    case UnaryOp::RSubScalar: f.template operator()<UnaryOp::RSubScalar>(); break;
    case UnaryOp::RDivScalar: f.template operator()<UnaryOp::RDivScalar>(); break;
    case UnaryOp::PowScalar: f.template operator()<UnaryOp::PowScalar>(); break;
  }
}

// One name per enum entry: the static_asserts fail when an op is added without its name.
inline const char* name(BinaryOp op) {
  constexpr const char* names[] = {"add", "sub", "mul", "div"};
  static_assert(std::size(names) == static_cast<size_t>(BinaryOp::Div) + 1, "a BinaryOp has no name");
  return names[static_cast<int>(op)];
}
inline const char* name(UnaryOp op) {
  constexpr const char* names[] = {"neg", "exp", "log", "sqrt", "square", "tanh", "sigmoid",
                                   "add_scalar", "mul_scalar", "rsub_scalar", "rdiv_scalar", "pow_scalar"};
  static_assert(std::size(names) == static_cast<size_t>(UnaryOp::PowScalar) + 1, "a UnaryOp has no name");
  return names[static_cast<int>(op)];
}

}  // namespace patchnet::math
