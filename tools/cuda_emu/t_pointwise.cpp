#include "tu.hpp"
#include "elementwise.cu"  // generated: $EMU_BUILD/gen (gen.sh)
#include "activation.cu"
#include "copy.cu"
#include "patchnet/cpu/activation.hpp"
#include "patchnet/cpu/elementwise.hpp"
using namespace patchnet;

// The pointwise kernels: binary ops with broadcast strides, every unary op and the fused
// backward of the table's functions (elementwise.cu), GELU and ReLU (activation.cu),
// strided copies, fill and add (copy.cu), each against the CPU loop on random shapes.

template <class T>
std::string tname() {
  return sizeof(T) == 4 ? "float" : "double";
}

// Runs launch(out) in two block orders; checks the bits agree and no guard was written.
template <class T, class F>
std::vector<T> run2(int64_t n, const std::string& what, F launch) {
  std::vector<T> outs[2];
  for (int order : {0, 2}) {
    emu::g_order = order;
    Guarded<T> out(poison<T>(n), 3);
    launch(out.p());
    out.guards_ok(what);
    outs[order ? 1 : 0] = out.get();
  }
  emu::g_order = 0;
  same_bits(outs[0], outs[1], what);
  return outs[0];
}

template <class T>
void binary_case(double tol) {
  const int rank = ri(1, 4);
  Shape shape;
  for (int i = 0; i < rank; ++i) shape.push_back(ri(0, 9) == 0 ? 1 : ri(1, 37));
  // each operand: its own shape with broadcast (size-1) dims, packed
  auto operand = [&](Strides& st) {
    Shape s = shape;
    for (int i = 0; i < rank; ++i)
      if (ri(0, 2) == 0) s[i] = 1;
    const Strides packed = s.contiguous_strides();
    st = Strides{};
    for (int i = 0; i < rank; ++i) st.push_back(s[i] == 1 ? 0 : packed[i]);
    return rnd<T>(s.numel(), 0.5, 2);
  };
  Strides sa, sb;
  const auto a = operand(sa), b = operand(sb);
  cuda::BinaryParams p;
  p.rank = rank;
  for (int i = 0; i < rank; ++i) {
    p.shape[i] = shape[i];
    p.a_strides[i] = sa[i];
    p.b_strides[i] = sb[i];
  }
  const int64_t n = shape.numel();
  for (auto op : {math::BinaryOp::Add, math::BinaryOp::Sub, math::BinaryOp::Mul, math::BinaryOp::Div}) {
    g_case = tname<T>() + " binary " + math::name(op) + " n=" + std::to_string(n);
    std::vector<T> ref = poison<T>(n);
    cpu::binary(op, a.data(), sa, b.data(), sb, ref.data(), shape);
    cmp(run2<T>(n, "binary", [&](T* out) { cuda::binary(op, a.data(), b.data(), out, p); }), ref, "binary", tol);
  }
}

template <class T>
void unary_case(int64_t n, double tol) {
  const auto x = rnd<T>(n, -6, 6), xpos = rnd<T>(n, 0.25, 4), gy = rnd<T>(n);
  for (int k = 0; k <= static_cast<int>(math::UnaryOp::PowScalar); ++k) {
    const auto op = static_cast<math::UnaryOp>(k);
    const bool positive = op == math::UnaryOp::Log || op == math::UnaryOp::Sqrt || op == math::UnaryOp::PowScalar ||
                          op == math::UnaryOp::RDivScalar;
    const auto& in = positive ? xpos : x;
    const T s = T(1.75);
    g_case = tname<T>() + " unary " + math::name(op) + " n=" + std::to_string(n);
    std::vector<T> y = poison<T>(n);
    cpu::unary(op, in.data(), y.data(), n, s);
    cmp(run2<T>(n, "unary", [&](T* out) { cuda::unary(op, in.data(), out, n, s); }), y, "unary", tol);
    if (!math::is_unary_function(op)) continue;
    std::vector<T> gx = poison<T>(n);
    cpu::unary_backward(op, in.data(), y.data(), gy.data(), gx.data(), n);
    cmp(run2<T>(n, "unary_backward", [&](T* out) { cuda::unary_backward(op, in.data(), y.data(), gy.data(), out, n); }),
        gx, "unary_backward", tol);
  }
}

template <class T>
void activation_case(int64_t n, double tol) {
  const auto x = rnd<T>(n, -6, 6), gy = rnd<T>(n);
  for (bool tanh_approx : {false, true}) {
    g_case = tname<T>() + (tanh_approx ? " gelu tanh" : " gelu") + " n=" + std::to_string(n);
    std::vector<T> y = poison<T>(n), gx = poison<T>(n);
    cpu::gelu_forward(x.data(), y.data(), n, tanh_approx);
    cpu::gelu_backward(x.data(), gy.data(), gx.data(), n, tanh_approx);
    cmp(run2<T>(n, "gelu_forward", [&](T* out) { cuda::gelu_forward(x.data(), out, n, tanh_approx); }), y,
        "gelu_forward", tol);
    cmp(run2<T>(n, "gelu_backward", [&](T* out) { cuda::gelu_backward(x.data(), gy.data(), out, n, tanh_approx); }), gx,
        "gelu_backward", tol);
  }
  g_case = tname<T>() + " relu n=" + std::to_string(n);
  std::vector<T> y = poison<T>(n), gx = poison<T>(n);
  cpu::relu_forward(x.data(), y.data(), n);
  cpu::relu_backward(y.data(), gy.data(), gx.data(), n);
  cmp(run2<T>(n, "relu_forward", [&](T* out) { cuda::relu_forward(x.data(), out, n); }), y, "relu_forward", 0);
  cmp(run2<T>(n, "relu_backward", [&](T* out) { cuda::relu_backward(y.data(), gy.data(), out, n); }), gx,
      "relu_backward", 0);
}

// strided_copy from a permuted view into a packed buffer, fill and add: exact.
template <class T>
void copy_case() {
  const int rank = ri(1, 4);
  Shape shape;
  for (int i = 0; i < rank; ++i) shape.push_back(ri(1, 13));
  std::vector<int> perm(rank);
  for (int i = 0; i < rank; ++i) perm[i] = i;
  std::shuffle(perm.begin(), perm.end(), rng);
  // the source is a packed tensor of the permuted shape, read through permuted strides
  Shape src_shape;
  for (int i = 0; i < rank; ++i) src_shape.push_back(shape[perm[i]]);
  const Strides src_packed = src_shape.contiguous_strides(), dst_packed = shape.contiguous_strides();
  cuda::StridedCopyParams p;
  p.rank = rank;
  for (int i = 0; i < rank; ++i) {
    p.shape[i] = shape[i];
    p.dst_strides[i] = dst_packed[i];
    for (int j = 0; j < rank; ++j)
      if (perm[j] == i) p.src_strides[i] = src_packed[j];
  }
  const int64_t n = shape.numel();
  const auto src = rnd<T>(n);
  std::vector<T> ref(n);
  for (int64_t i = 0; i < n; ++i) {
    int64_t rem = i, off = 0;
    for (int d = rank - 1; d >= 0; --d) {
      off += (rem % shape[d]) * p.src_strides[d];
      rem /= shape[d];
    }
    ref[i] = src[off];
  }
  g_case = tname<T>() + " strided_copy n=" + std::to_string(n);
  cmp(run2<T>(n, "strided_copy", [&](T* out) { cuda::strided_copy(src.data(), out, p); }), ref, "strided_copy", 0);
  g_case = tname<T>() + " fill/add n=" + std::to_string(n);
  cmp(run2<T>(n, "fill", [&](T* out) { cuda::fill(out, n, T(2.5)); }), std::vector<T>(n, T(2.5)), "fill", 0);
  const auto b = rnd<T>(n);
  std::vector<T> sum(n);
  for (int64_t i = 0; i < n; ++i) sum[i] = src[i] + b[i];
  cmp(run2<T>(n, "add", [&](T* out) { cuda::add(src.data(), b.data(), out, n); }), sum, "add", 0);
}

int main(int argc, char** argv) {
  const int iters = argc > 1 ? std::atoi(argv[1]) : 40;
  for (int it = 0; it < iters; ++it) {
    // sizes around the grid cap (7 blocks of 256 in the emulator) and odd tails
    const int64_t n = it % 5 == 0 ? ri(1, 7) : it % 5 == 1 ? 7 * 256 + ri(-3, 3) : ri(8, 5000);
    binary_case<float>(1e-6);
    binary_case<double>(1e-15);
    unary_case<float>(n, 1e-6);
    unary_case<double>(n, 1e-15);
    activation_case<float>(n, 1e-6);
    activation_case<double>(n, 1e-15);
    copy_case<float>();
    copy_case<double>();
  }
  // an empty launch writes nothing
  g_case = "n=0";
  cmp(run2<float>(0, "unary", [](float* out) { cuda::unary(math::UnaryOp::Exp, out, out, 0, 0.0f); }),
      std::vector<float>{}, "unary n=0", 0);
  return finish("pointwise");
}
