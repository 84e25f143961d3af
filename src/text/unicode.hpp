// UTF-8 and Unicode character helpers for the tokenizers: decoding, validation, Rust-like
// character classes (char::is_whitespace, is_alphanumeric, ...) and ICU normalization.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tessera::text {

// Length of the UTF-8 sequence starting with `lead` (1 for a stray continuation byte).
inline size_t utf8_len(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xE0) return lead < 0xC0 ? 1 : 2;
  if (lead < 0xF0) return 3;
  return 4;
}

// Decodes the code point at s[i] (s must be valid UTF-8) and advances i past it.
inline char32_t next_cp(std::string_view s, size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) { ++i; return b0; }
  if (b0 < 0xE0) {
    char32_t c = ((b0 & 0x1Fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3Fu);
    i += 2;
    return c;
  }
  if (b0 < 0xF0) {
    char32_t c = ((b0 & 0x0Fu) << 12) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 6) |
                 (static_cast<unsigned char>(s[i + 2]) & 0x3Fu);
    i += 3;
    return c;
  }
  char32_t c = ((b0 & 0x07u) << 18) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 12) |
               ((static_cast<unsigned char>(s[i + 2]) & 0x3Fu) << 6) | (static_cast<unsigned char>(s[i + 3]) & 0x3Fu);
  i += 4;
  return c;
}

// Decodes the code point that ends at s[i) (s valid UTF-8) and moves i back to its start.
inline char32_t prev_cp(std::string_view s, size_t& i) {
  size_t j = i - 1;
  while (j > 0 && (static_cast<unsigned char>(s[j]) & 0xC0) == 0x80) --j;
  i = j;
  size_t k = j;
  return next_cp(s, k);
}

void append_utf8(std::string& out, char32_t c);
inline size_t cp_utf8_len(char32_t c) { return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4; }

// Offset of the first byte that does not start a well-formed UTF-8 sequence, or npos.
size_t find_invalid_utf8(std::string_view s);
// Throws tessera::Error when s is not valid UTF-8 (`what` names the input).
void check_utf8(std::string_view s, std::string_view what);
// Rust's String::from_utf8_lossy: each maximal ill-formed subpart becomes one U+FFFD.
std::string utf8_lossy(std::string_view bytes);
// Number of code points in valid UTF-8.
size_t count_cps(std::string_view s);

// Character classes with the meaning of Rust's char methods.
bool is_whitespace(char32_t c);    // White_Space
bool is_alphabetic(char32_t c);    // Alphabetic
bool is_numeric(char32_t c);       // general category Nd | Nl | No
inline bool is_alphanumeric(char32_t c) { return is_alphabetic(c) || is_numeric(c); }
bool is_control(char32_t c);       // general category Cc
bool is_other_category(char32_t c);  // general category C* (Cc, Cf, Cs, Co, Cn)
bool is_punctuation(char32_t c);   // general category P*
bool is_mark_nonspacing(char32_t c);  // general category Mn
bool is_word_char(char32_t c);     // regex \w: Alphabetic, M, Nd, Pc, Join_Control
bool is_cjk(char32_t c);
// The categories tokenizers takes from the unicode_categories crate, whose tables stop at an
// old Unicode version: characters assigned later are in none of them.
bool hf_is_other(char32_t c);            // Cc | Cf | Co
bool hf_is_mark_nonspacing(char32_t c);  // Mn
bool hf_is_punctuation(char32_t c);      // P*
// unicode-normalization-alignments' is_combining_mark (StripAccents): any M* category.
bool hf_is_combining_mark(char32_t c);           // the CJK ranges BERT isolates
// Appends the full lowercase mapping of c, as Rust's char::to_lowercase.
void append_lowercase(std::string& out, char32_t c);
size_t lowercase_count(char32_t c, char32_t out[4]);

enum class NormalizationForm { kNFC, kNFD, kNFKC, kNFKD };
// Normalizes a (small) valid UTF-8 string.
std::string normalize_utf8(std::string_view s, NormalizationForm form);
// Whether a normalization segment can start before c (no interaction with what precedes).
bool has_boundary_before(char32_t c, NormalizationForm form);
// Whether c was assigned by Unicode `major`.0 (the old tables some of tokenizers' crates use).
bool assigned_by(char32_t c, int major);
// Canonical combining class, and the primary composite of a + b (0 when none).
int combining_class(char32_t c);
char32_t compose_pair(char32_t a, char32_t b);
// Whether s is already in the given form (fast path).
bool is_normalized(std::string_view s, NormalizationForm form);

}  // namespace tessera::text
