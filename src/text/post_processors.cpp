// Post-processors: TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel and
// Sequence, adding special tokens and type ids the way tokenizers does.
#include <map>
#include <memory>

#include "byte_level.hpp"
#include "components.hpp"
#include "unicode.hpp"

namespace tessera::text {

void append_encoding(Encoding& a, const Encoding& b) {
  a.ids.insert(a.ids.end(), b.ids.begin(), b.ids.end());
  a.offsets.insert(a.offsets.end(), b.offsets.begin(), b.offsets.end());
  a.special_mask.insert(a.special_mask.end(), b.special_mask.begin(), b.special_mask.end());
  a.type_ids.insert(a.type_ids.end(), b.type_ids.begin(), b.type_ids.end());
  a.attention_mask.insert(a.attention_mask.end(), b.attention_mask.begin(), b.attention_mask.end());
  a.tokens.insert(a.tokens.end(), b.tokens.begin(), b.tokens.end());
  a.word_ids.insert(a.word_ids.end(), b.word_ids.begin(), b.word_ids.end());
}

void trim_byte_level_offsets(Encoding& e, bool add_prefix_space) {
  const auto& table = byte_level_table();
  const char32_t space = table.byte_to_char[' '];
  for (size_t i = 0; i < e.ids.size(); ++i) {
    const std::string& t = e.tokens[i];
    auto& off = e.offsets[i];
    std::vector<char32_t> cps;
    size_t k = 0;
    while (k < t.size()) cps.push_back(next_cp(t, k));
    const auto is_sp = [&](char32_t c) { return c == space || is_whitespace(c); };
    size_t leading = 0, trailing = 0;
    while (leading < cps.size() && is_sp(cps[leading])) ++leading;
    while (trailing < cps.size() && is_sp(cps[cps.size() - 1 - trailing])) ++trailing;
    if (leading == 0 && trailing == 0) continue;
    if (leading > 0) {
      const bool is_first = i == 0 || off.first == 0;
      if (is_first && add_prefix_space && leading == 1) leading = 0;
      off.first = std::min(off.first + leading, off.second);
    }
    if (trailing > 0 && off.second >= trailing) off.second = std::max(off.second - trailing, off.first);
  }
}

namespace {

Encoding special_encoding(const std::vector<int32_t>& ids, const std::vector<std::string>& tokens, int32_t type_id) {
  Encoding e;
  e.ids = ids;
  e.tokens = tokens;
  e.type_ids.assign(ids.size(), type_id);
  e.offsets.assign(ids.size(), {0, 0});
  e.special_mask.assign(ids.size(), 1);
  e.attention_mask.assign(ids.size(), 1);
  e.word_ids.assign(ids.size(), std::nullopt);
  return e;
}

class ByteLevelPost final : public PostProcessor {
 public:
  ByteLevelPost(bool trim_offsets, bool add_prefix_space) : trim_(trim_offsets), add_prefix_space_(add_prefix_space) {}
  size_t added_tokens(bool) const override { return 0; }
  std::vector<Encoding> process_encodings(std::vector<Encoding> encs, bool) const override {
    if (trim_)
      for (auto& e : encs) trim_byte_level_offsets(e, add_prefix_space_);
    return encs;
  }

 private:
  bool trim_, add_prefix_space_;
};

// BertProcessing and RobertaProcessing: [CLS] A [SEP] (B [SEP]) and <s> A </s> (</s> B </s>).
class ClsSepPost final : public PostProcessor {
 public:
  ClsSepPost(std::pair<std::string, int32_t> cls, std::pair<std::string, int32_t> sep, bool roberta, bool trim_offsets,
             bool add_prefix_space)
      : cls_(std::move(cls)), sep_(std::move(sep)), roberta_(roberta), trim_(trim_offsets), add_prefix_space_(add_prefix_space) {}
  size_t added_tokens(bool is_pair) const override { return is_pair ? (roberta_ ? 4 : 3) : 2; }
  std::vector<Encoding> process_encodings(std::vector<Encoding> encs, bool add_special_tokens) const override {
    if (roberta_ && trim_)
      for (auto& e : encs) trim_byte_level_offsets(e, add_prefix_space_);
    if (!add_special_tokens) return encs;
    std::vector<Encoding> out;
    for (size_t i = 0; i < encs.size(); ++i) {
      Encoding& e = encs[i];
      if (roberta_) e.type_ids.assign(e.ids.size(), 0);
      Encoding r;
      if (i == 0) {
        r = special_encoding({cls_.second}, {cls_.first}, 0);
      } else if (roberta_) {
        r = special_encoding({sep_.second}, {sep_.first}, 0);
      }
      if (i == 0 || roberta_) {
        append_encoding(r, e);
      } else {
        r = e;
      }
      append_encoding(r, special_encoding({sep_.second}, {sep_.first}, roberta_ || i == 0 ? 0 : 1));
      out.push_back(std::move(r));
    }
    return out;
  }

 private:
  std::pair<std::string, int32_t> cls_, sep_;
  bool roberta_, trim_, add_prefix_space_;
};

class TemplatePost final : public PostProcessor {
 public:
  struct Piece {
    bool is_sequence;
    int which;       // sequence 0 (A) or 1 (B)
    std::string id;  // special token name
    int32_t type_id;
  };
  struct Special {
    std::vector<int32_t> ids;
    std::vector<std::string> tokens;
  };
  std::vector<Piece> single, pair;
  std::map<std::string, Special> specials;

  size_t count(const std::vector<Piece>& t) const {
    size_t n = 0;
    for (const auto& p : t)
      if (!p.is_sequence) n += specials.at(p.id).ids.size();
    return n;
  }
  size_t added_tokens(bool is_pair) const override { return count(is_pair ? pair : single); }
  std::vector<Encoding> process_encodings(std::vector<Encoding> encs, bool add_special_tokens) const override {
    const auto& t = encs.size() > 1 ? pair : single;
    std::vector<Encoding> out;
    for (const auto& p : t) {
      if (p.is_sequence) {
        const size_t i = static_cast<size_t>(p.which);
        if (i >= encs.size()) continue;
        Encoding e = encs[i];
        e.type_ids.assign(e.ids.size(), p.type_id);
        out.push_back(std::move(e));
      } else if (add_special_tokens) {
        const Special& s = specials.at(p.id);
        out.push_back(special_encoding(s.ids, s.tokens, p.type_id));
      }
    }
    return out;
  }
};

class SequencePost final : public PostProcessor {
 public:
  explicit SequencePost(std::vector<std::unique_ptr<PostProcessor>> items) : items_(std::move(items)) {}
  size_t added_tokens(bool is_pair) const override {
    size_t n = 0;
    for (const auto& p : items_) n += p->added_tokens(is_pair);
    return n;
  }
  std::vector<Encoding> process_encodings(std::vector<Encoding> encs, bool add_special_tokens) const override {
    for (const auto& p : items_) encs = p->process_encodings(std::move(encs), add_special_tokens);
    return encs;
  }

 private:
  std::vector<std::unique_ptr<PostProcessor>> items_;
};

std::pair<std::string, int32_t> token_pair(const json& j, std::string_view key, const JsonPath& p) {
  const json& v = req(j, key, p);
  if (!v.is_array() || v.size() != 2 || !v[0].is_string() || !v[1].is_number_integer())
    p.at(key).fail("must be [\"token\", id]");
  return {v[0].get<std::string>(), v[1].get<int32_t>()};
}

std::vector<TemplatePost::Piece> parse_template(const json& j, std::string_view key, const JsonPath& p,
                                                const TemplatePost& post) {
  std::vector<TemplatePost::Piece> out;
  const json& arr = req(j, key, p);
  const JsonPath ap = p.at(key);
  if (arr.is_string()) {  // "[CLS] $A [SEP]" shorthand
    const std::string s = arr.get<std::string>();
    size_t i = 0;
    while (i < s.size()) {
      while (i < s.size() && s[i] == ' ') ++i;
      size_t e = s.find(' ', i);
      if (e == std::string::npos) e = s.size();
      if (e == i) break;
      std::string piece = s.substr(i, e - i);
      int32_t type_id = 0;
      if (auto colon = piece.rfind(':'); colon != std::string::npos && colon + 1 < piece.size() &&
                                         piece.find_first_not_of("0123456789", colon + 1) == std::string::npos) {
        type_id = std::stoi(piece.substr(colon + 1));
        piece = piece.substr(0, colon);
      }
      if (piece == "$A" || piece == "$" || piece == "$0")
        out.push_back({true, 0, "", type_id});
      else if (piece == "$B" || piece == "$1")
        out.push_back({true, 1, "", type_id});
      else
        out.push_back({false, 0, piece, type_id});
      i = e;
    }
  } else if (arr.is_array()) {
    for (size_t i = 0; i < arr.size(); ++i) {
      const json& e = arr[i];
      const JsonPath ep = ap.index(i);
      if (e.is_object() && e.contains("Sequence")) {
        const json& s = e["Sequence"];
        const std::string id = req_string(s, "id", ep.at("Sequence"));
        if (id != "A" && id != "B") ep.at("Sequence.id").fail("is '" + id + "', expected A or B");
        out.push_back({true, id == "A" ? 0 : 1, "", static_cast<int32_t>(opt_int(s, "type_id", ep.at("Sequence"), 0))});
      } else if (e.is_object() && e.contains("SpecialToken")) {
        const json& s = e["SpecialToken"];
        out.push_back({false, 0, req_string(s, "id", ep.at("SpecialToken")),
                       static_cast<int32_t>(opt_int(s, "type_id", ep.at("SpecialToken"), 0))});
      } else {
        ep.fail("must be {\"Sequence\": ...} or {\"SpecialToken\": ...}");
      }
    }
  } else {
    ap.fail("must be an array or a string");
  }
  for (const auto& piece : out)
    if (!piece.is_sequence && !post.specials.count(piece.id))
      ap.fail("uses the special token '" + piece.id + "' that special_tokens does not define");
  return out;
}

}  // namespace

std::unique_ptr<PostProcessor> make_post_processor(const json& j, const JsonPath& p, const Model& model) {
  if (j.is_null()) return nullptr;
  const std::string type = type_of(j, p);
  if (type == "ByteLevel")
    return std::make_unique<ByteLevelPost>(opt_bool(j, "trim_offsets", p, true), opt_bool(j, "add_prefix_space", p, true));
  if (type == "BertProcessing")
    return std::make_unique<ClsSepPost>(token_pair(j, "cls", p), token_pair(j, "sep", p), false, false, false);
  if (type == "RobertaProcessing")
    return std::make_unique<ClsSepPost>(token_pair(j, "cls", p), token_pair(j, "sep", p), true,
                                        opt_bool(j, "trim_offsets", p, true), opt_bool(j, "add_prefix_space", p, true));
  if (type == "TemplateProcessing") {
    auto t = std::make_unique<TemplatePost>();
    if (j.contains("special_tokens") && !j["special_tokens"].is_null()) {
      const json& st = j["special_tokens"];
      const JsonPath sp = p.at("special_tokens");
      if (!st.is_object()) sp.fail("must be an object");
      for (auto it = st.begin(); it != st.end(); ++it) {
        const JsonPath ep = sp.at(it.key());
        TemplatePost::Special s;
        const json& ids = req(it.value(), "ids", ep);
        const json& toks = req(it.value(), "tokens", ep);
        if (!ids.is_array() || !toks.is_array() || ids.size() != toks.size())
          ep.fail("must have arrays 'ids' and 'tokens' of the same length");
        for (const auto& x : ids) {
          if (!x.is_number_integer()) ep.at("ids").fail("must hold integers");
          s.ids.push_back(x.get<int32_t>());
        }
        for (const auto& x : toks) {
          if (!x.is_string()) ep.at("tokens").fail("must hold strings");
          s.tokens.push_back(x.get<std::string>());
        }
        t->specials.emplace(req_string(it.value(), "id", ep), std::move(s));
      }
    }
    t->single = parse_template(j, "single", p, *t);
    t->pair = parse_template(j, "pair", p, *t);
    return t;
  }
  if (type == "Sequence") {
    const json& arr = req(j, "processors", p);
    if (!arr.is_array()) p.at("processors").fail("must be an array");
    std::vector<std::unique_ptr<PostProcessor>> items;
    for (size_t i = 0; i < arr.size(); ++i)
      if (auto pp = make_post_processor(arr[i], p.at("processors").index(i), model)) items.push_back(std::move(pp));
    return std::make_unique<SequencePost>(std::move(items));
  }
  p.at("type").fail("post-processor type '" + type + "' is not supported");
}

}  // namespace tessera::text
