// Normalizers: NFC, NFD, NFKC, NFKD, Lowercase, StripAccents, Strip, Replace, Prepend,
// BertNormalizer, Nmt, ByteLevel, Precompiled and Sequence, with tokenizers' alignments.
#include <memory>

#include "byte_level.hpp"
#include "components.hpp"
#include "precompiled.hpp"
#include "regex.hpp"
#include "unicode.hpp"

namespace tessera::text {
namespace {

// unicode-normalization-alignments' tables are Unicode 9: later characters do not decompose,
// compose or reorder.
constexpr int kNormalizationMajor = 9;
int old_combining_class(char32_t c) { return assigned_by(c, kNormalizationMajor) ? combining_class(c) : 0; }

// Normalizes with the alignments of unicode-normalization-alignments (what tokenizers uses):
// each character's decomposition is its first character (change 0) plus insertions (+1);
// combining marks are reordered with their changes; composition folds a mark into its
// starter, which takes over the mark's change minus one.
void normalize_form(NormalizedString& n, NormalizationForm form) {
  const std::string& s = n.get();
  bool ascii = true;
  for (char c : s) ascii &= static_cast<unsigned char>(c) < 0x80;
  if (ascii || is_normalized(s, form)) return;
  const bool compat = form == NormalizationForm::kNFKC || form == NormalizationForm::kNFKD;
  const bool compose = form == NormalizationForm::kNFC || form == NormalizationForm::kNFKC;
  const auto decomposition = compat ? NormalizationForm::kNFKD : NormalizationForm::kNFD;
  std::vector<std::pair<char32_t, int>> t;
  t.reserve(s.size());
  std::string one;
  size_t i = 0;
  while (i < s.size()) {
    const char32_t c = next_cp(s, i);
    one.clear();
    append_utf8(one, c);
    const std::string d = (c < 0xC0 && !compat) || !assigned_by(c, kNormalizationMajor) ? one : normalize_utf8(one, decomposition);
    size_t k = 0;
    bool first = true;
    while (k < d.size()) {
      t.emplace_back(next_cp(d, k), first ? 0 : 1);
      first = false;
    }
  }
  // Canonical ordering: stable sort of each run of non-starters by combining class.
  for (size_t a = 0; a < t.size();) {
    if (old_combining_class(t[a].first) == 0) {
      ++a;
      continue;
    }
    size_t b = a;
    while (b < t.size() && old_combining_class(t[b].first) != 0) ++b;
    std::stable_sort(t.begin() + static_cast<std::ptrdiff_t>(a), t.begin() + static_cast<std::ptrdiff_t>(b),
                     [](const auto& x, const auto& y) { return old_combining_class(x.first) < old_combining_class(y.first); });
    a = b;
  }
  if (compose) {
    std::vector<std::pair<char32_t, int>> out;
    out.reserve(t.size());
    int64_t starter = -1;
    int last_cc = 0;
    for (const auto& [c, change] : t) {
      const int cc = old_combining_class(c);
      if (starter >= 0) {
        const bool adjacent = static_cast<size_t>(starter) + 1 == out.size();
        const bool blocked = !adjacent && (last_cc == 0 || last_cc >= cc);
        if (!blocked) {
          const char32_t composite = compose_pair(out[static_cast<size_t>(starter)].first, c);
          if (composite != 0 && assigned_by(composite, kNormalizationMajor)) {
            out[static_cast<size_t>(starter)].first = composite;
            out[static_cast<size_t>(starter)].second += change - 1;
            continue;
          }
        }
      }
      if (cc == 0) starter = static_cast<int64_t>(out.size());
      last_cc = cc;
      out.emplace_back(c, change);
    }
    t = std::move(out);
  }
  n.transform(t, 0);
}

// BertNormalizer's is_control: tab, newline and carriage return count as whitespace.
bool is_other(char32_t c) { return c != '\t' && c != '\n' && c != '\r' && hf_is_other(c); }

class FormNormalizer final : public Normalizer {
 public:
  explicit FormNormalizer(NormalizationForm f) : form_(f) {}
  void normalize(NormalizedString& n) const override { normalize_form(n, form_); }

 private:
  NormalizationForm form_;
};

class LowercaseNormalizer final : public Normalizer {
 public:
  void normalize(NormalizedString& n) const override { n.lowercase(); }
};

class StripAccentsNormalizer final : public Normalizer {
 public:
  void normalize(NormalizedString& n) const override {
    n.filter([](char32_t c) { return !hf_is_combining_mark(c); });
  }
};

class StripNormalizer final : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  void normalize(NormalizedString& n) const override { n.strip(left_, right_); }

 private:
  bool left_, right_;
};

class ReplaceNormalizer final : public Normalizer {
 public:
  ReplaceNormalizer(std::string literal, std::unique_ptr<Regex> regex, std::string content)
      : literal_(std::move(literal)), regex_(std::move(regex)), content_(std::move(content)) {}
  void normalize(NormalizedString& n) const override {
    if (regex_)
      n.replace_matches(regex_->find_all(n.get()), content_);
    else
      n.replace(literal_, content_);
  }

 private:
  std::string literal_;
  std::unique_ptr<Regex> regex_;
  std::string content_;
};

class PrependNormalizer final : public Normalizer {
 public:
  explicit PrependNormalizer(std::string s) : s_(std::move(s)) {}
  void normalize(NormalizedString& n) const override {
    if (!n.empty()) n.prepend(s_);
  }

 private:
  std::string s_;
};

class BertNormalizer final : public Normalizer {
 public:
  BertNormalizer(bool clean_text, bool chinese, bool strip_accents, bool lowercase)
      : clean_text_(clean_text), chinese_(chinese), strip_accents_(strip_accents), lowercase_(lowercase) {}
  void normalize(NormalizedString& n) const override {
    if (clean_text_) {
      n.filter([](char32_t c) { return !(c == 0 || c == 0xFFFD || is_other(c)); });
      bool any = false;
      for (char ch : n.get()) any |= ch == '\t' || ch == '\n' || ch == '\r' || static_cast<unsigned char>(ch) >= 0x80;
      if (any) {
        std::vector<std::pair<char32_t, int>> t;
        const std::string& s = n.get();
        size_t i = 0;
        while (i < s.size()) {
          const char32_t c = next_cp(s, i);
          t.emplace_back(is_whitespace(c) ? U' ' : c, 0);
        }
        n.transform(t, 0);
      }
    }
    if (chinese_) {
      const std::string& s = n.get();
      bool any = false;
      for (char ch : s) any |= static_cast<unsigned char>(ch) >= 0xE3;
      if (any) {
        std::vector<std::pair<char32_t, int>> t;
        size_t i = 0;
        while (i < s.size()) {
          const char32_t c = next_cp(s, i);
          if (is_cjk(c)) {
            t.emplace_back(U' ', 0);
            t.emplace_back(c, 1);
            t.emplace_back(U' ', 1);
          } else {
            t.emplace_back(c, 0);
          }
        }
        n.transform(t, 0);
      }
    }
    if (strip_accents_) {
      normalize_form(n, NormalizationForm::kNFD);
      n.filter([](char32_t c) { return !hf_is_mark_nonspacing(c); });
    }
    if (lowercase_) n.lowercase();
  }

 private:
  bool clean_text_, chinese_, strip_accents_, lowercase_;
};

class NmtNormalizer final : public Normalizer {
 public:
  void normalize(NormalizedString& n) const override {
    n.filter([](char32_t c) {
      return !((c >= 0x01 && c <= 0x08) || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F || c == 0x8F || c == 0x9F);
    });
    std::vector<std::pair<char32_t, int>> t;
    const std::string& s = n.get();
    size_t i = 0;
    while (i < s.size()) {
      char32_t c = next_cp(s, i);
      if (c == 0x09 || c == 0x0A || c == 0x0C || c == 0x0D || c == 0x1680 || (c >= 0x200B && c <= 0x200F) || c == 0x2028 ||
          c == 0x2029 || c == 0x2581 || c == 0xFEFF || c == 0xFFFD)
        c = U' ';
      t.emplace_back(c, 0);
    }
    n.transform(t, 0);
  }
};

class ByteLevelNormalizer final : public Normalizer {
 public:
  void normalize(NormalizedString& n) const override {
    const auto& table = byte_level_table();
    const std::string& s = n.get();
    std::vector<std::pair<char32_t, int>> t;
    size_t i = 0;
    while (i < s.size()) {
      const size_t len = utf8_len(static_cast<unsigned char>(s[i]));
      for (size_t k = 0; k < len; ++k) t.emplace_back(table.byte_to_char[static_cast<unsigned char>(s[i + k])], k > 0);
      i += len;
    }
    n.transform(t, 0);
  }
};

class PrecompiledNormalizer final : public Normalizer {
 public:
  explicit PrecompiledNormalizer(PrecompiledCharsmap map) : map_(std::move(map)) {}
  void normalize(NormalizedString& n) const override { map_.normalize(n); }

 private:
  PrecompiledCharsmap map_;
};

class SequenceNormalizer final : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> items) : items_(std::move(items)) {}
  void normalize(NormalizedString& n) const override {
    for (const auto& x : items_) x->normalize(n);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> items_;
};

}  // namespace

std::unique_ptr<Normalizer> make_normalizer(const json& j, const JsonPath& p) {
  if (j.is_null()) return nullptr;
  const std::string type = type_of(j, p);
  if (type == "NFC") return std::make_unique<FormNormalizer>(NormalizationForm::kNFC);
  if (type == "NFD") return std::make_unique<FormNormalizer>(NormalizationForm::kNFD);
  if (type == "NFKC") return std::make_unique<FormNormalizer>(NormalizationForm::kNFKC);
  if (type == "NFKD") return std::make_unique<FormNormalizer>(NormalizationForm::kNFKD);
  if (type == "Lowercase") return std::make_unique<LowercaseNormalizer>();
  if (type == "StripAccents") return std::make_unique<StripAccentsNormalizer>();
  if (type == "Strip")
    return std::make_unique<StripNormalizer>(opt_bool(j, "strip_left", p, true), opt_bool(j, "strip_right", p, true));
  if (type == "Prepend") return std::make_unique<PrependNormalizer>(req_string(j, "prepend", p));
  if (type == "Replace") {
    const json& pat = req(j, "pattern", p);
    const JsonPath pp = p.at("pattern");
    std::string content = req_string(j, "content", p);
    if (pat.is_object() && pat.contains("Regex"))
      return std::make_unique<ReplaceNormalizer>("", std::make_unique<Regex>(req_string(pat, "Regex", pp), pp.file + ": " + pp.path),
                                                 std::move(content));
    if (pat.is_object() && pat.contains("String"))
      return std::make_unique<ReplaceNormalizer>(req_string(pat, "String", pp), nullptr, std::move(content));
    pp.fail("must be {\"String\": ...} or {\"Regex\": ...}");
  }
  if (type == "BertNormalizer") {
    const bool lowercase = opt_bool(j, "lowercase", p, true);
    bool strip = lowercase;
    if (j.contains("strip_accents") && !j["strip_accents"].is_null()) strip = opt_bool(j, "strip_accents", p, lowercase);
    return std::make_unique<BertNormalizer>(opt_bool(j, "clean_text", p, true), opt_bool(j, "handle_chinese_chars", p, true),
                                            strip, lowercase);
  }
  if (type == "Nmt") return std::make_unique<NmtNormalizer>();
  if (type == "ByteLevel") return std::make_unique<ByteLevelNormalizer>();
  if (type == "Precompiled") {
    const json& v = req(j, "precompiled_charsmap", p);
    if (v.is_null()) return nullptr;
    if (!v.is_string()) p.at("precompiled_charsmap").fail("must be a base64 string");
    return std::make_unique<PrecompiledNormalizer>(PrecompiledCharsmap::from_base64(v.get<std::string>(), p.at("precompiled_charsmap")));
  }
  if (type == "Sequence") {
    const json& arr = req(j, "normalizers", p);
    if (!arr.is_array()) p.at("normalizers").fail("must be an array");
    std::vector<std::unique_ptr<Normalizer>> items;
    for (size_t i = 0; i < arr.size(); ++i)
      if (auto x = make_normalizer(arr[i], p.at("normalizers").index(i))) items.push_back(std::move(x));
    return std::make_unique<SequenceNormalizer>(std::move(items));
  }
  p.at("type").fail("normalizer type '" + type + "' is not supported");
}

}  // namespace tessera::text
