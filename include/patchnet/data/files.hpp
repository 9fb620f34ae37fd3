// File helpers of the data readers: absolute paths for messages (a relative path in an
// error does not say where the program looked) and a checked whole-file binary read.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include "patchnet/core/error.hpp"

namespace patchnet::data {

// `p` made absolute and normalised, for messages; `p` itself if that fails.
inline std::string absolute_path(const std::filesystem::path& p) {
  std::error_code ec;
  const auto a = std::filesystem::absolute(p, ec);
  return (ec ? p : a).lexically_normal().string();
}

// The bytes of a regular file. `op` starts the messages; a missing, unreadable or short
// file throws naming its absolute path. An empty file is returned empty.
inline std::vector<uint8_t> read_file_bytes(const std::filesystem::path& file, const char* op,
                                            const std::string& hint = "") {
  namespace fs = std::filesystem;
  const std::string name = absolute_path(file);
  std::error_code ec;
  PN_CHECK(fs::exists(file, ec), op, ": ", name, ": file not found", hint);
  PN_CHECK(fs::is_regular_file(file, ec), op, ": ", name, ": not a regular file");
  const uintmax_t size = fs::file_size(file, ec);
  PN_CHECK(!ec, op, ": ", name, ": cannot read its size: ", ec.message());
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  if (size == 0) return bytes;
  std::ifstream in(file, std::ios::binary);
  PN_CHECK(in.is_open(), op, ": ", name, ": cannot open for reading");
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
  PN_CHECK(in.gcount() == static_cast<std::streamsize>(size), op, ": ", name, ": read ", in.gcount(), " of ", size,
           " bytes");
  return bytes;
}

}  // namespace patchnet::data
