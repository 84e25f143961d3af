// Regex over PCRE2 with UTF + UCP and JIT; match data is per thread.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "regex.hpp"

#include <pcre2.h>

#include <algorithm>
#include <functional>
#include <map>
#include <mutex>
#include <optional>

#include "tessera/core/error.hpp"
#include "unicode.hpp"

namespace tessera::text {

struct Regex::Code {
  pcre2_code* code = nullptr;
  ~Code() {
    if (code) pcre2_code_free(code);
  }
};

namespace {

struct MatchData {
  pcre2_match_data* data = nullptr;
  MatchData() : data(pcre2_match_data_create(16, nullptr)) {}
  ~MatchData() { pcre2_match_data_free(data); }
};

pcre2_match_data* thread_match_data() {
  thread_local MatchData md;
  return md.data;
}

}  // namespace

namespace {

constexpr const char* kSpace =
    "\\t\\n\\x{0B}\\f\\r\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}";
// Everything but White_Space, for \S inside a class.
constexpr const char* kNotSpace =
    "\\x{0}-\\x{8}\\x{E}-\\x{1F}\\x{21}-\\x{84}\\x{86}-\\x{9F}\\x{A1}-\\x{167F}\\x{1681}-\\x{1FFF}\\x{200B}-\\x{2027}"
    "\\x{202A}-\\x{202E}\\x{2030}-\\x{205E}\\x{2060}-\\x{2FFF}\\x{3001}-\\x{10FFFF}";
constexpr uint32_t kAllCategories = (1u << 30) - 1;

// A character class of Oniguruma (Unicode 16) expressed for PCRE2 (Unicode 14).
struct ClassSpec {
  std::function<bool(Category, bool, uint16_t)> has;  // (category, alphabetic, script) -> member
  std::string pcre2;  // PCRE2's own spelling of the class, "" when PCRE2 has none to reuse
  CodeRanges extra = {};  // code points it also holds, whatever their properties
  bool extra_outside_class_only = false;  // extra holds only outside a bracket class (\w)
};

ClassSpec category_class(uint32_t mask, std::string pcre2) {
  return {[mask](Category c, bool, uint16_t) { return (category_bit(c) & mask) != 0; }, std::move(pcre2)};
}

uint32_t bits(std::initializer_list<Category> cs) {
  uint32_t m = 0;
  for (auto c : cs) m |= category_bit(c);
  return m;
}

// Oniguruma ignores case, spaces, '_' and '-' in property names.
std::string loose_name(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == ' ' || c == '_' || c == '-') continue;
    out += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  }
  return out;
}

// The classes that depend on the Unicode version: general categories (short and long
// names), Alphabetic, \w and \d. Others (scripts, ...) are left to PCRE2's own tables.
std::optional<ClassSpec> find_class(std::string_view name) {
  using C = Category;
  struct Named {
    const char* shortname;
    const char* longname;
    uint32_t mask;
  };
  static const Named kNamed[] = {
      {"L", "Letter", bits({C::kLu, C::kLl, C::kLt, C::kLm, C::kLo})},
      {"Lu", "Uppercase_Letter", bits({C::kLu})}, {"Ll", "Lowercase_Letter", bits({C::kLl})},
      {"Lt", "Titlecase_Letter", bits({C::kLt})}, {"Lm", "Modifier_Letter", bits({C::kLm})},
      {"Lo", "Other_Letter", bits({C::kLo})},
      {"LC", "Cased_Letter", bits({C::kLu, C::kLl, C::kLt})},
      {"M", "Mark", bits({C::kMn, C::kMc, C::kMe})}, {"Mn", "Nonspacing_Mark", bits({C::kMn})},
      {"Mc", "Spacing_Mark", bits({C::kMc})}, {"Me", "Enclosing_Mark", bits({C::kMe})},
      {"N", "Number", bits({C::kNd, C::kNl, C::kNo})}, {"Nd", "Decimal_Number", bits({C::kNd})},
      {"Nl", "Letter_Number", bits({C::kNl})}, {"No", "Other_Number", bits({C::kNo})},
      {"P", "Punctuation", bits({C::kPc, C::kPd, C::kPs, C::kPe, C::kPi, C::kPf, C::kPo})},
      {"Pc", "Connector_Punctuation", bits({C::kPc})}, {"Pd", "Dash_Punctuation", bits({C::kPd})},
      {"Ps", "Open_Punctuation", bits({C::kPs})}, {"Pe", "Close_Punctuation", bits({C::kPe})},
      {"Pi", "Initial_Punctuation", bits({C::kPi})}, {"Pf", "Final_Punctuation", bits({C::kPf})},
      {"Po", "Other_Punctuation", bits({C::kPo})},
      {"S", "Symbol", bits({C::kSm, C::kSc, C::kSk, C::kSo})}, {"Sm", "Math_Symbol", bits({C::kSm})},
      {"Sc", "Currency_Symbol", bits({C::kSc})}, {"Sk", "Modifier_Symbol", bits({C::kSk})},
      {"So", "Other_Symbol", bits({C::kSo})},
      {"Z", "Separator", bits({C::kZs, C::kZl, C::kZp})}, {"Zs", "Space_Separator", bits({C::kZs})},
      {"Zl", "Line_Separator", bits({C::kZl})}, {"Zp", "Paragraph_Separator", bits({C::kZp})},
      {"C", "Other", bits({C::kCc, C::kCf, C::kCs, C::kCo, C::kCn})}, {"Cc", "Control", bits({C::kCc})},
      {"Cf", "Format", bits({C::kCf})}, {"Cs", "Surrogate", bits({C::kCs})}, {"Co", "Private_Use", bits({C::kCo})},
      {"Cn", "Unassigned", bits({C::kCn})},
  };
  const std::string key = loose_name(name);
  for (const auto& n : kNamed) {
    if (key != loose_name(n.shortname) && key != loose_name(n.longname)) continue;
    // PCRE2 knows the one- and two-letter names (LC as L&).
    return category_class(n.mask, std::string(n.shortname) == "LC" ? "\\p{L&}" : "\\p{" + std::string(n.shortname) + "}");
  }
  if (key == "alphabetic" || key == "alpha") return ClassSpec{[](Category, bool a, uint16_t) { return a; }, "\\p{Alphabetic}"};
  if (key == "word")
    return ClassSpec{[](Category c, bool a, uint16_t) {
                       return a || (category_bit(c) & bits({C::kMn, C::kMc, C::kMe, C::kNd, C::kPc})) != 0;
                     },
                     "\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}",
                     // Oniguruma's \w is Alphabetic, M, Nd and Pc (without UTS#18's
                     // Join_Control); outside a bracket class, below U+0100 it reads a
                     // Latin-1 table that also counts ² ³ ¹ ¼ ½ ¾ (No) (measured on
                     // tokenizers: [\w] does not hold them).
                     {{0xB2, 0xB3}, {0xB9, 0xB9}, {0xBC, 0xBE}},
                     true};
  if (key == "digit") return category_class(bits({C::kNd}), "\\p{Nd}");
  if (key == "any") return category_class(kAllCategories, "");
  if (key == "assigned") return category_class(kAllCategories & ~bits({C::kCn}), "");
  // Scripts: Oniguruma's \p{Han} is the Script property (PCRE2's is Script_Extensions), so
  // these are always listed in full. Short aliases (Hani) are resolved by ICU.
  const auto names = regex_script_names();
  const std::string alias = loose_name(script_long_name(name));
  for (size_t k = 0; k < names.size(); ++k) {
    const std::string script = loose_name(names[k]);
    if (script != key && script != alias) continue;
    const auto id = static_cast<uint16_t>(k + 1);
    return ClassSpec{[id](Category, bool, uint16_t script) { return script == id; }, ""};
  }
  return std::nullopt;
}

// Oniguruma's POSIX brackets ([:alpha:] inside a class) on Unicode, as measured on
// tokenizers: alpha Alphabetic, digit Nd, alnum Alphabetic | Nd, upper Lu | Other_Uppercase,
// lower Ll | Other_Lowercase, punct P | S, word Alphabetic | M | Nd | Pc, graph everything
// but Z, Cc, Cn and Cs, print graph | Zs, cntrl Cc, blank Zs | tab, space White_Space
// (handled by the caller), xdigit and ascii ASCII.
std::optional<ClassSpec> find_posix_class(std::string_view name) {
  using C = Category;
  const auto cats = [](uint32_t mask) { return category_class(mask, ""); };
  if (name == "alpha") return ClassSpec{[](Category, bool a, uint16_t) { return a; }, ""};
  if (name == "digit") return cats(bits({C::kNd}));
  if (name == "alnum") return ClassSpec{[](Category c, bool a, uint16_t) { return a || c == C::kNd; }, ""};
  if (name == "upper") return ClassSpec{cats(bits({C::kLu})).has, "", regex_other_uppercase()};
  if (name == "lower") return ClassSpec{cats(bits({C::kLl})).has, "", regex_other_lowercase()};
  if (name == "punct")
    return cats(bits({C::kPc, C::kPd, C::kPs, C::kPe, C::kPi, C::kPf, C::kPo, C::kSm, C::kSc, C::kSk, C::kSo}));
  if (name == "word")
    return ClassSpec{[](Category c, bool a, uint16_t) {
                       return a || (category_bit(c) & bits({C::kMn, C::kMc, C::kMe, C::kNd, C::kPc})) != 0;
                     },
                     ""};
  if (name == "graph") return cats(kAllCategories & ~bits({C::kZs, C::kZl, C::kZp, C::kCc, C::kCn, C::kCs}));
  if (name == "print") return cats(kAllCategories & ~bits({C::kZl, C::kZp, C::kCc, C::kCn, C::kCs}));
  if (name == "cntrl") return cats(bits({C::kCc}));
  if (name == "blank") return ClassSpec{cats(bits({C::kZs})).has, "", {{0x09, 0x09}}};
  if (name == "xdigit") return ClassSpec{cats(0).has, "", {{'0', '9'}, {'A', 'F'}, {'a', 'f'}}};
  if (name == "ascii") return ClassSpec{cats(0).has, "", {{0, 0x7F}}};
  return std::nullopt;
}

void append_ranges(std::string& out, const CodeRanges& ranges) {
  for (const auto& [a, b] : ranges) {
    // Surrogates cannot occur in valid UTF-8 and PCRE2 rejects them in a UTF pattern.
    const char32_t lo = a, hi = b;
    if (lo >= 0xD800 && hi <= 0xDFFF) continue;
    const auto put = [&](char32_t x, char32_t y) {
      out += fmt::format("\\x{{{:X}}}", static_cast<uint32_t>(x));
      if (y != x) out += fmt::format("-\\x{{{:X}}}", static_cast<uint32_t>(y));
    };
    if (lo < 0xD800 && hi > 0xDFFF) {
      put(lo, 0xD7FF);
      put(0xE000, hi);
    } else if (lo < 0xD800 && hi >= 0xD800) {
      put(lo, 0xD7FF);
    } else if (lo <= 0xDFFF && hi > 0xDFFF) {
      put(0xE000, hi);
    } else {
      put(lo, hi);
    }
  }
}

bool pcre2_is_base_version() {
  static const bool same = [] {
    char buf[32] = {};
    if (pcre2_config(PCRE2_CONFIG_UNICODE_VERSION, buf) < 0) return false;
    return std::string_view(buf) == pcre2_base_unicode_version();
  }();
  return same;
}

// The body of a bracket class (no brackets) for `spec`, negated or not. When PCRE2's
// tables (Unicode 14) are a subset of the wanted ones, PCRE2's own \p{..} is kept and only
// the code points added since are listed, which keeps the compiled class small and fast;
// otherwise every range is listed.
std::string class_body(const ClassSpec& spec, bool negated) {
  const auto target = [&](const RegexCharProps& p) { return spec.has(p.category, p.alphabetic, p.script); };
  // Only for classes without a script (pcre2 spelling set), so the script does not matter.
  const auto base = [&](const RegexCharProps& p) { return spec.has(p.pcre2_category, p.pcre2_alphabetic, p.script); };
  std::string out;
  if (!negated && !spec.pcre2.empty() && pcre2_is_base_version() &&
      regex_ranges_where([&](const RegexCharProps& p) { return base(p) && !target(p); }).empty()) {
    out = spec.pcre2;
    append_ranges(out, regex_ranges_where([&](const RegexCharProps& p) { return target(p) && !base(p); }));
    append_ranges(out, spec.extra);
    return out;
  }
  CodeRanges r = regex_ranges_where(target);
  if (!spec.extra.empty()) {
    r.insert(r.end(), spec.extra.begin(), spec.extra.end());
    std::sort(r.begin(), r.end());
    CodeRanges merged;
    for (const auto& x : r) {
      if (!merged.empty() && x.first <= merged.back().second + 1)
        merged.back().second = std::max(merged.back().second, x.second);
      else
        merged.push_back(x);
    }
    r = std::move(merged);
  }
  if (negated) {
    CodeRanges inv;
    char32_t next = 0;
    for (const auto& [a, b] : r) {
      if (a > next) inv.emplace_back(next, a - 1);
      next = b + 1;
    }
    if (next <= 0x10FFFF) inv.emplace_back(next, 0x10FFFF);
    r = std::move(inv);
  }
  append_ranges(out, r);
  return out;
}

const std::string& cached_body(std::string_view name, ClassSpec spec, bool negated, bool in_class) {
  // The expansions are the same for every pattern: compute each once per process.
  static std::mutex mu;
  static std::map<std::string, std::string, std::less<>> cache;
  const std::string key = std::string(negated ? "^" : "") + (in_class ? "[" : "") + loose_name(name);
  if (in_class && spec.extra_outside_class_only) spec.extra.clear();
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, class_body(spec, negated)).first;
  return it->second;
}

}  // namespace

std::string translate_onig(std::string_view p, RegexSyntax syntax) {
  std::string out;
  bool in_class = false;
  // Set after an expansion inside a class: a '-' right after it is a literal in Oniguruma
  // but would make a range with the last listed code point in PCRE2.
  bool after_expansion = false;
  // A class body: as is inside [...], wrapped in [...] outside.
  const auto put = [&](const std::string& body) {
    out += in_class ? body : "[" + body + "]";
    after_expansion = in_class;
  };
  const auto put_named = [&](std::string_view name, bool negated) {
    auto spec = find_class(name);
    if (!spec) return false;
    std::string key(name);
    if (syntax == RegexSyntax::kRustRegex && loose_name(name) == "word") {
      // The regex crate's \w is UTS#18's word: Join_Control instead of Oniguruma's Latin-1
      // additions.
      spec->extra = {{0x200C, 0x200D}};
      spec->pcre2 += "\\p{Join_Control}";
      key = "rust word";
    }
    const std::string& body = cached_body(key, *spec, negated, in_class && syntax == RegexSyntax::kOniguruma);
    // An empty class matches nothing: PCRE2 cannot spell [], (?!) can.
    if (body.empty()) {
      if (!in_class) out += "(?!)";
    } else
      put(body);
    return true;
  };
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '-' && in_class && after_expansion) {
      out += "\\-";
      after_expansion = false;
      continue;
    }
    after_expansion = false;
    if (c == '\\' && i + 1 < p.size()) {
      const char n = p[i + 1];
      if ((n == 'p' || n == 'P') && i + 2 < p.size() && p[i + 2] == '{') {
        const size_t close = p.find('}', i + 3);
        if (close != std::string_view::npos) {
          std::string_view name = p.substr(i + 3, close - i - 3);
          bool negated = n == 'P';
          if (!name.empty() && name[0] == '^') {
            negated = !negated;
            name.remove_prefix(1);
          }
          if (put_named(name, negated)) {
            i = close;
            continue;
          }
        }
        out += c;
        out += n;
      } else if (n == 's') {
        put(kSpace);
      } else if (n == 'S') {
        put(in_class ? kNotSpace : std::string("^") + kSpace);
      } else if (n == 'w' || n == 'W') {
        put_named("word", n == 'W');
      } else if (n == 'd' || n == 'D') {
        put_named("digit", n == 'D');
      } else if (n == 'h') {
        put("0-9a-fA-F");
      } else if (n == 'H') {
        put(in_class ? "\\x{0}-\\x{2F}\\x{3A}-\\x{40}\\x{47}-\\x{60}\\x{67}-\\x{10FFFF}" : "^0-9a-fA-F");
      } else {
        out += c;
        out += n;
      }
      ++i;
      continue;
    }
    if (c == '[' && in_class && i + 1 < p.size() && p[i + 1] == ':') {
      // A POSIX bracket: [:name:] or [:^name:].
      const size_t close = p.find(":]", i + 2);
      if (close != std::string_view::npos) {
        std::string_view name = p.substr(i + 2, close - i - 2);
        const bool negated = !name.empty() && name[0] == '^';
        if (negated) name.remove_prefix(1);
        if (name == "space") {
          put(negated ? kNotSpace : kSpace);
          i = close + 1;
          continue;
        }
        if (const auto spec = find_posix_class(name)) {
          out += cached_body(std::string("posix ") + std::string(name), *spec, negated, true);
          after_expansion = true;
          i = close + 1;
          continue;
        }
      }
    }
    if (c == '[' && !in_class) {
      in_class = true;
      out += c;
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];  // a literal ] first in a class
      continue;
    }
    if (c == ']' && in_class) in_class = false;
    out += c;
  }
  return out;
}

std::string regex_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::string_view("\\^$.|?*+()[]{}-/#&~ ").find(c) != std::string_view::npos) {
      if (c == ' ') {
        out += "\\x20";
        continue;
      }
      out += '\\';
    }
    out += c;
  }
  return out;
}

Regex::Regex(std::string_view pattern, std::string_view origin, RegexSyntax syntax)
    : code_(std::make_unique<Code>()), pattern_(pattern) {
  const std::string translated = translate_onig(pattern, syntax);
  int err = 0;
  PCRE2_SIZE err_off = 0;
  code_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(),
                              PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &err, &err_off, nullptr);
  if (code_->code == nullptr) {
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(err, buf, sizeof(buf));
    fail("{}: cannot compile the regex '{}': {} at offset {}", origin, pattern, reinterpret_cast<const char*>(buf),
         err_off);
  }
  pcre2_jit_compile(code_->code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter
}

Regex::~Regex() = default;

std::vector<Offsets> Regex::find_all(std::string_view s) const {
  std::vector<Offsets> out;
  pcre2_match_data* md = thread_match_data();
  size_t start = 0;
  bool have_last = false;
  size_t last_end = 0;
  while (start <= s.size()) {
    const int rc = pcre2_match(code_->code, reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(), start,
                               PCRE2_NO_UTF_CHECK, md, nullptr);
    if (rc < 0) {
      if (rc == PCRE2_ERROR_NOMATCH) break;
      fail("regex '{}': matching failed (PCRE2 error {})", pattern_, rc);
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    const size_t b = ov[0], e = ov[1];
    if (b == e && have_last && last_end == e) {
      if (start >= s.size()) break;
      start += utf8_len(static_cast<unsigned char>(s[start]));
      continue;
    }
    out.emplace_back(b, e);
    have_last = true;
    last_end = e;
    start = e;
    if (b == e) {
      // Oniguruma retries from the same place and skips the repeated empty match above.
      continue;
    }
  }
  return out;
}

}  // namespace tessera::text
