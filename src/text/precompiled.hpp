// PrecompiledCharsmap: SentencePiece's compiled normalization rules (a darts-clone
// double-array trie over UTF-8 plus a blob of replacement strings), as found base64-encoded
// in tokenizer.json's Precompiled normalizer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "components.hpp"

namespace tessera::text {

class PrecompiledCharsmap {
 public:
  static PrecompiledCharsmap from_base64(std::string_view b64, const JsonPath& where);
  // Longest-prefix replacement of s[i..]: returns the replacement and sets *matched_len.
  std::string_view transform(std::string_view s, size_t* matched_len) const;
  void normalize(NormalizedString& n) const;

 private:
  std::vector<uint32_t> trie_;
  std::string normalized_;
};

std::string base64_decode(std::string_view b64, const JsonPath& where);

}  // namespace tessera::text
