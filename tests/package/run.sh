#!/usr/bin/env bash
# ctest: install the built tree into a temporary prefix, build the outside app against it,
# run it on the bundled model.
set -euo pipefail
build_dir=$1 source_dir=$2 model_dir=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" > "$work/install.log"
cmake -S "$source_dir/tests/package" -B "$work/app" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release > "$work/configure.log"
cmake --build "$work/app" -j2 > "$work/build.log"
"$work/app/app" "$model_dir"
