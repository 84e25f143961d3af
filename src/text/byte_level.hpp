// GPT-2's reversible map between the 256 byte values and printable Unicode characters,
// used by the ByteLevel pre-tokenizer (bytes → characters) and decoder (characters → bytes).
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace tessera::text {

struct ByteLevelTable {
  std::array<char32_t, 256> byte_to_char;
  std::array<std::string, 256> byte_to_utf8;
  // Inverse: characters U+0000..U+0143 (all the map uses) → byte, or -1.
  std::array<int16_t, 0x144> char_to_byte;
};

const ByteLevelTable& byte_level_table();

// The GPT-2 pre-tokenization regex that ByteLevel uses.
inline constexpr const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

}  // namespace tessera::text
