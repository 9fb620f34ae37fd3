// write_file_atomic (io/atomic_file.hpp) and save_safetensors on top of it: the new
// contents replace the old ones, no temporary file is left behind, and a write that fails
// (a file-size limit hit mid-write, a rename onto a directory, a missing directory) throws
// naming the path and leaves the previous file as it was.
#include <signal.h>
#include <sys/resource.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "patchnet/io/atomic_file.hpp"
#include "patchnet/io/safetensors.hpp"
#include "support/temp_dir.hpp"
#include "support/test_util.hpp"

using namespace patchnet;
namespace fs = std::filesystem;

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("atomic file: writes, replaces, leaves no temporary") {
  test::TempDir tmp("atomic");
  const std::string path = tmp.file("log.csv");
  io::write_file_atomic(path, std::string("step,loss\n"));
  CHECK(read_text(path) == "step,loss\n");
  io::write_file_atomic(path, std::string("step,loss\n1,2.5\n"));
  CHECK(read_text(path) == "step,loss\n1,2.5\n");
  io::write_file_atomic(path, nullptr, 0);
  CHECK(read_text(path).empty());
  CHECK(tmp.entries() == std::vector<std::string>{"log.csv"});
  // A bare name is relative to the working directory (its directory is ".").
  CHECK(io::detail::parent_dir("x.bin") == ".");
  CHECK(io::detail::parent_dir("/x.bin") == "/");
  CHECK(io::detail::parent_dir("a/b/x.bin") == "a/b");
}

TEST_CASE("atomic file: a failed write throws and keeps the previous file") {
  test::TempDir tmp("atomic");
  CHECK_THROWS_PN(
      io::write_file_atomic(tmp.file("none/f.bin"), std::string("x")),
      "write_file_atomic: cannot write " + tmp.file("none/f.bin") + ": creating " + tmp.file("none/f.bin") + ".tmp.");
  CHECK_THROWS_PN(io::write_file_atomic("", std::string("x")), "write_file_atomic: empty path");
  CHECK_THROWS_PN(io::write_file_atomic(tmp.file("d/"), std::string("x")), "names a directory");

  // Renaming onto a non-empty directory fails after the data was written and synced.
  const std::string dir = tmp.file("occupied");
  fs::create_directories(dir + "/inside");
  CHECK_THROWS_PN(io::write_file_atomic(dir, std::string("data")), "cannot write " + dir + ": renaming");
  CHECK(fs::is_directory(dir + "/inside"));
  CHECK(tmp.entries() == std::vector<std::string>{"occupied"});

  // The write itself fails halfway: a file-size limit (RLIMIT_FSIZE) below the new size
  // makes write() return EFBIG once the limit is reached (SIGXFSZ ignored).
  const std::string path = tmp.file("ckpt.safetensors");
  io::SafeTensors old_ckpt;
  old_ckpt.add("w", Tensor<float>::full({4}, 1.5f));
  io::save_safetensors(path, old_ckpt);
  const std::string before = read_text(path);

  io::SafeTensors new_ckpt;
  new_ckpt.add("w", Tensor<float>::full({4096}, 2.5f));
  struct rlimit saved {};
  REQUIRE(getrlimit(RLIMIT_FSIZE, &saved) == 0);
  auto* old_handler = signal(SIGXFSZ, SIG_IGN);
  struct rlimit low = saved;
  low.rlim_cur = 4096;
  bool limited = setrlimit(RLIMIT_FSIZE, &low) == 0;
  std::string message;
  try {
    io::save_safetensors(path, new_ckpt);
  } catch (const Error& e) {
    message = e.what();
  }
  if (limited) setrlimit(RLIMIT_FSIZE, &saved);
  signal(SIGXFSZ, old_handler);
  if (limited) {
    CHECK_MESSAGE(message.find("write_file_atomic: cannot write " + path + ": writing ") != std::string::npos, message);
    CHECK_MESSAGE(message.find("File too large") != std::string::npos, message);
    CHECK(read_text(path) == before);
    CHECK(io::load_safetensors(path).tensor<float>("w").to_vector() == std::vector<float>(4, 1.5f));
    CHECK(tmp.entries() == std::vector<std::string>{"ckpt.safetensors", "occupied"});
  } else {
    MESSAGE("setrlimit(RLIMIT_FSIZE) refused; the mid-write failure was not exercised");
  }
  // Without the limit the same save succeeds.
  io::save_safetensors(path, new_ckpt);
  CHECK(io::load_safetensors(path).tensor<float>("w").numel() == 4096);
}
