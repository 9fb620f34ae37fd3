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

// The pointwise functions of one tensor, one row each: (public name, UnaryOp entry). Each
// has its formula in unary<Op> and its derivative in unary_grad<Op> below, and that is all
// an activation needs: ops/elementwise.hpp makes the public function with its autograd
// from the row, and the CPU loops and CUDA kernels of the forward and the backward are
// instantiated from the table (docs/architecture.md, "How to add an op", route 2).
#define PATCHNET_UNARY_FUNCTIONS(X) \
  X(exp, Exp)                       \
  X(log, Log)                       \
  X(sqrt, Sqrt)                     \
  X(square, Square)                 \
  X(tanh, Tanh)                     \
  X(sigmoid, Sigmoid)               \
  X(silu, Silu)

// Unary ops: the functions above, then the ones with a scalar operand `s` (ignored by the
// others), whose public functions are written out in ops/elementwise.hpp.
enum class UnaryOp : uint8_t {
#define PN_UNARY_ENTRY(fn, Op) Op,
  PATCHNET_UNARY_FUNCTIONS(PN_UNARY_ENTRY)
#undef PN_UNARY_ENTRY
      Neg,
  AddScalar,   // x + s
  MulScalar,   // x * s
  RSubScalar,  // s - x
  RDivScalar,  // s / x
  PowScalar,   // x ^ s
};

template <class T>
PATCHNET_HD inline T sigmoid_of(T x) {
  using std::exp;
  return T(1) / (T(1) + exp(-x));
}

template <UnaryOp Op, class T>
PATCHNET_HD inline T unary(T x, T s) {
  using std::exp, std::log, std::sqrt, std::tanh, std::pow;
  if constexpr (Op == UnaryOp::Exp) return exp(x);
  else if constexpr (Op == UnaryOp::Log) return log(x);
  else if constexpr (Op == UnaryOp::Sqrt) return sqrt(x);
  else if constexpr (Op == UnaryOp::Square) return x * x;
  else if constexpr (Op == UnaryOp::Tanh) return tanh(x);
  else if constexpr (Op == UnaryOp::Sigmoid) return sigmoid_of(x);
  else if constexpr (Op == UnaryOp::Silu) return x * sigmoid_of(x);  // x sigmoid(x), "swish"
  else if constexpr (Op == UnaryOp::Neg) return -x;
  else if constexpr (Op == UnaryOp::AddScalar) return x + s;
  else if constexpr (Op == UnaryOp::MulScalar) return x * s;
  else if constexpr (Op == UnaryOp::RSubScalar) return s - x;
  else if constexpr (Op == UnaryOp::RDivScalar) return s / x;
  else return pow(x, s);
}

// dy/dx of the table's functions, given the input x and the output y = unary<Op>(x).
template <UnaryOp Op, class T>
PATCHNET_HD inline T unary_grad(T x, T y) {
  if constexpr (Op == UnaryOp::Exp) return y;
  else if constexpr (Op == UnaryOp::Log) return T(1) / x;
  else if constexpr (Op == UnaryOp::Sqrt) return T(0.5) / y;
  else if constexpr (Op == UnaryOp::Square) return T(2) * x;
  else if constexpr (Op == UnaryOp::Tanh) return T(1) - y * y;
  else if constexpr (Op == UnaryOp::Sigmoid) return y * (T(1) - y);
  else if constexpr (Op == UnaryOp::Silu) {
    const T sg = sigmoid_of(x);
    return sg * (T(1) + x * (T(1) - sg));
  } else {
    static_assert(Op == UnaryOp::Exp, "unary_grad: this op has no derivative in the table");
    return T(0);
  }
}

// Calls f.template operator()<Op>() for the runtime op.
template <class F>
inline void visit_binary(BinaryOp op, F&& f) {
  switch (op) {
    case BinaryOp::Add:
      f.template operator()<BinaryOp::Add>();
      break;
    case BinaryOp::Sub:
      f.template operator()<BinaryOp::Sub>();
      break;
    case BinaryOp::Mul:
      f.template operator()<BinaryOp::Mul>();
      break;
    case BinaryOp::Div:
      f.template operator()<BinaryOp::Div>();
      break;
  }
}

template <class F>
inline void visit_unary(UnaryOp op, F&& f) {
  switch (op) {
#define PN_UNARY_CASE(fn, Op)             \
  case UnaryOp::Op:                       \
    f.template operator()<UnaryOp::Op>(); \
    break;
    PATCHNET_UNARY_FUNCTIONS(PN_UNARY_CASE)
#undef PN_UNARY_CASE
    case UnaryOp::Neg:
      f.template operator()<UnaryOp::Neg>();
      break;
    case UnaryOp::AddScalar:
      f.template operator()<UnaryOp::AddScalar>();
      break;
    case UnaryOp::MulScalar:
      f.template operator()<UnaryOp::MulScalar>();
      break;
    case UnaryOp::RSubScalar:
      f.template operator()<UnaryOp::RSubScalar>();
      break;
    case UnaryOp::RDivScalar:
      f.template operator()<UnaryOp::RDivScalar>();
      break;
    case UnaryOp::PowScalar:
      f.template operator()<UnaryOp::PowScalar>();
      break;
  }
}

// Whether an op is one of the table's functions (has unary_grad).
constexpr bool is_unary_function(UnaryOp op) { return op < UnaryOp::Neg; }

// One name per enum entry: the static_asserts fail when an op is added without its name.
inline const char* name(BinaryOp op) {
  constexpr const char* names[] = {"add", "sub", "mul", "div"};
  static_assert(std::size(names) == static_cast<size_t>(BinaryOp::Div) + 1, "a BinaryOp has no name");
  return names[static_cast<int>(op)];
}
inline const char* name(UnaryOp op) {
#define PN_UNARY_NAME(fn, Op) #fn,
  constexpr const char* names[] = {PATCHNET_UNARY_FUNCTIONS(PN_UNARY_NAME) "neg",
                                   "add_scalar",
                                   "mul_scalar",
                                   "rsub_scalar",
                                   "rdiv_scalar",
                                   "pow_scalar"};
#undef PN_UNARY_NAME
  static_assert(std::size(names) == static_cast<size_t>(UnaryOp::PowScalar) + 1, "a UnaryOp has no name");
  return names[static_cast<int>(op)];
}

}  // namespace patchnet::math
