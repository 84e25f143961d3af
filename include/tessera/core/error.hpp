// tessera::Error: the one exception type the library throws. Its message says what went
// wrong and where (file, tensor or field, expected vs found) so a user can act on it.
#pragma once

#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace tessera {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// Throw an Error with an fmt-formatted message.
template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> f, Args&&... args) {
  throw Error(fmt::format(f, std::forward<Args>(args)...));
}

// Check a condition that depends on input (files, arguments); never compiled out.
#define TESSERA_CHECK(cond, ...)                 \
  do {                                           \
    if (!(cond)) ::tessera::fail(__VA_ARGS__);   \
  } while (0)

}  // namespace tessera
