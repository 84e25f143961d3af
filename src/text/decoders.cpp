// Decoders: ByteLevel, Metaspace, WordPiece, ByteFallback, Fuse, Strip, Replace, BPEDecoder,
// CTC and Sequence, each turning tokens back into text as tokenizers does.
#include <memory>

#include "byte_level.hpp"
#include "components.hpp"
#include "regex.hpp"
#include "unicode.hpp"

namespace tessera::text {
namespace {

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  if (from.empty()) return s;
  std::string out;
  size_t last = 0, pos;
  while ((pos = s.find(from, last)) != std::string::npos) {
    out.append(s, last, pos - last);
    out.append(to);
    last = pos + from.size();
  }
  out.append(s, last, std::string::npos);
  return out;
}

std::string wordpiece_cleanup(std::string s) {
  s = replace_all(std::move(s), " .", ".");
  s = replace_all(std::move(s), " ?", "?");
  s = replace_all(std::move(s), " !", "!");
  s = replace_all(std::move(s), " ,", ",");
  s = replace_all(std::move(s), " ' ", "'");
  s = replace_all(std::move(s), " n't", "n't");
  s = replace_all(std::move(s), " 'm", "'m");
  s = replace_all(std::move(s), " do not", " don't");
  s = replace_all(std::move(s), " 's", "'s");
  s = replace_all(std::move(s), " 've", "'ve");
  s = replace_all(std::move(s), " 're", "'re");
  return s;
}

class ByteLevelDecoder final : public Decoder {
 public:
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    const auto& table = byte_level_table();
    std::string bytes;
    for (const auto& t : tokens) {
      const size_t mark = bytes.size();
      size_t i = 0;
      bool ok = true;
      while (i < t.size()) {
        const char32_t c = next_cp(t, i);
        if (c >= table.char_to_byte.size() || table.char_to_byte[c] < 0) {
          ok = false;
          break;
        }
        bytes.push_back(static_cast<char>(table.char_to_byte[c]));
      }
      if (!ok) {  // a token that is not byte-level (an added token): its own bytes
        bytes.resize(mark);
        bytes += t;
      }
    }
    return {utf8_lossy(bytes)};
  }
};

class MetaspaceDecoder final : public Decoder {
 public:
  MetaspaceDecoder(std::string replacement, bool prepend) : replacement_(std::move(replacement)), prepend_(prepend) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i)
      tokens[i] = replace_all(std::move(tokens[i]), replacement_, i == 0 && prepend_ ? "" : " ");
    return tokens;
  }

 private:
  std::string replacement_;
  bool prepend_;
};

class WordPieceDecoder final : public Decoder {
 public:
  WordPieceDecoder(std::string prefix, bool cleanup) : prefix_(std::move(prefix)), cleanup_(cleanup) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      auto& t = tokens[i];
      if (i != 0) {
        if (!prefix_.empty() && t.compare(0, prefix_.size(), prefix_) == 0) {
          t.erase(0, prefix_.size());
        } else {
          t = " " + t;
        }
      }
      if (cleanup_) t = wordpiece_cleanup(std::move(t));
    }
    return tokens;
  }

 private:
  std::string prefix_;
  bool cleanup_;
};

class ByteFallbackDecoder final : public Decoder {
 public:
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::vector<std::string> out;
    std::string pending;
    const auto flush = [&] {
      if (pending.empty()) return;
      if (find_invalid_utf8(pending) == std::string::npos) {
        out.push_back(pending);
      } else {
        for (size_t k = 0; k < pending.size(); ++k) out.emplace_back("\xEF\xBF\xBD");
      }
      pending.clear();
    };
    for (auto& t : tokens) {
      int byte = -1;
      if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>') {
        const auto hex = [](char c) -> int {
          if (c >= '0' && c <= '9') return c - '0';
          if (c >= 'a' && c <= 'f') return c - 'a' + 10;
          if (c >= 'A' && c <= 'F') return c - 'A' + 10;
          return -1;
        };
        const int h = hex(t[3]), l = hex(t[4]);
        if (h >= 0 && l >= 0) byte = h * 16 + l;
      }
      if (byte >= 0) {
        pending.push_back(static_cast<char>(byte));
      } else {
        flush();
        out.push_back(std::move(t));
      }
    }
    flush();
    return out;
  }
};

class FuseDecoder final : public Decoder {
 public:
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::string s;
    for (const auto& t : tokens) s += t;
    return {s};
  }
};

class StripDecoder final : public Decoder {
 public:
  StripDecoder(char32_t content, size_t start, size_t stop) : content_(content), start_(start), stop_(stop) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (auto& t : tokens) {
      std::vector<char32_t> cps;
      size_t i = 0;
      while (i < t.size()) cps.push_back(next_cp(t, i));
      size_t start_cut = 0;
      for (size_t k = 0; k < start_ && k < cps.size(); ++k) {
        if (cps[k] != content_) break;
        start_cut = k + 1;
      }
      size_t stop_cut = cps.size();
      for (size_t k = 0; k < stop_ && k < cps.size(); ++k) {
        const size_t idx = cps.size() - k - 1;
        if (cps[idx] != content_) break;
        stop_cut = idx;
      }
      std::string s;
      for (size_t k = start_cut; k < stop_cut; ++k) append_utf8(s, cps[k]);
      t = std::move(s);
    }
    return tokens;
  }

 private:
  char32_t content_;
  size_t start_, stop_;
};

class ReplaceDecoder final : public Decoder {
 public:
  ReplaceDecoder(std::string literal, std::unique_ptr<Regex> regex, std::string content)
      : literal_(std::move(literal)), regex_(std::move(regex)), content_(std::move(content)) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (auto& t : tokens) {
      if (!regex_) {
        t = replace_all(std::move(t), literal_, content_);
        continue;
      }
      std::string out;
      size_t last = 0;
      for (const auto& [b, e] : regex_->find_all(t)) {
        out.append(t, last, b - last);
        out += content_;
        last = e;
      }
      out.append(t, last, std::string::npos);
      t = std::move(out);
    }
    return tokens;
  }

 private:
  std::string literal_;
  std::unique_ptr<Regex> regex_;
  std::string content_;
};

class BpeDecoder final : public Decoder {
 public:
  explicit BpeDecoder(std::string suffix) : suffix_(std::move(suffix)) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i)
      tokens[i] = replace_all(std::move(tokens[i]), suffix_, i + 1 == tokens.size() ? "" : " ");
    return tokens;
  }

 private:
  std::string suffix_;
};

class CtcDecoder final : public Decoder {
 public:
  CtcDecoder(std::string pad, std::string delimiter, bool cleanup)
      : pad_(std::move(pad)), delimiter_(std::move(delimiter)), cleanup_(cleanup) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::vector<std::string> out;
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i > 0 && tokens[i] == tokens[i - 1]) continue;
      std::string t = replace_all(tokens[i], pad_, "");
      if (cleanup_) t = replace_all(wordpiece_cleanup(std::move(t)), delimiter_, " ");
      if (!t.empty()) out.push_back(std::move(t));
    }
    return out;
  }

 private:
  std::string pad_, delimiter_;
  bool cleanup_;
};

class SequenceDecoder final : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> items) : items_(std::move(items)) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (const auto& d : items_) tokens = d->decode_chain(std::move(tokens));
    return tokens;
  }

 private:
  std::vector<std::unique_ptr<Decoder>> items_;
};

}  // namespace

std::unique_ptr<Decoder> make_decoder(const json& j, const JsonPath& p) {
  if (j.is_null()) return nullptr;
  const std::string type = type_of(j, p);
  if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
  if (type == "Metaspace") {
    std::string scheme = opt_string(j, "prepend_scheme", p, "");
    bool prepend = scheme.empty() ? opt_bool(j, "add_prefix_space", p, true) : scheme != "never";
    return std::make_unique<MetaspaceDecoder>(opt_string(j, "replacement", p, "\xE2\x96\x81"), prepend);
  }
  if (type == "WordPiece")
    return std::make_unique<WordPieceDecoder>(opt_string(j, "prefix", p, "##"), opt_bool(j, "cleanup", p, true));
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse") return std::make_unique<FuseDecoder>();
  if (type == "Strip") {
    const std::string c = req_string(j, "content", p);
    if (c.empty()) p.at("content").fail("is empty, expected one character");
    size_t i = 0;
    const char32_t cp = next_cp(c, i);
    return std::make_unique<StripDecoder>(cp, static_cast<size_t>(opt_int(j, "start", p, 0)),
                                          static_cast<size_t>(opt_int(j, "stop", p, 0)));
  }
  if (type == "Replace") {
    const json& pat = req(j, "pattern", p);
    const JsonPath pp = p.at("pattern");
    std::string content = req_string(j, "content", p);
    if (pat.is_object() && pat.contains("Regex"))
      return std::make_unique<ReplaceDecoder>("", std::make_unique<Regex>(req_string(pat, "Regex", pp), pp.file + ": " + pp.path),
                                              std::move(content));
    if (pat.is_object() && pat.contains("String"))
      return std::make_unique<ReplaceDecoder>(req_string(pat, "String", pp), nullptr, std::move(content));
    pp.fail("must be {\"String\": ...} or {\"Regex\": ...}");
  }
  if (type == "BPEDecoder") return std::make_unique<BpeDecoder>(opt_string(j, "suffix", p, "</w>"));
  if (type == "CTC")
    return std::make_unique<CtcDecoder>(opt_string(j, "pad_token", p, "<pad>"), opt_string(j, "word_delimiter_token", p, "|"),
                                        opt_bool(j, "cleanup", p, true));
  if (type == "Sequence") {
    const json& arr = req(j, "decoders", p);
    if (!arr.is_array()) p.at("decoders").fail("must be an array");
    std::vector<std::unique_ptr<Decoder>> items;
    for (size_t i = 0; i < arr.size(); ++i)
      if (auto d = make_decoder(arr[i], p.at("decoders").index(i))) items.push_back(std::move(d));
    return std::make_unique<SequenceDecoder>(std::move(items));
  }
  p.at("type").fail("decoder type '" + type + "' is not supported");
}

}  // namespace tessera::text
