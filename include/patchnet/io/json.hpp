// A small JSON reader and writer (RFC 8259), enough for file headers such as safetensors'.
//
// - parse() is strict: one value, then only whitespace; strings must be valid UTF-8 and may
//   not hold raw control characters; nesting deeper than max_depth is refused (so hostile
//   input cannot exhaust the stack). Errors throw patchnet::Error "<where>: <what> at byte
//   <offset>", the offset counted from the start of the parsed text.
// - Numbers keep their literal text, so 64-bit offsets read back exactly (as_uint64,
//   as_int64) and nothing is lost to a double on the way.
// - Objects keep their members in file order, duplicates included; find() returns the first.
//   A caller that must reject duplicate keys checks for them itself (and can then name what
//   the key means).
// - dump() writes compact JSON: no spaces, non-ASCII UTF-8 written as is, '"' and '\\'
//   escaped, control characters as \b \f \n \r \t or \u00xx (what Python's
//   json.dumps(ensure_ascii=False) writes).
#pragma once

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "patchnet/core/error.hpp"

namespace patchnet::io::json {

class Value {
 public:
  enum class Kind { Null, Bool, Number, String, Array, Object };

  Value() = default;
  static Value null() { return Value(); }
  static Value boolean(bool b) {
    Value v(Kind::Bool);
    v.bool_ = b;
    return v;
  }
  static Value number(int64_t i) {
    Value v(Kind::Number);
    v.text_ = std::to_string(i);
    return v;
  }
  static Value number(uint64_t i) {
    Value v(Kind::Number);
    v.text_ = std::to_string(i);
    return v;
  }
  // The literal must be a valid JSON number (checked).
  static Value number_literal(std::string literal);
  static Value string(std::string s) {
    Value v(Kind::String);
    v.text_ = std::move(s);
    return v;
  }
  static Value array() { return Value(Kind::Array); }
  static Value object() { return Value(Kind::Object); }

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::Null; }
  bool is_bool() const { return kind_ == Kind::Bool; }
  bool is_number() const { return kind_ == Kind::Number; }
  bool is_string() const { return kind_ == Kind::String; }
  bool is_array() const { return kind_ == Kind::Array; }
  bool is_object() const { return kind_ == Kind::Object; }
  static const char* kind_name(Kind k) {
    switch (k) {
      case Kind::Null:
        return "null";
      case Kind::Bool:
        return "a boolean";
      case Kind::Number:
        return "a number";
      case Kind::String:
        return "a string";
      case Kind::Array:
        return "an array";
      case Kind::Object:
        return "an object";
    }
    return "?";
  }
  const char* kind_name() const { return kind_name(kind_); }

  bool as_bool() const { return bool_; }
  // String: the decoded string. Number: its literal text.
  const std::string& text() const { return text_; }
  // The number as an exact integer, or nullopt if it has a fraction or exponent, or does
  // not fit.
  std::optional<uint64_t> as_uint64() const {
    if (kind_ != Kind::Number || text_.empty() || text_[0] == '-') return std::nullopt;
    uint64_t out = 0;
    auto [end, ec] = std::from_chars(text_.data(), text_.data() + text_.size(), out);
    if (ec != std::errc() || end != text_.data() + text_.size()) return std::nullopt;
    return out;
  }
  std::optional<int64_t> as_int64() const {
    if (kind_ != Kind::Number) return std::nullopt;
    int64_t out = 0;
    auto [end, ec] = std::from_chars(text_.data(), text_.data() + text_.size(), out);
    if (ec != std::errc() || end != text_.data() + text_.size()) return std::nullopt;
    return out;
  }
  double as_double() const { return std::strtod(text_.c_str(), nullptr); }

  const std::vector<Value>& items() const { return items_; }
  std::vector<Value>& items() { return items_; }
  const std::vector<std::pair<std::string, Value>>& members() const { return members_; }
  std::vector<std::pair<std::string, Value>>& members() { return members_; }

  // Appends to an array / object (no duplicate check).
  Value& push_back(Value v) {
    PN_CHECK(kind_ == Kind::Array, "json: push_back on ", kind_name());
    items_.push_back(std::move(v));
    return items_.back();
  }
  Value& set(std::string key, Value v) {
    PN_CHECK(kind_ == Kind::Object, "json: set on ", kind_name());
    members_.emplace_back(std::move(key), std::move(v));
    return members_.back().second;
  }
  // The first member with this key, or null.
  const Value* find(std::string_view key) const {
    for (const auto& [k, v] : members_)
      if (k == key) return &v;
    return nullptr;
  }

 private:
  explicit Value(Kind k) : kind_(k) {}
  Kind kind_ = Kind::Null;
  bool bool_ = false;
  std::string text_;
  std::vector<Value> items_;
  std::vector<std::pair<std::string, Value>> members_;
};

namespace detail {

// Length of the valid UTF-8 sequence starting at s[i] (1..4), or 0 if it is invalid
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
inline size_t utf8_sequence(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t n;
  uint32_t cp;
  if (c >= 0xC2 && c <= 0xDF) n = 2, cp = c & 0x1F;
  else if (c >= 0xE0 && c <= 0xEF) n = 3, cp = c & 0x0F;
  else if (c >= 0xF0 && c <= 0xF4) n = 4, cp = c & 0x07;
  else return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

inline void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class Parser {
 public:
  Parser(std::string_view s, const std::string& where, int max_depth) : s_(s), where_(where), max_depth_(max_depth) {}

  Value parse_document() {
    skip_ws();
    Value v = parse_value(0);
    skip_ws();
    if (i_ != s_.size()) error("unexpected '", printable(s_[i_]), "' after the JSON value");
    return v;
  }

  // Length of a JSON number literal at s[i], or 0 if there is none.
  static size_t number_length(std::string_view s, size_t i) {
    const size_t start = i;
    auto digit = [&](size_t k) { return k < s.size() && s[k] >= '0' && s[k] <= '9'; };
    if (i < s.size() && s[i] == '-') ++i;
    if (!digit(i)) return 0;
    if (s[i] == '0') ++i;
    else
      while (digit(i)) ++i;
    if (i < s.size() && s[i] == '.') {
      if (!digit(++i)) return 0;
      while (digit(i)) ++i;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
      ++i;
      if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
      if (!digit(i)) return 0;
      while (digit(i)) ++i;
    }
    return i - start;
  }

 private:
  template <class... Args>
  [[noreturn]] void error(Args&&... args) const {
    fail(where_, ": ", std::forward<Args>(args)..., " at byte ", i_);
  }
  static std::string printable(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F) return std::string(1, c);
    static const char* hex = "0123456789abcdef";
    return std::string("\\x") + hex[u >> 4] + hex[u & 15];
  }

  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }

  Value parse_value(int depth) {
    if (i_ >= s_.size()) error("unexpected end of the JSON text");
    const char c = s_[i_];
    if (c == '{' || c == '[') {
      if (depth >= max_depth_) error("JSON nested deeper than ", max_depth_, " levels");
      return c == '{' ? parse_object(depth + 1) : parse_array(depth + 1);
    }
    if (c == '"') return Value::string(parse_string());
    if (c == '-' || (c >= '0' && c <= '9')) {
      const size_t n = number_length(s_, i_);
      if (n == 0) error("malformed number");
      Value v = Value::number_literal(std::string(s_.substr(i_, n)));
      i_ += n;
      return v;
    }
    if (s_.substr(i_, 4) == "true") return i_ += 4, Value::boolean(true);
    if (s_.substr(i_, 5) == "false") return i_ += 5, Value::boolean(false);
    if (s_.substr(i_, 4) == "null") return i_ += 4, Value::null();
    error("unexpected '", printable(c), "' where a JSON value should start");
  }

  Value parse_object(int depth) {
    Value obj = Value::object();
    ++i_;  // '{'
    skip_ws();
    if (i_ < s_.size() && s_[i_] == '}') return ++i_, obj;
    while (true) {
      skip_ws();
      if (i_ >= s_.size() || s_[i_] != '"') expect_error("a '\"' starting an object key");
      std::string key = parse_string();
      skip_ws();
      if (i_ >= s_.size() || s_[i_] != ':') expect_error("':' after the object key");
      ++i_;
      skip_ws();
      Value v = parse_value(depth);
      obj.set(std::move(key), std::move(v));
      skip_ws();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < s_.size() && s_[i_] == '}') return ++i_, obj;
      expect_error("',' or '}' in an object");
    }
  }

  Value parse_array(int depth) {
    Value arr = Value::array();
    ++i_;  // '['
    skip_ws();
    if (i_ < s_.size() && s_[i_] == ']') return ++i_, arr;
    while (true) {
      skip_ws();
      arr.push_back(parse_value(depth));
      skip_ws();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < s_.size() && s_[i_] == ']') return ++i_, arr;
      expect_error("',' or ']' in an array");
    }
  }

  [[noreturn]] void expect_error(const char* what) const {
    if (i_ >= s_.size()) error("unexpected end of the JSON text, expected ", what);
    error("expected ", what, ", found '", printable(s_[i_]), "'");
  }

  uint32_t hex4() {
    if (i_ + 4 > s_.size()) error("truncated \\u escape");
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s_[i_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<uint32_t>(c - 'A' + 10);
      else error("bad hex digit '", printable(c), "' in a \\u escape");
    }
    return v;
  }

  std::string parse_string() {
    ++i_;  // '"'
    std::string out;
    while (true) {
      if (i_ >= s_.size()) error("unterminated string");
      const char c = s_[i_];
      if (c == '"') {
        ++i_;
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20) error("raw control character ", printable(c), " in a string");
      if (c != '\\') {
        const size_t n = utf8_sequence(s_, i_);
        if (n == 0) error("invalid UTF-8 in a string");
        out.append(s_.substr(i_, n));
        i_ += n;
        continue;
      }
      if (++i_ >= s_.size()) error("unterminated string");
      const char e = s_[i_++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          uint32_t cp = hex4();
          if (cp >= 0xDC00 && cp <= 0xDFFF) error("unpaired low surrogate in a \\u escape");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (s_.substr(i_, 2) != "\\u") error("unpaired high surrogate in a \\u escape");
            i_ += 2;
            const uint32_t lo = hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) error("high surrogate not followed by a low one");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          append_utf8(out, cp);
          break;
        }
        default:
          --i_, error("unknown escape '\\", printable(e), "'");
      }
    }
  }

  std::string_view s_;
  const std::string& where_;
  int max_depth_;
  size_t i_ = 0;
};

}  // namespace detail

inline Value Value::number_literal(std::string literal) {
  PN_CHECK(!literal.empty() && detail::Parser::number_length(literal, 0) == literal.size(), "json: '", literal,
           "' is not a JSON number");
  Value v(Kind::Number);
  v.text_ = std::move(literal);
  return v;
}

// Parses one JSON document. `where` starts every error message (e.g. the file name).
inline Value parse(std::string_view text, const std::string& where = "json", int max_depth = 64) {
  return detail::Parser(text, where, max_depth).parse_document();
}

// Appends s as a JSON string literal; throws if s is not valid UTF-8.
inline void write_string(std::string& out, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  out += '"';
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const size_t n = detail::utf8_sequence(s, i);
      PN_CHECK(n != 0, "json: string is not valid UTF-8 (byte ", i, ")");
      out.append(s.substr(i, n));
      i += n;
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

inline void write(std::string& out, const Value& v) {
  switch (v.kind()) {
    case Value::Kind::Null:
      out += "null";
      break;
    case Value::Kind::Bool:
      out += v.as_bool() ? "true" : "false";
      break;
    case Value::Kind::Number:
      out += v.text();
      break;
    case Value::Kind::String:
      write_string(out, v.text());
      break;
    case Value::Kind::Array: {
      out += '[';
      bool first = true;
      for (const Value& item : v.items()) {
        if (!first) out += ',';
        first = false;
        write(out, item);
      }
      out += ']';
      break;
    }
    case Value::Kind::Object: {
      out += '{';
      bool first = true;
      for (const auto& [key, item] : v.members()) {
        if (!first) out += ',';
        first = false;
        write_string(out, key);
        out += ':';
        write(out, item);
      }
      out += '}';
      break;
    }
  }
}

// Compact JSON text of v.
inline std::string dump(const Value& v) {
  std::string out;
  write(out, v);
  return out;
}

}  // namespace patchnet::io::json
