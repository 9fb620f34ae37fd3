// libFuzzer harness: the programs' command line. The input is split at NUL bytes into
// arguments, parsed with the flags every example program declares (examples/common/run.hpp)
// and checked as a run would check them before its first step.
#include <string>
#include <vector>

#include "common/run.hpp"  // examples/ (tools/fuzz.sh puts it on the include path)
#include "fuzz_support.hpp"

using namespace patchnet;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> args{"fuzz"};
  std::string cur;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      args.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(static_cast<char>(data[i]));
    }
  }
  if (!cur.empty()) args.push_back(cur);
  for (const std::string& a : args)
    if (a == "--help" || a == "-h") return 0;  // prints the flags and returns: nothing to check
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  fuzz::expect_only_patchnet_errors([&] {
    examples::Cli cli("fuzz", "fuzzed command line");
    examples::add_common_flags(cli, examples::Defaults{}, "fuzz");
    if (!cli.parse(static_cast<int>(argv.size()), argv.data())) return;
    examples::Common c = examples::read_common(cli);
    examples::check_common(c);
  });
  return 0;
}
