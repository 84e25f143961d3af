// GGUF tokenizer metadata -> the tokenizer.json Hugging Face has for the model (the reverse of
// what llama.cpp's converter does), so the one tokenizer.json pipeline serves GGUF models too.
// What each tokenizer.ggml.pre name means was read from llama.cpp's vocabulary loader; the
// SentencePiece ("llama") translation follows transformers' LlamaConverter.
#include "tessera/text/gguf_tokenizer.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tessera/core/error.hpp"

namespace tessera {
namespace {

using json = nlohmann::json;

constexpr const char* kModel = "tokenizer.ggml.model";
constexpr const char* kPre = "tokenizer.ggml.pre";
constexpr const char* kTokens = "tokenizer.ggml.tokens";
constexpr const char* kScores = "tokenizer.ggml.scores";
constexpr const char* kTypes = "tokenizer.ggml.token_type";
constexpr const char* kMerges = "tokenizer.ggml.merges";

// GGUF token types (llama.cpp's llama_token_type).
enum TokenType : int { kUndefined = 0, kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

// The regexes of Hugging Face's tokenizer.json for these families (llama.cpp rewrites the
// case-insensitive group as [sS]-style classes; the engine here takes (?i:...) as written).
constexpr const char* kLlama3Regex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr const char* kQwen2Regex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
// llama.cpp's fallback when a BPE file names no pre-tokenizer ("default"): these regexes
// applied one after another, each splitting the pieces the previous one left.
constexpr const char* kDefaultRegexes[] = {
    "[\\p{P}\\$\\+<=>\\^~\\|]+",
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
    "\\p{N}+",
    "[0-9][0-9][0-9]",
};

constexpr const char* kSupportedModels = "\"gpt2\" (byte-level BPE), \"llama\" (SentencePiece BPE)";
constexpr const char* kSupportedPre =
    "\"gpt-2\", \"llama-bpe\", \"llama3\", \"llama-v3\", \"smaug-bpe\", \"qwen2\", \"default\"";

// Reads and checks the metadata, each failure naming the file and the key.
class Meta {
 public:
  Meta(const json& meta, const std::string& origin) : m_(meta), origin_(origin) {
    if (!m_.is_object()) fail("{}: GGUF tokenizer metadata must be a JSON object of GGUF keys, found {}", origin_, m_.type_name());
  }

  const std::string& origin() const { return origin_; }

  const json* find(const char* key) const {
    auto it = m_.find(key);
    return it == m_.end() || it->is_null() ? nullptr : &*it;
  }

  std::optional<std::string> string(const char* key) const {
    const json* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_string()) fail("{}: GGUF key '{}' must be a string, found {}", origin_, key, v->type_name());
    return v->get<std::string>();
  }

  std::optional<bool> boolean(const char* key) const {
    const json* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) fail("{}: GGUF key '{}' must be a bool, found {}", origin_, key, v->dump());
    return v->get<bool>();
  }

  const json& array(const char* key) const {
    const json* v = find(key);
    if (!v) fail("{}: GGUF key '{}' is missing", origin_, key);
    if (!v->is_array()) fail("{}: GGUF key '{}' must be an array, found {}", origin_, key, v->type_name());
    return *v;
  }

  std::vector<std::string> strings(const char* key) const {
    const json& a = array(key);
    std::vector<std::string> out;
    out.reserve(a.size());
    for (size_t i = 0; i < a.size(); ++i) {
      if (!a[i].is_string()) fail("{}: GGUF key '{}'[{}] must be a string, found {}", origin_, key, i, a[i].type_name());
      out.push_back(a[i].get<std::string>());
    }
    return out;
  }

  // An optional array with one number per token.
  std::optional<std::vector<double>> per_token_numbers(const char* key, size_t n_tokens) const {
    if (!find(key)) return std::nullopt;
    const json& a = array(key);
    if (a.size() != n_tokens)
      fail("{}: GGUF key '{}' has {} entries but '{}' has {} tokens; expected one per token", origin_, key, a.size(),
           kTokens, n_tokens);
    std::vector<double> out(a.size());
    for (size_t i = 0; i < a.size(); ++i) {
      if (!a[i].is_number()) fail("{}: GGUF key '{}'[{}] must be a number, found {}", origin_, key, i, a[i].dump());
      out[i] = a[i].get<double>();
    }
    return out;
  }

  // A token id; must name one of the n_tokens tokens.
  std::optional<int32_t> id(const char* key, size_t n_tokens) const {
    const json* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_number_integer()) fail("{}: GGUF key '{}' must be an integer token id, found {}", origin_, key, v->dump());
    const int64_t id = v->get<int64_t>();
    if (id < 0 || static_cast<uint64_t>(id) >= n_tokens)
      fail("{}: GGUF key '{}' is {}, outside the vocabulary of {} tokens ('{}')", origin_, key, id, n_tokens, kTokens);
    return static_cast<int32_t>(id);
  }

 private:
  const json& m_;
  const std::string& origin_;
};

// The vocabulary as both files need it.
struct Vocab {
  std::vector<std::string> tokens;
  std::vector<int> types;  // one per token; kNormal where the file has none
  std::unordered_map<std::string, int32_t> ids;
  std::optional<int32_t> bos, eos, unk, pad;
};

Vocab read_vocab(const Meta& meta, bool spm) {
  Vocab v;
  v.tokens = meta.strings(kTokens);
  const size_t n = v.tokens.size();
  if (n == 0) fail("{}: GGUF key '{}' is empty", meta.origin(), kTokens);
  if (n > static_cast<size_t>(INT32_MAX)) fail("{}: GGUF key '{}' has {} tokens, too many", meta.origin(), kTokens, n);
  v.ids.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    // llama.cpp names empty tokens "[EMPTY_i]"; a tokenizer.json vocabulary cannot hold "".
    if (v.tokens[i].empty()) v.tokens[i] = "[EMPTY_" + std::to_string(i) + "]";
    auto [it, fresh] = v.ids.emplace(v.tokens[i], static_cast<int32_t>(i));
    if (!fresh)
      fail("{}: GGUF key '{}' holds {} twice (ids {} and {}); a vocabulary maps each string to one id", meta.origin(),
           kTokens, json(v.tokens[i]).dump(), it->second, i);
  }
  v.types.assign(n, kNormal);
  if (auto t = meta.per_token_numbers(kTypes, n)) {
    for (size_t i = 0; i < n; ++i) {
      const double x = (*t)[i];
      if (!(x >= 0.0 && x <= 6.0) || x != static_cast<double>(static_cast<int>(x)))
        fail("{}: GGUF key '{}'[{}] is {}; token types are 0 (undefined) to 6 (byte)", meta.origin(), kTypes, i, x);
      v.types[i] = static_cast<int>(x);
    }
  }
  v.bos = meta.id("tokenizer.ggml.bos_token_id", n);
  v.eos = meta.id("tokenizer.ggml.eos_token_id", n);
  v.unk = meta.id("tokenizer.ggml.unknown_token_id", n);
  v.pad = meta.id("tokenizer.ggml.padding_token_id", n);
  // llama.cpp's defaults for SentencePiece vocabularies: <unk> 0, <s> 1, </s> 2.
  if (spm) {
    if (!v.unk) v.unk = 0;
    if (!v.bos && n > 1) v.bos = 1;
    if (!v.eos && n > 2) v.eos = 2;
  }
  return v;
}

json added_token(int32_t id, const std::string& content, bool special) {
  return {{"id", id},           {"content", content}, {"single_word", false}, {"lstrip", false},
          {"rstrip", false},    {"normalized", false}, {"special", special}};
}

// Unknown and control tokens are special; user-defined ones are matched in the text too
// (llama.cpp always splits them out) but are ordinary text when decoding.
json added_tokens(const Vocab& v) {
  json out = json::array();
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    const int t = v.types[i];
    if (t == kUnknown || t == kControl || t == kUserDefined)
      out.push_back(added_token(static_cast<int32_t>(i), v.tokens[i], t != kUserDefined));
  }
  return out;
}

json vocab_object(const Vocab& v) {
  json out = json::object();
  for (size_t i = 0; i < v.tokens.size(); ++i) out[v.tokens[i]] = i;
  return out;
}

// BOS/EOS around each text, as transformers' converters write it (the pair: A then B, each
// with its own BOS/EOS, B with type id 1).
json template_processing(const Vocab& v, bool add_bos, bool add_eos, const Meta& meta) {
  if (add_bos && !v.bos)
    fail("{}: GGUF key 'tokenizer.ggml.add_bos_token' is true but 'tokenizer.ggml.bos_token_id' is missing", meta.origin());
  if (add_eos && !v.eos)
    fail("{}: GGUF key 'tokenizer.ggml.add_eos_token' is true but 'tokenizer.ggml.eos_token_id' is missing", meta.origin());
  json special = json::object();
  const auto piece = [&](bool bos, int type_id) {
    const std::string& t = v.tokens[static_cast<size_t>(bos ? *v.bos : *v.eos)];
    special[t] = {{"id", t}, {"ids", {bos ? *v.bos : *v.eos}}, {"tokens", {t}}};
    return json{{"SpecialToken", {{"id", t}, {"type_id", type_id}}}};
  };
  const auto side = [&](const char* seq, int type_id) {
    json out = json::array();
    if (add_bos) out.push_back(piece(true, type_id));
    out.push_back({{"Sequence", {{"id", seq}, {"type_id", type_id}}}});
    if (add_eos) out.push_back(piece(false, type_id));
    return out;
  };
  json pair = side("A", 0);
  for (auto& p : side("B", 1)) pair.push_back(p);
  return {{"type", "TemplateProcessing"}, {"single", side("A", 0)}, {"pair", pair}, {"special_tokens", special}};
}

json split(const char* regex) {
  return {{"type", "Split"}, {"pattern", {{"Regex", regex}}}, {"behavior", "Isolated"}, {"invert", false}};
}

json byte_level(bool use_regex) {
  return {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", use_regex}};
}

// ---- "gpt2": byte-level BPE ----------------------------------------------------------------

json gpt2_tokenizer(const Meta& meta) {
  const Vocab v = read_vocab(meta, false);
  const std::string pre = meta.string(kPre).value_or("default");

  json normalizer = nullptr;
  json pre_tokenizer;
  bool ignore_merges = false;
  bool add_bos = false;
  if (pre == "gpt-2") {
    pre_tokenizer = byte_level(true);
  } else if (pre == "llama-bpe" || pre == "llama3" || pre == "llama-v3") {
    pre_tokenizer = {{"type", "Sequence"}, {"pretokenizers", {split(kLlama3Regex), byte_level(false)}}};
    ignore_merges = true;  // Llama 3's tokenizer.json has it, and llama.cpp sets it for these
    add_bos = true;
  } else if (pre == "smaug-bpe") {
    pre_tokenizer = {{"type", "Sequence"}, {"pretokenizers", {split(kLlama3Regex), byte_level(false)}}};
  } else if (pre == "qwen2") {
    normalizer = {{"type", "NFC"}};  // Qwen2's tokenizer.json normalizes to NFC (llama.cpp does not)
    pre_tokenizer = {{"type", "Sequence"}, {"pretokenizers", {split(kQwen2Regex), byte_level(false)}}};
  } else if (pre == "default") {
    json seq = json::array();
    for (const char* r : kDefaultRegexes) seq.push_back(split(r));
    seq.push_back(byte_level(false));
    pre_tokenizer = {{"type", "Sequence"}, {"pretokenizers", seq}};
  } else {
    fail("{}: GGUF key '{}' is \"{}\", which tessera does not know; supported: {}", meta.origin(), kPre, pre,
         kSupportedPre);
  }
  add_bos = meta.boolean("tokenizer.ggml.add_bos_token").value_or(add_bos);
  const bool add_eos = meta.boolean("tokenizer.ggml.add_eos_token").value_or(false);

  // Merges are "left right": split at the first space after the first character (as
  // llama.cpp does, so a left part may itself start with a space).
  const std::vector<std::string> lines = meta.strings(kMerges);
  json merges = json::array();
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    const size_t sp = line.size() > 1 ? line.find(' ', 1) : std::string::npos;
    if (sp == std::string::npos)
      fail("{}: GGUF key '{}'[{}] is {}; expected \"left right\"", meta.origin(), kMerges, i, json(line).dump());
    std::string left = line.substr(0, sp), right = line.substr(sp + 1);
    const std::string parts[] = {left, right, left + right};
    for (int k = 0; k < 3; ++k) {
      if (!v.ids.count(parts[k]))
        fail("{}: GGUF key '{}'[{}] {} {} {}, which is not in '{}'", meta.origin(), kMerges, i, json(line).dump(),
             k < 2 ? "names" : "makes", json(parts[k]).dump(), kTokens);
    }
    merges.push_back({std::move(left), std::move(right)});
  }

  json post = (add_bos || add_eos)
                  ? template_processing(v, add_bos, add_eos, meta)
                  : json{{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}};
  return {{"version", "1.0"},
          {"truncation", nullptr},
          {"padding", nullptr},
          {"added_tokens", added_tokens(v)},
          {"normalizer", normalizer},
          {"pre_tokenizer", pre_tokenizer},
          {"post_processor", post},
          {"decoder", byte_level(true)},
          {"model",
           {{"type", "BPE"},
            {"dropout", nullptr},
            {"unk_token", nullptr},
            {"continuing_subword_prefix", nullptr},
            {"end_of_word_suffix", nullptr},
            {"fuse_unk", false},
            {"byte_fallback", false},
            {"ignore_merges", ignore_merges},
            {"vocab", vocab_object(v)},
            {"merges", merges}}}};
}

// ---- "llama": SentencePiece BPE ------------------------------------------------------------

size_t code_points(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// The merges transformers' SentencePieceExtractor derives from the scores: every split of a
// piece into two pieces of the vocabulary, highest piece score first, ties to the longer left
// then right part (in code points), then the order of the pieces and of their parts' ids.
// Only normal and user-defined pieces are merge results: SentencePiece never forms control,
// unknown, unused or byte pieces from text.
json spm_merges(const Vocab& v, const std::vector<double>& scores) {
  struct Merge {
    double score;
    size_t left_len, right_len;
    int32_t left, right;
  };
  std::vector<Merge> all;
  std::vector<Merge> local;
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    if (v.types[i] != kNormal && v.types[i] != kUserDefined && v.types[i] != kUndefined) continue;
    const std::string& piece = v.tokens[i];
    local.clear();
    for (size_t k = 1; k < piece.size(); ++k) {
      if ((static_cast<unsigned char>(piece[k]) & 0xC0) == 0x80) continue;  // inside a character
      auto l = v.ids.find(piece.substr(0, k));
      if (l == v.ids.end()) continue;
      auto r = v.ids.find(piece.substr(k));
      if (r == v.ids.end()) continue;
      local.push_back({scores[i], code_points(l->first), code_points(r->first), l->second, r->second});
    }
    std::sort(local.begin(), local.end(),
              [](const Merge& a, const Merge& b) { return std::pair(a.left, a.right) < std::pair(b.left, b.right); });
    all.insert(all.end(), local.begin(), local.end());
  }
  std::stable_sort(all.begin(), all.end(), [](const Merge& a, const Merge& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.left_len != b.left_len) return a.left_len > b.left_len;
    return a.right_len > b.right_len;
  });
  json merges = json::array();
  for (const Merge& m : all)
    merges.push_back({v.tokens[static_cast<size_t>(m.left)], v.tokens[static_cast<size_t>(m.right)]});
  return merges;
}

json llama_tokenizer(const Meta& meta) {
  const Vocab v = read_vocab(meta, true);
  if (!meta.find(kScores))
    fail("{}: GGUF key '{}' is missing; a \"llama\" (SentencePiece) vocabulary needs it to order its merges",
         meta.origin(), kScores);
  const std::vector<double> scores = *meta.per_token_numbers(kScores, v.tokens.size());
  if (meta.boolean("tokenizer.ggml.remove_extra_whitespaces").value_or(false))
    fail("{}: GGUF key 'tokenizer.ggml.remove_extra_whitespaces' is true, which tessera does not support",
         meta.origin());
  const bool add_space_prefix = meta.boolean("tokenizer.ggml.add_space_prefix").value_or(true);
  const bool add_bos = meta.boolean("tokenizer.ggml.add_bos_token").value_or(true);
  const bool add_eos = meta.boolean("tokenizer.ggml.add_eos_token").value_or(false);

  const json replace_space = {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\u2581"}};
  json normalizer = add_space_prefix ? json{{"type", "Sequence"},
                                            {"normalizers", {{{"type", "Prepend"}, {"prepend", "\u2581"}}, replace_space}}}
                                     : replace_space;
  json decoders = {{{"type", "Replace"}, {"pattern", {{"String", "\u2581"}}}, {"content", " "}},
                   {{"type", "ByteFallback"}},
                   {{"type", "Fuse"}}};
  if (add_space_prefix) decoders.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
  json post = (add_bos || add_eos) ? template_processing(v, add_bos, add_eos, meta) : json(nullptr);
  return {{"version", "1.0"},
          {"truncation", nullptr},
          {"padding", nullptr},
          {"added_tokens", added_tokens(v)},
          {"normalizer", normalizer},
          {"pre_tokenizer", nullptr},
          {"post_processor", post},
          {"decoder", {{"type", "Sequence"}, {"decoders", decoders}}},
          {"model",
           {{"type", "BPE"},
            {"dropout", nullptr},
            {"unk_token", v.tokens[static_cast<size_t>(*v.unk)]},
            {"continuing_subword_prefix", nullptr},
            {"end_of_word_suffix", nullptr},
            {"fuse_unk", true},
            {"byte_fallback", true},
            {"ignore_merges", false},
            {"vocab", vocab_object(v)},
            {"merges", spm_merges(v, scores)}}}};
}

std::string model_of(const Meta& meta) {
  const std::optional<std::string> model = meta.string(kModel);
  if (!model) fail("{}: GGUF key '{}' is missing; supported: {}", meta.origin(), kModel, kSupportedModels);
  if (*model != "gpt2" && *model != "llama")
    fail("{}: GGUF key '{}' is \"{}\", which tessera does not know; supported: {}", meta.origin(), kModel, *model,
         kSupportedModels);
  return *model;
}

}  // namespace

std::string tokenizer_json_from_gguf(const nlohmann::json& meta_json, const std::string& origin) {
  const Meta meta(meta_json, origin);
  return (model_of(meta) == "gpt2" ? gpt2_tokenizer(meta) : llama_tokenizer(meta)).dump();
}

std::string tokenizer_config_json_from_gguf(const nlohmann::json& meta_json, const std::string& origin) {
  const Meta meta(meta_json, origin);
  const Vocab v = read_vocab(meta, model_of(meta) == "llama");
  // null where the file names no such token: the GGUF ids are the whole truth, so the loader
  // must not guess one from the usual names.
  const auto token = [&](const std::optional<int32_t>& id) { return id ? json(v.tokens[static_cast<size_t>(*id)]) : json(nullptr); };
  json cfg = {{"bos_token", token(v.bos)}, {"eos_token", token(v.eos)}, {"pad_token", token(v.pad)},
              {"unk_token", token(v.unk)}};
  if (auto t = meta.string("tokenizer.chat_template")) cfg["chat_template"] = *t;
  return cfg.dump();
}

Tokenizer tokenizer_from_gguf_metadata(const nlohmann::json& meta, const std::string& origin) {
  return Tokenizer::from_json(tokenizer_json_from_gguf(meta, origin), origin + " (GGUF tokenizer metadata)",
                              tokenizer_config_json_from_gguf(meta, origin));
}

}  // namespace tessera
