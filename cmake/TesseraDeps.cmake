# Optional and extra dependencies of the compiled library, one block per need.

# ICU (libicu-dev): Unicode normalization (NFC/NFD/NFKC/NFKD), case mapping, character
# properties and grapheme breaks for the tokenizers (src/text). Linked once the tessera
# target exists, at the end of the top-level directory.
pkg_check_modules(ICU REQUIRED IMPORTED_TARGET icu-uc)
cmake_language(DEFER DIRECTORY ${PROJECT_SOURCE_DIR} CALL target_link_libraries tessera PRIVATE PkgConfig::ICU)

# libpng and libjpeg (libpng-dev, libjpeg-dev): decoding PNG/JPEG images for vision models
# (src/image). Linked like ICU, once the tessera target exists.
find_package(PNG REQUIRED)
find_package(JPEG REQUIRED)
cmake_language(DEFER DIRECTORY ${PROJECT_SOURCE_DIR} CALL target_link_libraries tessera PRIVATE PNG::PNG JPEG::JPEG)

# libsoxr (libsoxr-dev): resampling WAV audio at any rate to the rate a speech model needs
# (src/audio/resample.cpp). Linked like ICU, once the tessera target exists.
pkg_check_modules(SOXR REQUIRED IMPORTED_TARGET soxr)
cmake_language(DEFER DIRECTORY ${PROJECT_SOURCE_DIR} CALL target_link_libraries tessera PRIVATE PkgConfig::SOXR)
