// Regex: a compiled PCRE2 pattern (UTF + UCP, JIT) used by the Split and ByteLevel
// pre-tokenizers and the Replace normalizer/decoder. Patterns are written for Oniguruma
// (what Hugging Face uses); translate_onig() adjusts the places where PCRE2 differs,
// character tables included.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "normalized_string.hpp"

namespace tessera::text {

// Whose pattern syntax and character classes to follow: Oniguruma's (Split, Replace,
// ByteLevel: tokenizers' SysRegex) or the regex crate's (the Whitespace pre-tokenizer).
enum class RegexSyntax { kOniguruma, kRustRegex };

class Regex {
 public:
  // Throws tessera::Error naming `origin` when the pattern does not compile.
  Regex(std::string_view pattern, std::string_view origin, RegexSyntax syntax = RegexSyntax::kOniguruma);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Non-overlapping matches as Oniguruma's find_iter reports them (an empty match right
  // after the previous match is skipped). `s` must be valid UTF-8.
  std::vector<Offsets> find_all(std::string_view s) const;
  const std::string& pattern() const { return pattern_; }

 private:
  struct Code;
  std::unique_ptr<Code> code_;
  std::string pattern_;
};

// Rewrites an Oniguruma pattern into PCRE2 syntax with the same meaning: \s and \S mean
// White_Space (PCRE2's UCP \s leaves out U+0085), \w is Oniguruma's word (Alphabetic, M,
// Nd, Pc, and ² ³ ¹ ¼ ½ ¾), \h is a hex digit. The classes whose content depends on the
// Unicode version (\p{<general category>}, \p{Alphabetic}, \p{<script>}, \w, \d, POSIX
// brackets and their negations) are spelled out with Unicode 16 tables, Oniguruma's
// version, since PCRE2 has Unicode 14; other \p{..} (binary properties) are left to PCRE2. With kRustRegex, \w is UTS#18's word
// (Alphabetic, M, Nd, Pc, Join_Control), as the regex crate has it.
std::string translate_onig(std::string_view pattern, RegexSyntax syntax = RegexSyntax::kOniguruma);
// Escapes a literal string for use in a pattern.
std::string regex_escape(std::string_view s);

}  // namespace tessera::text
