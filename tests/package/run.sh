#!/usr/bin/env bash
# ctest: the ways an application consumes tessera, each from outside the tessera tree.
#   run.sh find_package     BUILD_DIR SOURCE_DIR MODEL_DIR  install, build main.cpp with CMake's
#                                                            find_package(tessera) and core_main.cpp with
#                                                            find_package(tessera COMPONENTS core), run them
#   run.sh pkg_config       BUILD_DIR SOURCE_DIR MODEL_DIR  install, compile and link main.cpp with
#                                                            `pkg-config --cflags --libs tessera` and
#                                                            core_main.cpp with tessera-core's, run them
#   run.sh add_subdirectory BUILD_DIR SOURCE_DIR            configure subdirectory/ (add_subdirectory(tessera)):
#                                                            the library alone unless tools are asked for
set -euo pipefail
mode=$1 build_dir=$2 source_dir=$3 model_dir=${4:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The core component alone must not bring the text, vision or audio components' libraries.
no_text_vision_audio() {
  if grep -Eo -- '(tessera_(text|vision|audio)|pcre2|icu[a-z]*|png|jpeg|soxr)' <<<"$2" | sort -u | grep . >&2; then
    echo "$1 names the libraries above; the core component needs none of them: $2" >&2
    exit 1
  fi
}
case "$mode" in
  find_package)
    cmake --install "$build_dir" --prefix "$work/prefix" > "$work/install.log"
    cmake -S "$source_dir/tests/package" -B "$work/app" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release > "$work/configure.log"
    cmake --build "$work/app" -j2 > "$work/build.log"
    "$work/app/app" "$model_dir"
    cmake -S "$source_dir/tests/package/core" -B "$work/core" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release > "$work/core-configure.log" || { cat "$work/core-configure.log"; exit 1; }
    cmake --build "$work/core" -j2 -- VERBOSE=1 > "$work/core-build.log" || { cat "$work/core-build.log"; exit 1; }
    no_text_vision_audio "core_app's link line" "$(grep -- '-o core_app' "$work/core-build.log")"
    "$work/core/core_app" "$model_dir"
    ;;
  pkg_config)
    cmake --install "$build_dir" --prefix "$work/prefix" > "$work/install.log"
    pc=$(find "$work/prefix" -name tessera.pc)
    [ -n "$pc" ] || { echo "no tessera.pc installed under the prefix" >&2; exit 1; }
    export PKG_CONFIG_PATH=$(dirname "$pc")
    flags=$(pkg-config --cflags --libs tessera)
    echo "pkg-config --cflags --libs tessera: $flags"
    # shellcheck disable=SC2086  # the flags are words
    c++ -O1 "$source_dir/tests/package/main.cpp" -o "$work/app" $flags
    "$work/app" "$model_dir"
    core_flags=$(pkg-config --cflags --libs tessera-core)
    echo "pkg-config --cflags --libs tessera-core: $core_flags"
    no_text_vision_audio "tessera-core's flags" "$core_flags"
    # shellcheck disable=SC2086
    c++ -O1 "$source_dir/tests/package/core_main.cpp" -o "$work/core_app" $core_flags
    "$work/core_app" "$model_dir"
    ;;
  add_subdirectory)
    # Configure only: building is the same library build every other test covers. GTest, CLI11
    # and pybind11 are made unfindable to show that a consumer does not need them.
    cmake -S "$source_dir/tests/package/subdirectory" -B "$work/lib" -DTESSERA_SOURCE_DIR="$source_dir" \
      -DCMAKE_DISABLE_FIND_PACKAGE_GTest=ON -DCMAKE_DISABLE_FIND_PACKAGE_CLI11=ON \
      -DCMAKE_DISABLE_FIND_PACKAGE_pybind11=ON > "$work/lib.log" || { cat "$work/lib.log"; exit 1; }
    cmake -S "$source_dir/tests/package/subdirectory" -B "$work/tools" -DTESSERA_SOURCE_DIR="$source_dir" \
      -DTESSERA_BUILD_EXAMPLES=ON -DEXPECT_TOOLS=ON > "$work/tools.log" || { cat "$work/tools.log"; exit 1; }
    echo "add_subdirectory: the library alone by default, the tools when asked"
    ;;
  *) echo "usage: run.sh find_package|pkg_config|add_subdirectory BUILD_DIR SOURCE_DIR [MODEL_DIR]" >&2; exit 2 ;;
esac
