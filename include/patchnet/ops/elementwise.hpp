// Elementwise arithmetic: add, sub, mul, div with NumPy broadcasting; the same with a
// scalar; neg, pow; the functions of the elementwise table (exp, log, sqrt, square, tanh,
// sigmoid, silu: math/elementwise.hpp); and the operators + - * /.
//
// Backward: the table's functions in one fused pass, g * unary_grad(x, y) (so, like gelu,
// their gradients are not differentiated again); the rest composed from these same ops:
// for a broadcast input the gradient is summed back to its shape (sum_to); d(a*b) = g*b,
// g*a; d(a/b) = g/b, -g*a/b^2; d x^p = g*p*x^(p-1).
#pragma once

#include <type_traits>
#include <vector>

#include "patchnet/autograd/node.hpp"
#include "patchnet/core/tensor.hpp"
#include "patchnet/cpu/elementwise.hpp"
#include "patchnet/cuda/elementwise.hpp"
#include "patchnet/ops/dispatch.hpp"
#include "patchnet/ops/reduce.hpp"

namespace patchnet {

namespace detail {

// Strides of x broadcast to out_shape: 0 on dimensions x repeats.
template <class T>
Strides broadcast_strides(const Tensor<T>& x, const Shape& out_shape) {
  Strides s;
  const int lead = out_shape.rank() - x.dim();
  for (int i = 0; i < out_shape.rank(); ++i) {
    const int j = i - lead;
    s.push_back(j < 0 || x.size(j) == 1 ? 0 : x.stride(j));
  }
  return s;
}

// The forward of a binary op, no autograd.
template <FloatingPoint T>
Tensor<T> binary_forward(math::BinaryOp op, const Tensor<T>& a, const Tensor<T>& b) {
  const char* name = math::name(op);
  const Device dev = common_device<T>(name, {&a, &b});
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor<T> out = Tensor<T>::empty(shape, dev);
  const Strides sa = broadcast_strides(a, shape), sb = broadcast_strides(b, shape);
  if (dev.is_cpu()) {
    cpu::binary(op, a.data(), sa, b.data(), sb, out.data(), shape);
  } else {
    cuda::BinaryParams p;
    p.rank = shape.rank();
    for (int i = 0; i < shape.rank(); ++i) {
      p.shape[i] = shape[i];
      p.a_strides[i] = sa[i];
      p.b_strides[i] = sb[i];
    }
    PN_CUDA(name, cuda::binary(op, a.data(), b.data(), out.data(), p));
  }
  return out;
}

// The forward of a unary op, no autograd.
template <FloatingPoint T>
Tensor<T> unary_forward(math::UnaryOp op, const Tensor<T>& x, T s) {
  const Tensor<T> xc = x.contiguous();
  Tensor<T> out = Tensor<T>::empty(x.shape(), x.device());
  if (x.is_cpu()) {
    cpu::unary(op, xc.data(), out.data(), x.numel(), s);
  } else {
    PN_CUDA(math::name(op), cuda::unary(op, xc.data(), out.data(), x.numel(), s));
  }
  return out;
}

}  // namespace detail

template <FloatingPoint T>
Tensor<T> mul(const Tensor<T>& x, std::type_identity_t<T> s);
template <FloatingPoint T>
Tensor<T> div(const Tensor<T>& a, const Tensor<T>& b);

template <FloatingPoint T>
Tensor<T> add(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> out = detail::binary_forward(math::BinaryOp::Add, a, b);
  const Shape sa = a.shape(), sb = b.shape();
  autograd::record<T>("add", {a, b}, {out}, [sa, sb](const auto& g, const auto& needs) {
    return std::vector<Tensor<T>>{needs[0] ? sum_to(g[0], sa) : Tensor<T>(), needs[1] ? sum_to(g[0], sb) : Tensor<T>()};
  });
  return out;
}

template <FloatingPoint T>
Tensor<T> sub(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> out = detail::binary_forward(math::BinaryOp::Sub, a, b);
  const Shape sa = a.shape(), sb = b.shape();
  autograd::record<T>("sub", {a, b}, {out}, [sa, sb](const auto& g, const auto& needs) {
    return std::vector<Tensor<T>>{needs[0] ? sum_to(g[0], sa) : Tensor<T>(),
                                  needs[1] ? sum_to(mul(g[0], T(-1)), sb) : Tensor<T>()};
  });
  return out;
}

template <FloatingPoint T>
Tensor<T> mul(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> out = detail::binary_forward(math::BinaryOp::Mul, a, b);
  autograd::record<T>("mul", {a, b}, {out}, [ad = a.detach(), bd = b.detach()](const auto& g, const auto& needs) {
    return std::vector<Tensor<T>>{needs[0] ? sum_to(mul(g[0], bd), ad.shape()) : Tensor<T>(),
                                  needs[1] ? sum_to(mul(g[0], ad), bd.shape()) : Tensor<T>()};
  });
  return out;
}

template <FloatingPoint T>
Tensor<T> div(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> out = detail::binary_forward(math::BinaryOp::Div, a, b);
  autograd::record<T>("div", {a, b}, {out},
                      [ad = a.detach(), bd = b.detach(), yd = out.detach()](const auto& g, const auto& needs) {
                        Tensor<T> ga, gb;
                        if (needs[0]) ga = sum_to(div(g[0], bd), ad.shape());
                        if (needs[1]) gb = sum_to(mul(div(mul(g[0], yd), bd), T(-1)), bd.shape());
                        return std::vector<Tensor<T>>{ga, gb};
                      });
  return out;
}

namespace detail {
// A unary op whose gradient is g * dy/dx, with dy/dx computed by `deriv(x, y)`.
template <FloatingPoint T, class Deriv>
Tensor<T> unary_op(math::UnaryOp op, const Tensor<T>& x, T s, Deriv deriv) {
  Tensor<T> out = unary_forward(op, x, s);
  autograd::record<T>(math::name(op), {x}, {out},
                      [xd = x.detach(), yd = out.detach(), deriv](const auto& g, const auto&) {
                        return std::vector<Tensor<T>>{mul(g[0], deriv(xd, yd))};
                      });
  return out;
}

// A function of the table: forward and backward are the table's loops and kernels,
// gx = g * unary_grad(x, y) in one pass.
template <FloatingPoint T>
Tensor<T> unary_function(math::UnaryOp op, const Tensor<T>& x) {
  PN_CHECK(math::is_unary_function(op), math::name(op), ": not a function of the elementwise table");
  PN_CHECK(x.defined(), math::name(op), ": input is undefined");
  Tensor<T> out = unary_forward(op, x, T(0));
  autograd::record<T>(
      math::name(op), {x}, {out}, [op, xd = x.detach().contiguous(), yd = out.detach()](const auto& g, const auto&) {
        const Tensor<T> gc = g[0].contiguous();
        Tensor<T> gx = Tensor<T>::empty(xd.shape(), xd.device());
        if (xd.is_cpu()) cpu::unary_backward(op, xd.data(), yd.data(), gc.data(), gx.data(), xd.numel());
        else PN_CUDA(math::name(op), cuda::unary_backward(op, xd.data(), yd.data(), gc.data(), gx.data(), xd.numel()));
        return std::vector<Tensor<T>>{gx};
      });
  return out;
}
}  // namespace detail

template <FloatingPoint T>
Tensor<T> add(const Tensor<T>& x, std::type_identity_t<T> s) {
  Tensor<T> out = detail::unary_forward(math::UnaryOp::AddScalar, x, s);
  autograd::record<T>("add_scalar", {x}, {out},
                      [](const auto& g, const auto&) { return std::vector<Tensor<T>>{g[0]}; });
  return out;
}

template <FloatingPoint T>
Tensor<T> mul(const Tensor<T>& x, std::type_identity_t<T> s) {
  Tensor<T> out = detail::unary_forward(math::UnaryOp::MulScalar, x, s);
  autograd::record<T>("mul_scalar", {x}, {out},
                      [s](const auto& g, const auto&) { return std::vector<Tensor<T>>{mul(g[0], s)}; });
  return out;
}

// s - x
template <FloatingPoint T>
Tensor<T> rsub(const Tensor<T>& x, std::type_identity_t<T> s) {
  Tensor<T> out = detail::unary_forward(math::UnaryOp::RSubScalar, x, s);
  autograd::record<T>("rsub_scalar", {x}, {out},
                      [](const auto& g, const auto&) { return std::vector<Tensor<T>>{mul(g[0], T(-1))}; });
  return out;
}

// s / x
template <FloatingPoint T>
Tensor<T> rdiv(const Tensor<T>& x, std::type_identity_t<T> s) {
  return detail::unary_op(math::UnaryOp::RDivScalar, x, s,
                          [](const Tensor<T>& xd, const Tensor<T>& yd) { return mul(div(yd, xd), T(-1)); });
}

template <FloatingPoint T>
Tensor<T> neg(const Tensor<T>& x) {
  return mul(x, T(-1));
}

// The pointwise functions of math/elementwise.hpp's table (exp, log, sqrt, square, tanh,
// sigmoid, silu, ...), one public function per row.
#define PN_UNARY_FUNCTION(fn, Op)                        \
  template <FloatingPoint T>                             \
  Tensor<T> fn(const Tensor<T>& x) {                     \
    return detail::unary_function(math::UnaryOp::Op, x); \
  }
PATCHNET_UNARY_FUNCTIONS(PN_UNARY_FUNCTION)
#undef PN_UNARY_FUNCTION

template <FloatingPoint T>
Tensor<T> pow(const Tensor<T>& x, std::type_identity_t<T> p) {
  return detail::unary_op(math::UnaryOp::PowScalar, x, p, [p](const Tensor<T>& xd, const Tensor<T>&) {
    return mul(detail::unary_forward(math::UnaryOp::PowScalar, xd, T(p - 1)), p);
  });
}

// ---- operators (the scalar side converts to T) -----------------------------------------
template <FloatingPoint T>
Tensor<T> operator+(const Tensor<T>& a, const Tensor<T>& b) {
  return add(a, b);
}
template <FloatingPoint T>
Tensor<T> operator-(const Tensor<T>& a, const Tensor<T>& b) {
  return sub(a, b);
}
template <FloatingPoint T>
Tensor<T> operator*(const Tensor<T>& a, const Tensor<T>& b) {
  return mul(a, b);
}
template <FloatingPoint T>
Tensor<T> operator/(const Tensor<T>& a, const Tensor<T>& b) {
  return div(a, b);
}
template <FloatingPoint T>
Tensor<T> operator-(const Tensor<T>& a) {
  return neg(a);
}
template <FloatingPoint T>
Tensor<T> operator+(const Tensor<T>& a, std::type_identity_t<T> s) {
  return add(a, s);
}
template <FloatingPoint T>
Tensor<T> operator+(std::type_identity_t<T> s, const Tensor<T>& a) {
  return add(a, s);
}
template <FloatingPoint T>
Tensor<T> operator-(const Tensor<T>& a, std::type_identity_t<T> s) {
  return add(a, T(-s));
}
template <FloatingPoint T>
Tensor<T> operator-(std::type_identity_t<T> s, const Tensor<T>& a) {
  return rsub(a, s);
}
template <FloatingPoint T>
Tensor<T> operator*(const Tensor<T>& a, std::type_identity_t<T> s) {
  return mul(a, s);
}
template <FloatingPoint T>
Tensor<T> operator*(std::type_identity_t<T> s, const Tensor<T>& a) {
  return mul(a, s);
}
template <FloatingPoint T>
Tensor<T> operator/(const Tensor<T>& a, std::type_identity_t<T> s) {
  return mul(a, T(T(1) / s));
}
template <FloatingPoint T>
Tensor<T> operator/(std::type_identity_t<T> s, const Tensor<T>& a) {
  return rdiv(a, s);
}

}  // namespace patchnet
