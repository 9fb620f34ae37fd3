// Reader for the golden files in tests/golden/*.txt (written by tests/golden/make_golden.py
// with PyTorch in float64; format in tests/golden/README.md):
//
//   case <name>
//   attr <key> <value> [<value> ...]
//   tensor <name> f64|i32 [d0,d1,...]
//   <values, whitespace separated, numel of them>
//   end
//
// Lines starting with '#' are comments. Values are read in double (strtod reads Python's
// repr exactly), then converted to the scalar type a test asks for.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "patchnet/core/tensor.hpp"

#ifndef PATCHNET_GOLDEN_DIR
#error "PATCHNET_GOLDEN_DIR must name tests/golden (set by tests/CMakeLists.txt)"
#endif

namespace patchnet::test::golden {

struct Array {
  bool is_int = false;
  Shape shape;
  std::vector<double> values;
};

struct Case {
  std::string name;
  std::map<std::string, std::vector<std::string>> attrs;
  std::map<std::string, Array> arrays;
  std::vector<std::string> order;  // tensor names in file order

  bool has(const std::string& key) const { return arrays.count(key) != 0; }
  bool has_attr(const std::string& key) const { return attrs.count(key) != 0; }

  const std::vector<std::string>& attr_values(const std::string& key) const {
    auto it = attrs.find(key);
    if (it == attrs.end()) throw std::runtime_error("golden case " + name + ": no attr '" + key + "'");
    return it->second;
  }
  const std::string& attr(const std::string& key, size_t i = 0) const {
    const auto& v = attr_values(key);
    if (i >= v.size()) throw std::runtime_error("golden case " + name + ": attr '" + key + "' too short");
    return v[i];
  }
  int64_t attr_int(const std::string& key, size_t i = 0) const { return std::stoll(attr(key, i)); }
  double attr_double(const std::string& key, size_t i = 0) const { return std::strtod(attr(key, i).c_str(), nullptr); }

  const Array& array(const std::string& key) const {
    auto it = arrays.find(key);
    if (it == arrays.end()) throw std::runtime_error("golden case " + name + ": no tensor '" + key + "'");
    return it->second;
  }

  // A fresh tensor (no autograd history) holding the stored values as T.
  template <class T>
  Tensor<T> tensor(const std::string& key) const {
    const Array& a = array(key);
    std::vector<T> v(a.values.size());
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<T>(a.values[i]);
    return Tensor<T>::from_vector(v, a.shape);
  }
};

struct File {
  std::string path;
  std::vector<Case> cases;
};

namespace detail {

inline Shape parse_shape(const std::string& text, const std::string& where) {
  if (text.size() < 2 || text.front() != '[' || text.back() != ']')
    throw std::runtime_error(where + ": bad shape '" + text + "'");
  std::vector<int64_t> dims;
  std::stringstream ss(text.substr(1, text.size() - 2));
  std::string d;
  while (std::getline(ss, d, ',')) dims.push_back(std::stoll(d));
  return Shape(dims);
}

}  // namespace detail

// Reads PATCHNET_GOLDEN_DIR/<name>; throws std::runtime_error on a missing or malformed file.
inline File load(const std::string& name) {
  File f;
  f.path = std::string(PATCHNET_GOLDEN_DIR) + "/" + name;
  std::ifstream in(f.path);
  if (!in) throw std::runtime_error("cannot open golden file " + f.path);
  std::string line, word;
  Case* cur = nullptr;
  int64_t lineno = 0;
  auto where = [&] { return f.path + ":" + std::to_string(lineno); };
  while (std::getline(in, line)) {
    ++lineno;
    std::istringstream ls(line);
    if (!(ls >> word) || word[0] == '#') continue;
    if (word == "case") {
      f.cases.emplace_back();
      cur = &f.cases.back();
      ls >> cur->name;
    } else if (word == "end") {
      cur = nullptr;
    } else if (!cur) {
      throw std::runtime_error(where() + ": '" + word + "' outside a case");
    } else if (word == "attr") {
      std::string key, v;
      ls >> key;
      auto& vals = cur->attrs[key];
      while (ls >> v) vals.push_back(v);
    } else if (word == "tensor") {
      std::string key, type, shape;
      ls >> key >> type >> shape;
      Array a;
      a.is_int = type == "i32";
      a.shape = detail::parse_shape(shape, where());
      const int64_t n = a.shape.numel();
      a.values.reserve(static_cast<size_t>(n));
      while (static_cast<int64_t>(a.values.size()) < n && std::getline(in, line)) {
        ++lineno;
        std::istringstream vs(line);
        while (vs >> word) {
          char* end = nullptr;
          a.values.push_back(std::strtod(word.c_str(), &end));
          if (*end != '\0') throw std::runtime_error(where() + ": bad number '" + word + "'");
        }
      }
      if (static_cast<int64_t>(a.values.size()) != n)
        throw std::runtime_error(where() + ": tensor " + key + " has " + std::to_string(a.values.size()) +
                                 " values, its shape " + a.shape.str() + " needs " + std::to_string(n));
      cur->order.push_back(key);
      cur->arrays.emplace(key, std::move(a));
    } else {
      throw std::runtime_error(where() + ": unknown line '" + line + "'");
    }
  }
  if (f.cases.empty()) throw std::runtime_error("golden file " + f.path + " has no cases");
  return f;
}

}  // namespace patchnet::test::golden
