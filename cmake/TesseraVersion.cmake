# include/tessera/version.hpp, generated from project(tessera VERSION ...) so that the version
# is written in one place. It lands in the build tree (<build>/include/tessera/version.hpp, on
# the library's include path) and is installed beside the other headers.
configure_file(${CMAKE_CURRENT_LIST_DIR}/version.hpp.in ${PROJECT_BINARY_DIR}/include/tessera/version.hpp @ONLY)
