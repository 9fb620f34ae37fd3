// The one exception type of patchnet, and the checks that throw it.
//
// Every message starts with the op or file that failed, then the shapes and what is
// wrong: "depthwise_conv2d: input [8,32,32,256] vs weight [5,5,128]: channels differ".
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace patchnet {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
template <class... Args>
std::string concat(Args&&... args) {
  std::ostringstream s;
  (s << ... << std::forward<Args>(args));
  return s.str();
}
}  // namespace detail

// Throws patchnet::Error with the arguments streamed into one message.
template <class... Args>
[[noreturn]] void fail(Args&&... args) {
  throw Error(detail::concat(std::forward<Args>(args)...));
}

}  // namespace patchnet

// PN_CHECK(cond, "op: ", shape, " must be ...") throws patchnet::Error when cond is false.
#define PN_CHECK(cond, ...)                     \
  do {                                          \
    if (!(cond)) ::patchnet::fail(__VA_ARGS__); \
  } while (0)
