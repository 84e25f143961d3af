// UTF-8 helpers, the character properties (ICU where its Unicode version agrees with what
// tokenizers uses, the generated tables in unicode_tables.inc where it does not) and the
// ICU normalization forms.
#include "unicode.hpp"

#include <algorithm>

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/ustring.h>

#include "tessera/core/error.hpp"

namespace tessera::text {

namespace tables {
struct CategoryRange {
  char32_t first, last;
  uint8_t category;
};
struct Range {
  char32_t first, last;
};
struct ScriptRange {
  char32_t first, last;
  uint16_t script;
};
#include "unicode_tables.inc"
}  // namespace tables

namespace {

// The entry of a sorted range table holding c, or nullptr.
template <typename T, size_t N>
const T* find_range(const T (&table)[N], char32_t c) {
  const T* it = std::upper_bound(table, table + N, c, [](char32_t x, const T& r) { return x < r.first; });
  if (it == table) return nullptr;
  --it;
  return c <= it->last ? it : nullptr;
}

Category regex_category(char32_t c) {
  const auto* r = find_range(tables::kRegexCategories, c);
  return r ? static_cast<Category>(r->category) : Category::kCn;
}

}  // namespace

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

namespace {

// Length of the well-formed sequence at s[i], or 0 with *bad set to the length of the
// maximal ill-formed subpart (at least 1), following Unicode's Table 3-7.
size_t well_formed_len(std::string_view s, size_t i, size_t* bad) {
  const auto at = [&](size_t k) -> int { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : -1; };
  const int b0 = at(0);
  if (b0 < 0x80) return 1;
  int need = 0, lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    *bad = 1;
    return 0;
  }
  for (int k = 1; k <= need; ++k) {
    const int b = at(static_cast<size_t>(k));
    const int l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
    if (b < l || b > h) {
      *bad = static_cast<size_t>(k);
      return 0;
    }
  }
  return static_cast<size_t>(need) + 1;
}

const icu::Normalizer2* normalizer(NormalizationForm form) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* n = nullptr;
  switch (form) {
    case NormalizationForm::kNFC: n = icu::Normalizer2::getNFCInstance(status); break;
    case NormalizationForm::kNFD: n = icu::Normalizer2::getNFDInstance(status); break;
    case NormalizationForm::kNFKC: n = icu::Normalizer2::getNFKCInstance(status); break;
    case NormalizationForm::kNFKD: n = icu::Normalizer2::getNFKDInstance(status); break;
  }
  if (U_FAILURE(status) || n == nullptr) fail("ICU: cannot load the Unicode normalization data ({})", u_errorName(status));
  return n;
}

}  // namespace

size_t find_invalid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    size_t bad = 0;
    const size_t n = well_formed_len(s, i, &bad);
    if (n == 0) return i;
    i += n;
  }
  return std::string_view::npos;
}

void check_utf8(std::string_view s, std::string_view what) {
  const size_t bad = find_invalid_utf8(s);
  if (bad != std::string_view::npos)
    fail("tokenizer: {} is not valid UTF-8 (byte 0x{:02X} at offset {}); decode it to UTF-8 first", what,
         static_cast<unsigned char>(s[bad]), bad);
}

std::string utf8_lossy(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  size_t i = 0;
  while (i < bytes.size()) {
    size_t bad = 0;
    const size_t n = well_formed_len(bytes, i, &bad);
    if (n > 0) {
      out.append(bytes.substr(i, n));
      i += n;
    } else {
      out.append("\xEF\xBF\xBD");
      i += bad;
    }
  }
  return out;
}

size_t count_cps(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

bool is_whitespace(char32_t c) {
  if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0D);
  return u_hasBinaryProperty(static_cast<UChar32>(c), UCHAR_WHITE_SPACE);
}
bool is_alphabetic(char32_t c) {
  if (c < 0x80) return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
  return u_hasBinaryProperty(static_cast<UChar32>(c), UCHAR_ALPHABETIC);
}
bool is_numeric(char32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  // Rust's std is on Unicode 17, ICU 72 on 15.0.
  return find_range(tables::kStdNumeric, c) != nullptr;
}
bool is_control(char32_t c) { return u_charType(static_cast<UChar32>(c)) == U_CONTROL_CHAR; }
bool is_other_category(char32_t c) {
  const auto mask = U_MASK(u_charType(static_cast<UChar32>(c)));
  return (mask & U_GC_C_MASK) != 0;
}
bool is_punctuation(char32_t c) {
  const auto mask = U_MASK(u_charType(static_cast<UChar32>(c)));
  return (mask & U_GC_P_MASK) != 0;
}
bool is_mark_nonspacing(char32_t c) { return u_charType(static_cast<UChar32>(c)) == U_NON_SPACING_MARK; }
bool is_word_char(char32_t c) {
  if (c < 0x80) return c == '_' || is_alphabetic(c) || is_numeric(c);
  constexpr uint32_t kMask = category_bit(Category::kMn) | category_bit(Category::kMc) | category_bit(Category::kMe) |
                             category_bit(Category::kNd) | category_bit(Category::kPc);
  return c == 0x200C || c == 0x200D || find_range(tables::kRegexAlphabetic, c) != nullptr ||
         (category_bit(regex_category(c)) & kMask) != 0;
}
bool is_cjk(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// The tables of the unicode_categories crate (Unicode 8.0) and of
// unicode-normalization-alignments (9.0): characters assigned later are in none of them,
// and those whose category changed since keep their old one.
bool hf_is_other(char32_t c) {
  if (c < 0x80) return c < 0x20 || c == 0x7F;
  return find_range(tables::kCategoriesOther, c) != nullptr;
}
bool hf_is_mark_nonspacing(char32_t c) { return c >= 0x300 && find_range(tables::kCategoriesNonspacingMark, c) != nullptr; }
bool hf_is_combining_mark(char32_t c) { return c >= 0x300 && find_range(tables::kNormalizationCombiningMark, c) != nullptr; }
bool hf_is_punctuation(char32_t c) {
  if (c < 0x80) return is_punctuation(c);
  return find_range(tables::kCategoriesPunctuation, c) != nullptr;
}

size_t lowercase_count(char32_t c, char32_t out[4]) {
  if (c < 0x80) {
    out[0] = (c >= 'A' && c <= 'Z') ? c + 32 : c;
    return 1;
  }
  // Rust's std is on Unicode 17 (ICU 72 on 15.0): the generated mappings.
  for (const auto& m : tables::kStdLowercaseMulti) {
    if (m.from != c) continue;
    size_t n = 0;
    while (n < 3 && m.to[n] != 0) {
      out[n] = m.to[n];
      ++n;
    }
    return n;
  }
  const auto* r = find_range(tables::kStdLowercase, c);
  out[0] = r && (c - r->first) % r->stride == 0 ? static_cast<char32_t>(static_cast<int32_t>(c) + r->delta) : c;
  return 1;
}

void append_lowercase(std::string& out, char32_t c) {
  char32_t buf[4];
  const size_t n = lowercase_count(c, buf);
  for (size_t k = 0; k < n; ++k) append_utf8(out, buf[k]);
}

std::string normalize_utf8(std::string_view s, NormalizationForm form) {
  UErrorCode status = U_ZERO_ERROR;
  const auto src = icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), static_cast<int32_t>(s.size())));
  const icu::UnicodeString dst = normalizer(form)->normalize(src, status);
  if (U_FAILURE(status)) fail("ICU: normalization failed ({})", u_errorName(status));
  std::string out;
  dst.toUTF8String(out);
  return out;
}

bool assigned_by(char32_t c, int major) {
  UVersionInfo age;
  u_charAge(static_cast<UChar32>(c), age);
  return age[0] != 0 && age[0] <= major;
}

int combining_class(char32_t c) { return c < 0x300 ? 0 : u_getCombiningClass(static_cast<UChar32>(c)); }

char32_t compose_pair(char32_t a, char32_t b) {
  const UChar32 r = normalizer(NormalizationForm::kNFC)->composePair(static_cast<UChar32>(a), static_cast<UChar32>(b));
  return r < 0 ? 0 : static_cast<char32_t>(r);
}

bool has_boundary_before(char32_t c, NormalizationForm form) {
  return normalizer(form)->hasBoundaryBefore(static_cast<UChar32>(c));
}

bool is_normalized(std::string_view s, NormalizationForm form) {
  UErrorCode status = U_ZERO_ERROR;
  const auto src = icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), static_cast<int32_t>(s.size())));
  const bool r = normalizer(form)->isNormalized(src, status);
  return U_SUCCESS(status) && r;
}

CodeRanges regex_ranges_where(const std::function<bool(const RegexCharProps&)>& pred) {
  // Every property is constant between two consecutive table boundaries: evaluate the
  // predicate once per such segment instead of once per code point.
  std::vector<char32_t> cuts{0, 0x110000};
  const auto add = [&](const auto& table) {
    for (const auto& r : table) {
      cuts.push_back(r.first);
      cuts.push_back(r.last + 1);
    }
  };
  add(tables::kRegexCategories);
  add(tables::kRegexAlphabetic);
  add(tables::kPcre2CategoryChanges);
  add(tables::kPcre2AlphabeticChanges);
  add(tables::kRegexScripts);
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  CodeRanges out;
  for (size_t k = 0; k + 1 < cuts.size(); ++k) {
    const char32_t c = cuts[k];
    RegexCharProps p{};
    p.category = regex_category(c);
    const auto* changed = find_range(tables::kPcre2CategoryChanges, c);
    p.pcre2_category = changed ? static_cast<Category>(changed->category) : p.category;
    p.alphabetic = find_range(tables::kRegexAlphabetic, c) != nullptr;
    const auto* script = find_range(tables::kRegexScripts, c);
    p.script = script ? script->script : 0;
    p.pcre2_alphabetic = p.alphabetic != (find_range(tables::kPcre2AlphabeticChanges, c) != nullptr);
    if (!pred(p)) continue;
    if (!out.empty() && out.back().second + 1 == c)
      out.back().second = cuts[k + 1] - 1;
    else
      out.emplace_back(c, cuts[k + 1] - 1);
  }
  return out;
}

const char* pcre2_base_unicode_version() { return tables::kPcre2UnicodeVersion; }

namespace {
template <size_t N>
CodeRanges to_ranges(const tables::Range (&table)[N]) {
  CodeRanges out;
  for (const auto& r : table) out.emplace_back(r.first, r.last);
  return out;
}
}  // namespace

CodeRanges regex_other_uppercase() { return to_ranges(tables::kRegexOtherUppercase); }
CodeRanges regex_other_lowercase() { return to_ranges(tables::kRegexOtherLowercase); }

std::string script_long_name(std::string_view alias) {
  // ICU knows the aliases (Hani, Latn, ...) of every script up to its Unicode version.
  const std::string a(alias);
  const int32_t v = u_getPropertyValueEnum(UCHAR_SCRIPT, a.c_str());
  if (v == UCHAR_INVALID_CODE) return {};
  const char* name = u_getPropertyValueName(UCHAR_SCRIPT, v, U_LONG_PROPERTY_NAME);
  return name ? name : "";
}

std::vector<std::string_view> regex_script_names() {
  return {std::begin(tables::kRegexScriptNames), std::end(tables::kRegexScriptNames)};
}

uint16_t script_of(char32_t c) {
  const auto* r = find_range(tables::kScripts, c);
  return r ? r->script : 0;
}

ScriptValues script_values() { return {tables::kScriptHan, tables::kScriptHiragana, tables::kScriptKatakana}; }

}  // namespace tessera::text
