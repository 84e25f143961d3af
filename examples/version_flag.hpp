// --version for every tessera-* tool: prints "tessera-NAME X.Y.Z" (TESSERA_VERSION) and exits 0.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "tessera/version.hpp"

namespace tessera::tools {

inline void add_version_flag(CLI::App& app, const std::string& tool) {
  app.set_version_flag("--version", tool + " " + TESSERA_VERSION, "print the version and exit");
}

}  // namespace tessera::tools
