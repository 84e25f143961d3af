// Pre-tokenizers: ByteLevel, Split, Whitespace, WhitespaceSplit, BertPreTokenizer,
// Metaspace, Digits, Punctuation, CharDelimiterSplit, UnicodeScripts and Sequence, as in
// tokenizers.
#include <memory>

#include "byte_level.hpp"
#include "components.hpp"
#include "regex.hpp"
#include "unicode.hpp"

namespace tessera::text {

const ByteLevelTable& byte_level_table() {
  static const ByteLevelTable table = [] {
    ByteLevelTable t{};
    t.char_to_byte.fill(-1);
    bool direct[256] = {};
    for (int b = '!'; b <= '~'; ++b) direct[b] = true;
    for (int b = 0xA1; b <= 0xAC; ++b) direct[b] = true;
    for (int b = 0xAE; b <= 0xFF; ++b) direct[b] = true;
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      const char32_t c = direct[b] ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + n++);
      t.byte_to_char[b] = c;
      append_utf8(t.byte_to_utf8[b], c);
      t.char_to_byte[c] = static_cast<int16_t>(b);
    }
    return t;
  }();
  return table;
}

namespace {

bool is_bert_punctuation(char32_t c) {
  return (c < 0x80 && ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126))) ||
         hf_is_punctuation(c);
}

SplitBehavior parse_behavior(const json& j, std::string_view key, const JsonPath& p, SplitBehavior def) {
  if (!j.contains(key) || j[key].is_null()) return def;
  const std::string b = req_string(j, key, p);
  if (b == "Removed") return SplitBehavior::kRemoved;
  if (b == "Isolated") return SplitBehavior::kIsolated;
  if (b == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (b == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (b == "Contiguous") return SplitBehavior::kContiguous;
  p.at(key).fail("is '" + b + "', expected Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous");
}

void invert(std::vector<std::pair<Offsets, bool>>& m) {
  for (auto& x : m) x.second = !x.second;
}

class ByteLevelPre final : public PreTokenizer {
 public:
  ByteLevelPre(bool add_prefix_space, bool use_regex)
      : add_prefix_space_(add_prefix_space), regex_(use_regex ? std::make_unique<Regex>(kGpt2Pattern, "ByteLevel") : nullptr) {}
  void pre_tokenize(PreTokenizedString& pts) const override {
    pts.split([&](size_t, NormalizedString&& n) {
      if (add_prefix_space_ && (n.get().empty() || n.get()[0] != ' ')) n.prepend(" ");
      if (!regex_) return std::vector<NormalizedString>{std::move(n)};
      return n.split(cover_matches(n.size(), regex_->find_all(n.get())), SplitBehavior::kIsolated);
    });
    const auto& table = byte_level_table();
    pts.normalize([&](NormalizedString& n) {
      const std::string& s = n.get();
      std::vector<std::pair<char32_t, int>> t;
      t.reserve(s.size());
      size_t i = 0;
      while (i < s.size()) {
        const size_t len = utf8_len(static_cast<unsigned char>(s[i]));
        for (size_t k = 0; k < len; ++k) t.emplace_back(table.byte_to_char[static_cast<unsigned char>(s[i + k])], k > 0);
        i += len;
      }
      n.transform(t, 0);
    });
  }

 private:
  bool add_prefix_space_;
  std::unique_ptr<Regex> regex_;
};

class SplitPre final : public PreTokenizer {
 public:
  SplitPre(std::string literal, std::unique_ptr<Regex> regex, SplitBehavior behavior, bool invert)
      : literal_(std::move(literal)), regex_(std::move(regex)), behavior_(behavior), invert_(invert) {}
  void pre_tokenize(PreTokenizedString& pts) const override {
    pts.split([&](size_t, NormalizedString&& n) {
      std::vector<Offsets> found;
      if (regex_) {
        found = regex_->find_all(n.get());
      } else if (!literal_.empty()) {
        size_t pos = 0;
        while ((pos = n.get().find(literal_, pos)) != std::string::npos) {
          found.emplace_back(pos, pos + literal_.size());
          pos += literal_.size();
        }
      }
      auto m = cover_matches(n.size(), found);
      if (invert_) invert(m);
      return n.split(m, behavior_);
    });
  }

 private:
  std::string literal_;
  std::unique_ptr<Regex> regex_;
  SplitBehavior behavior_;
  bool invert_;
};

// Splits by a character predicate (each matching character its own match).
class CharSplitPre final : public PreTokenizer {
 public:
  CharSplitPre(std::function<bool(char32_t)> pred, SplitBehavior behavior) : pred_(std::move(pred)), behavior_(behavior) {}
  void pre_tokenize(PreTokenizedString& pts) const override {
    pts.split([&](size_t, NormalizedString&& n) { return n.split(char_matches(n.get(), pred_), behavior_); });
  }

 private:
  std::function<bool(char32_t)> pred_;
  SplitBehavior behavior_;
};

class WhitespacePre final : public PreTokenizer {
 public:
  // tokenizers runs this one on the regex crate, not Oniguruma.
  WhitespacePre() : regex_(R"(\w+|[^\w\s]+)", "Whitespace", RegexSyntax::kRustRegex) {}
  void pre_tokenize(PreTokenizedString& pts) const override {
    pts.split([&](size_t, NormalizedString&& n) {
      auto m = cover_matches(n.size(), regex_.find_all(n.get()));
      invert(m);
      return n.split(m, SplitBehavior::kRemoved);
    });
  }

 private:
  Regex regex_;
};

class BertPre final : public PreTokenizer {
 public:
  void pre_tokenize(PreTokenizedString& pts) const override {
    pts.split([&](size_t, NormalizedString&& n) {
      return n.split(char_matches(n.get(), [](char32_t c) { return is_whitespace(c); }), SplitBehavior::kRemoved);
    });
    pts.split([&](size_t, NormalizedString&& n) {
      return n.split(char_matches(n.get(), is_bert_punctuation), SplitBehavior::kIsolated);
    });
  }
};

class MetaspacePre final : public PreTokenizer {
 public:
  enum class Scheme { kAlways, kFirst, kNever };
  MetaspacePre(std::string replacement, Scheme scheme, bool split)
      : replacement_(std::move(replacement)), scheme_(scheme), split_(split) {
    size_t i = 0;
    replacement_cp_ = replacement_.empty() ? U'\u2581' : next_cp(replacement_, i);
  }
  void pre_tokenize(PreTokenizedString& pts) const override {
    pts.split([&](size_t, NormalizedString&& n) {
      n.replace(" ", replacement_);
      const bool starts = n.get().compare(0, replacement_.size(), replacement_) == 0;
      if (scheme_ == Scheme::kAlways && !starts) n.prepend(replacement_);
      if (scheme_ == Scheme::kFirst && !starts && n.original_range().first == 0) n.prepend(replacement_);
      if (!split_) return std::vector<NormalizedString>{std::move(n)};
      const char32_t r = replacement_cp_;
      return n.split(char_matches(n.get(), [r](char32_t c) { return c == r; }), SplitBehavior::kMergedWithNext);
    });
  }

 private:
  std::string replacement_;
  char32_t replacement_cp_;
  Scheme scheme_;
  bool split_;
};

// UnicodeScripts: splits where the script changes, with tokenizers' own table (Unicode 9.0)
// and its adjustments: Hiragana, Katakana and U+30FC count as Han; spaces and characters
// without a script belong to the piece they are in (and, as in tokenizers, those before the
// first character with a script are dropped).
class UnicodeScriptsPre final : public PreTokenizer {
 public:
  UnicodeScriptsPre() : values_(script_values()) {}
  void pre_tokenize(PreTokenizedString& pts) const override {
    pts.split([&](size_t, NormalizedString&& n) {
      const std::string& s = n.get();
      std::vector<size_t> cuts;
      uint16_t last = 0;
      size_t i = 0;
      while (i < s.size()) {
        const size_t start = i;
        const uint16_t script = fixed_script(next_cp(s, i));
        if (script == 0) continue;
        if (script != last) cuts.push_back(start);
        last = script;
      }
      cuts.push_back(s.size());
      std::vector<NormalizedString> out;
      out.reserve(cuts.size());
      for (size_t k = 0; k + 1 < cuts.size(); ++k) out.push_back(n.slice(cuts[k], cuts[k + 1]));
      return out;
    });
  }

 private:
  // 0 is tokenizers' Script::Any.
  uint16_t fixed_script(char32_t c) const {
    if (c == 0x30FC) return values_.han;
    if (c == ' ') return 0;
    const uint16_t s = script_of(c);
    return s == values_.hiragana || s == values_.katakana ? values_.han : s;
  }
  ScriptValues values_;
};

class SequencePre final : public PreTokenizer {
 public:
  explicit SequencePre(std::vector<std::unique_ptr<PreTokenizer>> items) : items_(std::move(items)) {}
  void pre_tokenize(PreTokenizedString& pts) const override {
    for (const auto& p : items_) p->pre_tokenize(pts);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> items_;
};

}  // namespace

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const json& j, const JsonPath& p) {
  if (j.is_null()) return nullptr;
  const std::string type = type_of(j, p);
  if (type == "ByteLevel")
    return std::make_unique<ByteLevelPre>(opt_bool(j, "add_prefix_space", p, true), opt_bool(j, "use_regex", p, true));
  if (type == "Split") {
    const json& pat = req(j, "pattern", p);
    const JsonPath pp = p.at("pattern");
    const auto behavior = parse_behavior(j, "behavior", p, SplitBehavior::kRemoved);
    const bool inv = opt_bool(j, "invert", p, false);
    if (pat.is_object() && pat.contains("Regex"))
      return std::make_unique<SplitPre>("", std::make_unique<Regex>(req_string(pat, "Regex", pp), pp.at("Regex").file + ": " + pp.at("Regex").path), behavior, inv);
    if (pat.is_object() && pat.contains("String"))
      return std::make_unique<SplitPre>(req_string(pat, "String", pp), nullptr, behavior, inv);
    pp.fail("must be {\"String\": ...} or {\"Regex\": ...}");
  }
  if (type == "Whitespace") return std::make_unique<WhitespacePre>();
  if (type == "WhitespaceSplit")
    return std::make_unique<CharSplitPre>([](char32_t c) { return is_whitespace(c); }, SplitBehavior::kRemoved);
  if (type == "BertPreTokenizer") return std::make_unique<BertPre>();
  if (type == "UnicodeScripts") return std::make_unique<UnicodeScriptsPre>();
  if (type == "Punctuation")
    return std::make_unique<CharSplitPre>(is_bert_punctuation, parse_behavior(j, "behavior", p, SplitBehavior::kIsolated));
  if (type == "Digits") {
    const bool individual = opt_bool(j, "individual_digits", p, false);
    return std::make_unique<CharSplitPre>([](char32_t c) { return is_numeric(c); },
                                          individual ? SplitBehavior::kIsolated : SplitBehavior::kContiguous);
  }
  if (type == "CharDelimiterSplit") {
    const std::string d = req_string(j, "delimiter", p);
    size_t i = 0;
    if (d.empty()) p.at("delimiter").fail("is empty, expected one character");
    const char32_t c = next_cp(d, i);
    return std::make_unique<CharSplitPre>([c](char32_t x) { return x == c; }, SplitBehavior::kRemoved);
  }
  if (type == "Metaspace") {
    std::string rep = opt_string(j, "replacement", p, "\xE2\x96\x81");
    MetaspacePre::Scheme scheme = MetaspacePre::Scheme::kAlways;
    if (j.contains("prepend_scheme") && !j["prepend_scheme"].is_null()) {
      const std::string s = req_string(j, "prepend_scheme", p);
      if (s == "always") scheme = MetaspacePre::Scheme::kAlways;
      else if (s == "first") scheme = MetaspacePre::Scheme::kFirst;
      else if (s == "never") scheme = MetaspacePre::Scheme::kNever;
      else p.at("prepend_scheme").fail("is '" + s + "', expected always, first or never");
    } else if (j.contains("add_prefix_space")) {
      scheme = opt_bool(j, "add_prefix_space", p, true) ? MetaspacePre::Scheme::kAlways : MetaspacePre::Scheme::kNever;
    }
    return std::make_unique<MetaspacePre>(std::move(rep), scheme, opt_bool(j, "split", p, true));
  }
  if (type == "Sequence") {
    const json& arr = req(j, "pretokenizers", p);
    if (!arr.is_array()) p.at("pretokenizers").fail("must be an array");
    std::vector<std::unique_ptr<PreTokenizer>> items;
    for (size_t i = 0; i < arr.size(); ++i)
      if (auto pt = make_pre_tokenizer(arr[i], p.at("pretokenizers").index(i))) items.push_back(std::move(pt));
    return std::make_unique<SequencePre>(std::move(items));
  }
  p.at("type").fail("pre-tokenizer type '" + type + "' is not supported");
}

}  // namespace tessera::text
