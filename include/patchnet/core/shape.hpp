// Shape: the sizes (or strides) of a tensor, stored inline up to kMaxDims.
//
// Shapes are small values copied freely; no heap allocation. Strides use the same type
// (alias Strides), counted in elements, not bytes.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "patchnet/core/config.hpp"
#include "patchnet/core/error.hpp"

namespace patchnet {

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims) { assign(dims.begin(), dims.end()); }
  explicit Shape(std::span<const int64_t> dims) { assign(dims.begin(), dims.end()); }
  explicit Shape(const std::vector<int64_t>& dims) { assign(dims.begin(), dims.end()); }

  int rank() const { return n_; }
  int size() const { return n_; }
  bool empty() const { return n_ == 0; }
  int64_t operator[](int i) const { return d_[static_cast<size_t>(i)]; }
  int64_t& operator[](int i) { return d_[static_cast<size_t>(i)]; }
  int64_t back() const { return d_[static_cast<size_t>(n_ - 1)]; }
  const int64_t* begin() const { return d_.data(); }
  const int64_t* end() const { return d_.data() + n_; }
  int64_t* begin() { return d_.data(); }
  int64_t* end() { return d_.data() + n_; }

  void push_back(int64_t v) {
    PN_CHECK(n_ < kMaxDims, "Shape: rank above ", kMaxDims, " is not supported");
    d_[static_cast<size_t>(n_++)] = v;
  }
  void insert(int pos, int64_t v) {
    push_back(0);
    for (int i = n_ - 1; i > pos; --i) d_[i] = d_[i - 1];
    d_[pos] = v;
  }
  void erase(int pos) {
    for (int i = pos; i + 1 < n_; ++i) d_[i] = d_[i + 1];
    --n_;
  }

  // Product of the sizes; 1 for rank 0. A product past int64 throws (no shape that large
  // can be allocated, and a wrapped count would size a storage too small).
  int64_t numel() const {
    int64_t p = 1;
    for (int i = 0; i < n_; ++i)
      if (__builtin_mul_overflow(p, d_[i], &p)) overflow();
    return p;
  }
  // Row-major (C-contiguous) strides for these sizes.
  Shape contiguous_strides() const {
    Shape s;
    s.n_ = n_;
    int64_t acc = 1;
    for (int i = n_ - 1; i >= 0; --i) {
      s.d_[i] = acc;
      acc *= d_[i] > 0 ? d_[i] : 1;
    }
    return s;
  }
  std::vector<int64_t> vec() const { return {begin(), end()}; }
  std::string str() const;

  friend bool operator==(const Shape& a, const Shape& b) {
    if (a.n_ != b.n_) return false;
    for (int i = 0; i < a.n_; ++i)
      if (a.d_[i] != b.d_[i]) return false;
    return true;
  }

 private:
  [[noreturn]] void overflow() const;  // defined after str()
  template <class It>
  void assign(It first, It last) {
    n_ = 0;
    for (; first != last; ++first) push_back(static_cast<int64_t>(*first));
  }
  std::array<int64_t, kMaxDims> d_{};
  int n_ = 0;
};

using Strides = Shape;

inline std::ostream& operator<<(std::ostream& os, const Shape& s) {
  os << '[';
  for (int i = 0; i < s.rank(); ++i) os << (i ? "," : "") << s[i];
  return os << ']';
}

inline std::string Shape::str() const { return detail::concat(*this); }
inline void Shape::overflow() const { fail("shape ", str(), ": the element count overflows int64"); }

// Maps a possibly negative axis into [0, rank); throws naming the op when out of range.
inline int normalize_axis(int64_t axis, int rank, const char* op) {
  PN_CHECK(axis >= -rank && axis < rank, op, ": axis ", axis, " is out of range for rank ", rank);
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

// NumPy broadcasting of two shapes; throws naming the op when they do not broadcast.
inline Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const int r = a.rank() > b.rank() ? a.rank() : b.rank();
  Shape out;
  for (int i = 0; i < r; ++i) {
    const int ia = a.rank() - r + i, ib = b.rank() - r + i;
    const int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    PN_CHECK(da == db || da == 1 || db == 1, op, ": shapes ", a, " and ", b, " do not broadcast (dimension ", i, ": ",
             da, " vs ", db, ")");
    out.push_back(da == 1 ? db : da);
  }
  return out;
}

}  // namespace patchnet
