#!/usr/bin/env bash
# The pip route, checked by hand: a fresh venv on Debian's python3 (with its numpy and pytest),
# `pip install --no-build-isolation .` of this repository with no package index, then the
# pytest suite against the installed package, run from outside the tree. Not a ctest test: a
# cold pip build compiles the whole library (about 25 min on a busy 2-core machine).
#   python/check_pip_install.sh          (CMAKE_ARGS / CMAKE_BUILD_PARALLEL_LEVEL pass through to CMake)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 -m venv --system-site-packages "$work/venv"
"$work/venv/bin/pip" install --no-build-isolation --no-index "$src"
cd "$work"
"$work/venv/bin/python" - "$work/venv" <<'PY'
import sys, tessera
assert tessera.__file__.startswith(sys.argv[1]), f"imported {tessera.__file__}, not the venv's package"
print(f"installed: {tessera.__file__} (tessera {tessera.__version__})")
PY
"$work/venv/bin/python" -m pytest -q -p no:cacheprovider "$src/python/tests"
