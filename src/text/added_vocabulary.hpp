// AddedVocabulary: the added and special tokens of a tokenizer (<|endoftext|>, [CLS], ...),
// found in the text before the model runs: non-normalized ones in the raw text, normalized
// ones after normalization, leftmost-longest, with lstrip/rstrip/single_word as tokenizers.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "components.hpp"

namespace tessera::text {

struct AddedToken {
  std::string content;
  int32_t id = 0;
  bool single_word = false, lstrip = false, rstrip = false, normalized = false, special = false;
};

class AddedVocabulary {
 public:
  void build(std::vector<AddedToken> tokens, const Normalizer* normalizer);
  // Splits `text` around added tokens and normalizes the rest (tokenizers'
  // extract_and_normalize); `shift` is the byte offset of text in the encoded input.
  PreTokenizedString extract_and_normalize(const Normalizer* normalizer, std::string_view text) const;

  std::optional<int32_t> token_to_id(std::string_view t) const;
  std::optional<std::string> id_to_token(int32_t id) const;
  bool is_special(int32_t id) const;
  const std::vector<AddedToken>& tokens() const { return tokens_; }

 private:
  struct Trie {
    struct Node {
      std::vector<std::pair<unsigned char, int32_t>> next;
      int32_t token = -1;
    };
    std::vector<Node> nodes{Node{}};
    void insert(std::string_view s, int32_t token);
    // Longest token starting at s[i], or -1; sets *end.
    int32_t longest(std::string_view s, size_t i, size_t* end) const;
    bool empty() const { return nodes.size() == 1; }
  };
  std::vector<std::pair<Offsets, int32_t>> find_matches(std::string_view s, const Trie& trie) const;
  std::vector<Split> split_with_indices(NormalizedString&& n, const Trie& trie) const;

  std::vector<AddedToken> tokens_;
  std::unordered_map<std::string, int32_t> by_content_;
  std::unordered_map<int32_t, size_t> by_id_;
  Trie raw_, normalized_;
};

}  // namespace tessera::text
