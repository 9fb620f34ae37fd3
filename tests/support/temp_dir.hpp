// TempDir: a fresh, empty directory under the system's temp dir for one test, removed with
// everything in it when the TempDir goes out of scope (errors ignored: a destructor never
// throws). Names are patchnet_<prefix>_<pid>_<n>, n counting per process, so tests that
// run in parallel processes, or several TempDirs in one test, never share a directory.
// Set PATCHNET_KEEP_TEST_FILES in the environment to keep the directories for a look.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace patchnet::test {

struct TempDir {
  std::filesystem::path path;
  const std::filesystem::path& dir = path;  // the same path, for tests that call it dir

  explicit TempDir(const std::string& prefix = "test") {
    static std::atomic<unsigned> counter{0};
    path = std::filesystem::temp_directory_path() /
           ("patchnet_" + prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path);  // a leftover from an earlier process with this pid
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    if (std::getenv("PATCHNET_KEEP_TEST_FILES")) return;
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // The path of `name` inside the directory, as a string.
  std::string file(const std::string& name) const { return (path / name).string(); }

  // The names directly in the directory, sorted (to find leftover temporaries).
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(path)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
};

}  // namespace patchnet::test
