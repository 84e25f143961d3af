# The compiled library's dependencies beyond fmt, nlohmann-json and threads, one block per
# need; each is linked PRIVATE to the one component that uses it (CMakeLists.txt).

# PCRE2 (libpcre2-dev): the tokenizers' pre-tokenizer regexes (src/text/regex.cpp); ICU
# (libicu-dev): Unicode normalization (NFC/NFD/NFKC/NFKD), case mapping, character properties
# and grapheme breaks. tessera::text.
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
pkg_check_modules(ICU REQUIRED IMPORTED_TARGET icu-uc)

# libpng and libjpeg (libpng-dev, libjpeg-dev): decoding PNG/JPEG images for vision models
# (src/image). tessera::vision.
find_package(PNG REQUIRED)
find_package(JPEG REQUIRED)

# libsoxr (libsoxr-dev): resampling WAV audio at any rate to the rate a speech model needs
# (src/audio/resample.cpp). tessera::audio.
pkg_check_modules(SOXR REQUIRED IMPORTED_TARGET soxr)
