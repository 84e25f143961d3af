// What every tool's command line shares: one meaning for exit codes (0 ok, 1 error,
// 2 usage), stated in each --help. CLI11's own exit codes (104, 106, ...) say which parse
// error happened, which scripts cannot rely on; here every bad command line is 2.
#pragma once

#include <optional>

#include <CLI/CLI.hpp>

namespace tessera::tools {

enum ExitCode { kExitOk = 0, kExitError = 1, kExitUsage = 2 };

inline constexpr const char* kExitCodesHelp =
    "Exit status: 0 success, 1 error (bad model, input or file; message on stderr), 2 bad command line.";

// Parses argv after adding the exit-code footer to --help. Returns the exit code when the
// tool should stop now (0 after --help, 2 after a bad command line, with CLI11's message),
// nullopt when it should go on.
inline std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv) {
  app.footer(kExitCodesHelp);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  return std::nullopt;
}

// A multi-value option takes exactly one value per occurrence (`--stop A --stop B`), so an
// option before a positional never swallows it (`--stop X MODEL`, `-t 1 MODEL`).
inline CLI::Option* one_value_per_flag(CLI::Option* option) { return option->allow_extra_args(false); }

}  // namespace tessera::tools

// In main(): return at once after --help or a bad command line.
#define TESSERA_PARSE_COMMAND_LINE(app, argc, argv) \
  if (auto exit_code_ = ::tessera::tools::parse_command_line(app, argc, argv)) return *exit_code_
