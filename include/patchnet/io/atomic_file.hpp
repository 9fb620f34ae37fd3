// write_file_atomic: replaces a file so that readers, and a crash at any moment, see either
// the old contents or the new ones, never a mix (checkpoints, CSV logs, images).
//
// POSIX steps: write everything to "<path>.tmp.<pid>" in the same directory (a rename is
// only atomic within one file system), fsync it (the data is on disk before the name
// points at it), rename it over path, then fsync the directory (the rename itself is on
// disk). On any failure the temporary file is removed and patchnet::Error names the path,
// the step and strerror; the previous file at path is untouched.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cerrno>
#include <cstddef>
#include <filesystem>
#include <string>
#include <system_error>

#include "patchnet/core/error.hpp"

namespace patchnet::io {

namespace detail {

inline std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

// The directory holding path ("." for a bare name).
inline std::string parent_dir(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace detail

// Removes the "<name>.tmp.<pid>" files of write_file_atomic calls whose process no longer
// runs (a run killed mid-write leaves one); returns how many. Others' live writes are kept.
inline int remove_stale_temporaries(const std::string& dir) {
  namespace fs = std::filesystem;
  int removed = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const size_t at = name.rfind(".tmp.");
    if (at == std::string::npos || at + 5 >= name.size()) continue;
    const std::string digits = name.substr(at + 5);
    if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 9) continue;
    const long pid = std::stol(digits);
    if (pid == static_cast<long>(::getpid())) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // alive, or not ours to judge
    std::error_code rm;
    if (it->is_regular_file(rm) && fs::remove(it->path(), rm)) ++removed;
  }
  return removed;
}

inline void write_file_atomic(const std::string& path, const void* data, size_t n) {
  PN_CHECK(!path.empty(), "write_file_atomic: empty path");
  PN_CHECK(path.back() != '/', "write_file_atomic: ", path, " names a directory, not a file");
  const std::string tmp = path + ".tmp." + std::to_string(static_cast<long>(::getpid()));
  int fd = -1;
  // Any failure: keep errno, close and remove the temporary, throw.
  auto failed = [&](const char* step) {
    const int err = errno;
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    fail("write_file_atomic: cannot write ", path, ": ", step, ": ", detail::errno_text(err));
  };
  fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int err = errno;
    fail("write_file_atomic: cannot write ", path, ": creating ", tmp, ": ", detail::errno_text(err));
  }
  const char* p = static_cast<const char*>(data);
  size_t left = n;
  while (left > 0) {
    const ssize_t w = ::write(fd, p, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      failed(("writing " + tmp).c_str());
    }
    p += w;
    left -= static_cast<size_t>(w);
  }
  if (::fsync(fd) != 0) failed(("fsync of " + tmp).c_str());
  const int fd_closed = fd;
  fd = -1;
  if (::close(fd_closed) != 0) failed(("closing " + tmp).c_str());
  if (::rename(tmp.c_str(), path.c_str()) != 0) failed(("renaming " + tmp + " over it").c_str());
  // The new file is in place; make the rename durable. File systems that cannot fsync a
  // directory say EINVAL, which is not a failure of this write.
  const std::string dir = detail::parent_dir(path);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) {
    const int err = errno;
    fail("write_file_atomic: wrote ", path, " but cannot open its directory ", dir,
         " to fsync it: ", detail::errno_text(err));
  }
  if (::fsync(dfd) != 0 && errno != EINVAL) {
    const int err = errno;
    ::close(dfd);
    fail("write_file_atomic: wrote ", path, " but fsync of its directory ", dir, " failed: ", detail::errno_text(err));
  }
  ::close(dfd);
}

inline void write_file_atomic(const std::string& path, const std::string& contents) {
  write_file_atomic(path, contents.data(), contents.size());
}

// Creates the folder dir (and its parents) and checks that it takes files, before the work
// whose results go there; `who` names the caller in the error.
inline void prepare_output_folder(const std::string& dir, const char* who) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  PN_CHECK(!ec, who, ": cannot create the output folder ", dir, ": ", ec.message());
  write_file_atomic(dir + "/.write_test", "", 0);
  std::filesystem::remove(dir + "/.write_test", ec);
}

}  // namespace patchnet::io
