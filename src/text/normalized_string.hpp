// NormalizedString: a piece of the input after normalization, remembering for every byte
// which bytes of the original input it came from, so every token gets original offsets.
// It follows the alignment rules of Hugging Face's NormalizedString exactly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tessera::text {

using Offsets = std::pair<size_t, size_t>;

enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

class NormalizedString {
 public:
  NormalizedString() = default;
  // The whole of `original`, with original offsets starting at `shift`.
  explicit NormalizedString(std::string_view original, size_t shift = 0);

  const std::string& get() const { return text_; }
  bool empty() const { return text_.empty(); }
  size_t size() const { return text_.size(); }
  // Original byte range [begin, end) covered by the whole string.
  Offsets original_range() const { return {orig_begin_, orig_end_}; }

  // Original offsets of the normalized byte range [begin, end).
  Offsets convert_offsets(size_t begin, size_t end) const;

  // Replaces the text by `chars`, each with its change: 0 replaces the next original
  // character, +1 is inserted (aligned like the character before it), -n replaces the next
  // character and removes the n after it. `initial_offset` characters are removed first.
  void transform(const std::vector<std::pair<char32_t, int>>& chars, size_t initial_offset = 0);
  // Same, but only on the normalized byte range [begin, end).
  void transform_range(size_t begin, size_t end, const std::vector<std::pair<char32_t, int>>& chars,
                       size_t initial_offset);

  void prepend(std::string_view s);
  void append(std::string_view s);
  void lowercase();
  void filter(const std::function<bool(char32_t)>& keep);
  // Maps every character to zero or more characters (first keeps the alignment).
  void map_chars(const std::function<void(char32_t, std::vector<char32_t>&)>& fn);
  void strip(bool left, bool right);
  void replace(std::string_view pattern, std::string_view content);  // literal pattern
  void replace_matches(const std::vector<Offsets>& matches, std::string_view content);

  // The normalized byte range [begin, end) as its own NormalizedString.
  NormalizedString slice(size_t begin, size_t end) const;
  // Splits by matches (each a normalized byte range, true = matched) covering the string.
  std::vector<NormalizedString> split(const std::vector<std::pair<Offsets, bool>>& matches,
                                      SplitBehavior behavior) const;

 private:
  std::string text_;
  std::vector<Offsets> align_;  // per normalized byte: original range of its character
  size_t orig_begin_ = 0, orig_end_ = 0;
};

// Matches of a character predicate, each matching character its own match, as HF does.
std::vector<std::pair<Offsets, bool>> char_matches(std::string_view s, const std::function<bool(char32_t)>& pred);
// Turns a list of (begin, end) match ranges into a full cover with match flags.
std::vector<std::pair<Offsets, bool>> cover_matches(size_t size, const std::vector<Offsets>& matches);

}  // namespace tessera::text
