// Checkpoints in the safetensors format (huggingface), read and written without a library.
//
// Layout: 8 bytes, little-endian uint64 N; N bytes of UTF-8 JSON
//   {"__metadata__": {"key": "string", ...},
//    "<name>": {"dtype": "F32", "shape": [d0, ...], "data_offsets": [begin, end]}, ...}
// padded with spaces to a multiple of 8; then the data: each tensor's values packed
// row-major, little-endian, at [begin, end) counted from the start of the data. The ranges
// are contiguous and cover the data exactly (no gaps, no overlaps, nothing after).
//
// patchnet reads and writes the dtypes F32, F64, I32, I64 and U8. save_safetensors lays the
// data out by decreasing item size (stable), so every tensor is aligned to its item size,
// and writes the JSON compactly in insertion order with "__metadata__" first (omitted when
// empty); tools/safetensors_check.py writes the same bytes. The write is atomic
// (io/atomic_file.hpp).
//
// load_safetensors checks everything and throws patchnet::Error "checkpoint <path>: ..." for:
// a missing or unreadable file, fewer than 8 bytes, a header length beyond the file, invalid
// JSON (with the byte offset), a header that is not an object of tensor entries, unknown
// dtypes or fields, bad shapes, offsets out of range, not matching numel * item size,
// overlapping or leaving gaps, trailing bytes, and duplicate names. This assumes a
// little-endian host (checked at compile time).
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "patchnet/core/tensor.hpp"
#include "patchnet/io/atomic_file.hpp"
#include "patchnet/io/json.hpp"

namespace patchnet::io {

static_assert(std::endian::native == std::endian::little,
              "patchnet::io::safetensors copies raw little-endian data; a big-endian host needs byte swaps");

enum class DType { F32, F64, I32, I64, U8 };

inline const char* dtype_str(DType d) {
  switch (d) {
    case DType::F32:
      return "F32";
    case DType::F64:
      return "F64";
    case DType::I32:
      return "I32";
    case DType::I64:
      return "I64";
    case DType::U8:
      return "U8";
  }
  return "?";
}

inline size_t dtype_size(DType d) {
  switch (d) {
    case DType::F32:
      return 4;
    case DType::F64:
      return 8;
    case DType::I32:
      return 4;
    case DType::I64:
      return 8;
    case DType::U8:
      return 1;
  }
  return 0;
}

inline std::optional<DType> parse_dtype(std::string_view s) {
  if (s == "F32") return DType::F32;
  if (s == "F64") return DType::F64;
  if (s == "I32") return DType::I32;
  if (s == "I64") return DType::I64;
  if (s == "U8") return DType::U8;
  return std::nullopt;
}

// The safetensors dtype of a C++ scalar type.
template <class T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, float>) return DType::F32;
  else if constexpr (std::is_same_v<T, double>) return DType::F64;
  else if constexpr (std::is_same_v<T, int32_t>) return DType::I32;
  else if constexpr (std::is_same_v<T, int64_t>) return DType::I64;
  else if constexpr (std::is_same_v<T, uint8_t>) return DType::U8;
  else static_assert(sizeof(T) == 0, "safetensors: unsupported scalar type (float, double, int32, int64, uint8)");
}

struct TensorRecord {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;  // numel * dtype_size bytes, little-endian, row-major
};

namespace detail {

inline std::string where(const std::string& path) { return "checkpoint " + (path.empty() ? "(in memory)" : path); }

// numel of a shape whose dims are >= 0; nullopt past `limit` (so no overflow).
inline std::optional<uint64_t> numel_up_to(const std::vector<int64_t>& shape, uint64_t limit) {
  uint64_t n = 1;
  for (int64_t d : shape)
    if (d == 0) return 0;
  for (int64_t d : shape) {
    if (static_cast<uint64_t>(d) > limit / n) return std::nullopt;
    n *= static_cast<uint64_t>(d);
  }
  return n;
}

inline std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(shape[i]);
  }
  s += ']';
  return s;
}

}  // namespace detail

class SafeTensors {
 public:
  // Adds a record; its name must be new, valid UTF-8 and not "__metadata__", its shape
  // non-negative, its data exactly numel * item size bytes.
  void add(TensorRecord r) {
    const std::string w = detail::where(path);
    PN_CHECK(!r.name.empty(), w, ": a tensor name must not be empty");
    PN_CHECK(r.name != "__metadata__", w, ": '__metadata__' is reserved and cannot name a tensor");
    for (size_t i = 0; i < r.name.size(); i += json::detail::utf8_sequence(r.name, i))
      PN_CHECK(json::detail::utf8_sequence(r.name, i) != 0, w, ": tensor name '", r.name, "' is not valid UTF-8");
    PN_CHECK(!contains(r.name), w, ": tensor '", r.name, "' added twice");
    for (int64_t d : r.shape)
      PN_CHECK(d >= 0, w, ": tensor '", r.name, "' has a negative size in shape ", detail::shape_str(r.shape));
    const auto numel = detail::numel_up_to(r.shape, UINT64_MAX / 8);
    PN_CHECK(numel && *numel * dtype_size(r.dtype) == r.data.size(), w, ": tensor '", r.name, "' ", dtype_str(r.dtype),
             " ", detail::shape_str(r.shape), " needs ",
             numel ? std::to_string(*numel * dtype_size(r.dtype)) : std::string("too many"), " bytes, got ",
             r.data.size());
    index_.emplace(r.name, records_.size());
    records_.push_back(std::move(r));
  }

  // Adds the values of a tensor of float, double, int32, int64 or uint8 (any device, any
  // strides; copied packed).
  template <class T>
  void add(const std::string& name, const Tensor<T>& t) {
    PN_CHECK(t.defined(), detail::where(path), ": tensor '", name, "' is undefined");
    TensorRecord r;
    r.name = name;
    r.dtype = dtype_of<T>();
    r.shape = t.shape().vec();
    const std::vector<T> values = t.to_vector();
    r.data.resize(values.size() * sizeof(T));
    if (!values.empty()) std::memcpy(r.data.data(), values.data(), r.data.size());
    add(std::move(r));
  }

  void add_i64(const std::string& name, const std::vector<int64_t>& shape, const std::vector<int64_t>& values) {
    TensorRecord r;
    r.name = name;
    r.dtype = DType::I64;
    r.shape = shape;
    r.data.resize(values.size() * sizeof(int64_t));
    if (!values.empty()) std::memcpy(r.data.data(), values.data(), r.data.size());
    add(std::move(r));
  }

  bool contains(const std::string& name) const { return index_.count(name) != 0; }

  const TensorRecord& at(const std::string& name) const {
    auto it = index_.find(name);
    PN_CHECK(it != index_.end(), detail::where(path), ": no tensor '", name, "'");
    return records_[it->second];
  }

  // An F32 or F64 tensor as a new CPU Tensor<T> (values converted to T).
  template <FloatingPoint T>
  Tensor<T> tensor(const std::string& name) const {
    const TensorRecord& r = at(name);
    PN_CHECK(r.dtype == DType::F32 || r.dtype == DType::F64, detail::where(path), ": tensor '", name, "' is ",
             dtype_str(r.dtype), "; tensor<", dtype_name<T>(), ">() reads F32 or F64");
    PN_CHECK(static_cast<int>(r.shape.size()) <= kMaxDims, detail::where(path), ": tensor '", name, "' has rank ",
             r.shape.size(), ", more than patchnet's ", kMaxDims);
    Tensor<T> t = Tensor<T>::empty(Shape(r.shape));
    T* out = t.data();
    const size_t n = static_cast<size_t>(t.numel());
    if (r.dtype == DType::F32) convert<float>(r, out, n);
    else convert<double>(r, out, n);
    return t;
  }

  // An I64, I32 or U8 tensor's values as int64 (step counters, labels).
  std::vector<int64_t> i64(const std::string& name) const {
    const TensorRecord& r = at(name);
    const size_t n = r.data.size() / std::max<size_t>(dtype_size(r.dtype), 1);
    std::vector<int64_t> out(n);
    if (r.dtype == DType::I64) convert<int64_t>(r, out.data(), n);
    else if (r.dtype == DType::I32) convert<int32_t>(r, out.data(), n);
    else if (r.dtype == DType::U8) convert<uint8_t>(r, out.data(), n);
    else fail(detail::where(path), ": tensor '", name, "' is ", dtype_str(r.dtype), "; i64() reads I64, I32 or U8");
    return out;
  }

  const std::vector<TensorRecord>& records() const { return records_; }

  std::map<std::string, std::string> metadata;
  std::string path;  // where it was read from or written to, for messages

 private:
  // Reads n stored values of type S from the record's bytes (memcpy: no alignment needed).
  template <class S, class D>
  static void convert(const TensorRecord& r, D* out, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      S s;
      std::memcpy(&s, r.data.data() + i * sizeof(S), sizeof(S));
      out[i] = static_cast<D>(s);
    }
  }

  std::vector<TensorRecord> records_;
  std::map<std::string, size_t> index_;
};

namespace detail {

// The file's bytes; `w` starts error messages.
inline std::vector<uint8_t> serialize(const SafeTensors& st, const std::string& w) {
  const auto& recs = st.records();
  // Data order: by decreasing item size, stable, so each tensor is aligned to its item size.
  std::vector<size_t> order(recs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return dtype_size(recs[a].dtype) > dtype_size(recs[b].dtype); });
  std::vector<uint64_t> begin(recs.size());
  uint64_t offset = 0;
  for (size_t i : order) {
    begin[i] = offset;
    offset += recs[i].data.size();
  }

  json::Value header = json::Value::object();
  if (!st.metadata.empty()) {
    json::Value meta = json::Value::object();
    for (const auto& [k, v] : st.metadata) meta.set(k, json::Value::string(v));
    header.set("__metadata__", std::move(meta));
  }
  for (size_t i = 0; i < recs.size(); ++i) {
    json::Value entry = json::Value::object();
    entry.set("dtype", json::Value::string(dtype_str(recs[i].dtype)));
    json::Value shape = json::Value::array();
    for (int64_t d : recs[i].shape) shape.push_back(json::Value::number(d));
    entry.set("shape", std::move(shape));
    json::Value offsets = json::Value::array();
    offsets.push_back(json::Value::number(begin[i]));
    offsets.push_back(json::Value::number(static_cast<uint64_t>(begin[i] + recs[i].data.size())));
    entry.set("data_offsets", std::move(offsets));
    header.set(recs[i].name, std::move(entry));
  }
  std::string text;
  try {
    text = json::dump(header);
  } catch (const Error& e) {
    fail(w, ": cannot write the header: ", e.what());  // metadata that is not UTF-8
  }
  text.append((8 - text.size() % 8) % 8, ' ');

  std::vector<uint8_t> out(8 + text.size() + offset);
  const uint64_t n = text.size();
  std::memcpy(out.data(), &n, 8);
  std::memcpy(out.data() + 8, text.data(), text.size());
  uint8_t* data = out.data() + 8 + text.size();
  for (size_t i = 0; i < recs.size(); ++i)
    if (!recs[i].data.empty()) std::memcpy(data + begin[i], recs[i].data.data(), recs[i].data.size());
  return out;
}

}  // namespace detail

// The whole file as bytes.
inline std::vector<uint8_t> serialize_safetensors(const SafeTensors& st) {
  return detail::serialize(st, detail::where(st.path));
}

// Parses a whole file held in memory; `path` names it in messages.
inline SafeTensors parse_safetensors(std::span<const uint8_t> bytes, const std::string& path) {
  const std::string w = detail::where(path);
  SafeTensors st;
  st.path = path;
  const uint64_t size = bytes.size();
  PN_CHECK(size >= 8, w, ": file is ", size, " bytes, shorter than the 8-byte header length");
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  PN_CHECK(n <= size - 8, w, ": header length ", n, " is larger than the ", size - 8, " bytes after it");
  const std::string_view text(reinterpret_cast<const char*>(bytes.data() + 8), static_cast<size_t>(n));
  const json::Value header = json::parse(text, w + ": header JSON");
  PN_CHECK(header.is_object(), w, ": header JSON is ", header.kind_name(), ", not an object");
  const uint64_t data_size = size - 8 - n;

  struct Range {
    uint64_t begin, end;
    size_t record;
  };
  std::vector<Range> ranges;
  std::set<std::string> seen;
  for (const auto& [name, entry] : header.members()) {
    PN_CHECK(seen.insert(name).second, w, ": duplicate name '", name, "' in the header");
    if (name == "__metadata__") {
      PN_CHECK(entry.is_object(), w, ": __metadata__ is ", entry.kind_name(), ", not an object of strings");
      for (const auto& [k, v] : entry.members()) {
        PN_CHECK(v.is_string(), w, ": __metadata__ value of '", k, "' is ", v.kind_name(), ", not a string");
        PN_CHECK(st.metadata.emplace(k, v.text()).second, w, ": duplicate __metadata__ key '", k, "'");
      }
      continue;
    }
    const std::string t = w + ": tensor '" + name + "'";
    PN_CHECK(entry.is_object(), t, " is ", entry.kind_name(), ", not an object");
    std::set<std::string> fields;
    for (const auto& [k, v] : entry.members()) {
      PN_CHECK(k == "dtype" || k == "shape" || k == "data_offsets", t, ": unknown field '", k, "'");
      PN_CHECK(fields.insert(k).second, t, ": field '", k, "' given twice");
    }
    const json::Value* dt = entry.find("dtype");
    const json::Value* sh = entry.find("shape");
    const json::Value* of = entry.find("data_offsets");
    PN_CHECK(dt && sh && of, t, ": needs dtype, shape and data_offsets");
    PN_CHECK(dt->is_string(), t, ": dtype is ", dt->kind_name(), ", not a string");
    const auto dtype = parse_dtype(dt->text());
    PN_CHECK(dtype.has_value(), t, ": unsupported dtype '", dt->text(), "' (patchnet reads F32, F64, I32, I64, U8)");
    PN_CHECK(sh->is_array(), t, ": shape is ", sh->kind_name(), ", not an array");
    TensorRecord r;
    r.name = name;
    r.dtype = *dtype;
    for (const json::Value& d : sh->items()) {
      const auto v = d.as_int64();
      PN_CHECK(v && *v >= 0, t, ": shape entry '", d.is_number() ? d.text() : d.kind_name(),
               "' is not a non-negative integer");
      r.shape.push_back(*v);
    }
    PN_CHECK(of->is_array() && of->items().size() == 2, t, ": data_offsets must be an array [begin, end]");
    const auto b = of->items()[0].as_uint64(), e = of->items()[1].as_uint64();
    PN_CHECK(b && e, t, ": data_offsets must be non-negative integers");
    PN_CHECK(*b <= *e && *e <= data_size, t, ": data_offsets [", *b, ", ", *e, "] are out of range: the data is ",
             data_size, " bytes");
    const auto numel = detail::numel_up_to(r.shape, data_size);
    const uint64_t want = numel ? *numel * dtype_size(r.dtype) : 0;
    PN_CHECK(numel && want == *e - *b, t, ": ", dtype_str(r.dtype), " ", detail::shape_str(r.shape), " needs ",
             numel ? std::to_string(want) : std::string("more than the file's"), " bytes, data_offsets [", *b, ", ", *e,
             "] hold ", *e - *b);
    r.data.assign(bytes.data() + 8 + n + *b, bytes.data() + 8 + n + *e);
    st.add(std::move(r));
    ranges.push_back({*b, *e, st.records().size() - 1});
  }
  // The ranges must tile [0, data_size).
  std::sort(ranges.begin(), ranges.end(),
            [](const Range& a, const Range& b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
  uint64_t at = 0;
  for (size_t i = 0; i < ranges.size(); ++i) {
    const Range& r = ranges[i];
    const std::string& name = st.records()[r.record].name;
    PN_CHECK(r.begin >= at, w, ": data of tensors '", st.records()[ranges[i - 1].record].name, "' and '", name,
             "' overlap");
    PN_CHECK(r.begin == at, w, ": ", r.begin - at, " bytes of data before tensor '", name, "' belong to no tensor");
    at = r.end;
  }
  PN_CHECK(at == data_size, w, ": the last ", data_size - at, " bytes of data belong to no tensor");
  return st;
}

// Writes st to path atomically (io/atomic_file.hpp).
inline void save_safetensors(const std::string& path, const SafeTensors& st) {
  const std::vector<uint8_t> bytes = detail::serialize(st, detail::where(path));
  write_file_atomic(path, bytes.data(), bytes.size());
}

namespace detail {

// Closes a file descriptor on scope exit.
struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace detail

// Reads and checks a whole file.
inline SafeTensors load_safetensors(const std::string& path) {
  const std::string w = detail::where(path);
  // O_NONBLOCK: opening a FIFO for reading would wait for a writer forever; the mode check
  // below refuses it (and anything else not a regular file) at once.
  const detail::FdCloser file{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)};
  if (file.fd < 0) {
    const int err = errno;
    fail(w, ": cannot open: ", detail::errno_text(err));
  }
  struct stat sb {};
  if (::fstat(file.fd, &sb) != 0) {
    const int err = errno;
    fail(w, ": cannot stat: ", detail::errno_text(err));
  }
  PN_CHECK(S_ISREG(sb.st_mode), w, ": not a regular file");
  std::vector<uint8_t> bytes(static_cast<size_t>(sb.st_size));
  size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t r = ::read(file.fd, bytes.data() + got, bytes.size() - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      const int err = errno;
      fail(w, ": read failed: ", detail::errno_text(err));
    }
    if (r == 0) break;  // the file shrank while reading: check what is there
    got += static_cast<size_t>(r);
  }
  bytes.resize(got);
  return parse_safetensors(bytes, path);
}

}  // namespace patchnet::io
