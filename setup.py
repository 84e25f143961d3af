"""Builds tessera's Python module with CMake for `pip install --no-build-isolation .`
(pyproject.toml holds the package metadata). The extension tessera._tessera is the CMake
target tessera_python, configured with only the library and the module switched on and with
the interpreter pip runs; extra CMake arguments come from the CMAKE_ARGS environment variable
(e.g. CMAKE_ARGS=-DCMAKE_CXX_COMPILER_LAUNCHER=ccache), the build's parallelism from
CMAKE_BUILD_PARALLEL_LEVEL."""

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


def project_version():
    text = (ROOT / "CMakeLists.txt").read_text()
    match = re.search(r"project\(tessera VERSION (\d+\.\d+\.\d+)", text)
    if not match:
        raise RuntimeError("CMakeLists.txt: no 'project(tessera VERSION x.y.z' line to take the version from")
    return match.group(1)


class CMakeExtension(Extension):
    def __init__(self, name):
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build_dir = Path(self.build_temp).resolve() / "cmake"
        configure = [
            "cmake", "-S", str(ROOT), "-B", str(build_dir),
            "-DCMAKE_BUILD_TYPE=Release",
            "-DTESSERA_BUILD_TESTS=OFF", "-DTESSERA_BUILD_EXAMPLES=OFF", "-DTESSERA_INSTALL=OFF",
            "-DTESSERA_BUILD_PYTHON=ON", f"-DPython_EXECUTABLE={sys.executable}",
            *shlex.split(os.environ.get("CMAKE_ARGS", "")),
        ]
        subprocess.run(configure, check=True)
        build = ["cmake", "--build", str(build_dir), "--target", "tessera_python"]
        if self.parallel:
            build += ["--parallel", str(self.parallel)]
        subprocess.run(build, check=True)
        # CMake skips the module (with a note) when it cannot find pybind11 or Python's
        # headers: say so here rather than install a package that cannot import.
        built = sorted((build_dir / "python" / "tessera").glob("_tessera*.so"))
        if not built:
            raise RuntimeError("CMake built no tessera._tessera module: install pybind11-dev and python3-dev "
                               "(bash .ci/setup --tests) and see the CMake output above")
        target = Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built[0], target)


setup(
    version=project_version(),
    ext_modules=[CMakeExtension("tessera._tessera")],
    cmdclass={"build_ext": CMakeBuild},
    # setuptools' own scratch under build/pip, away from a CMake build tree in build/.
    options={"build": {"build_base": "build/pip"}},
)
