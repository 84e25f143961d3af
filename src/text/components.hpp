// The stages of a tokenizer pipeline, as in Hugging Face's tokenizers: normalizer,
// pre-tokenizer, model, post-processor and decoder, plus the pre-tokenized string they
// pass along. Each stage is built from its tokenizer.json object by a make_* function.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "normalized_string.hpp"
#include "tessera/text/tokenizer.hpp"

namespace tessera::text {

using json = nlohmann::json;

// Where a JSON object sits, for error messages: "FILE: field 'a.b.c' ...".
struct JsonPath {
  std::string file;
  std::string path;
  JsonPath at(std::string_view key) const {
    return {file, path.empty() ? std::string(key) : path + "." + std::string(key)};
  }
  JsonPath index(size_t i) const { return {file, path + "[" + std::to_string(i) + "]"}; }
  [[noreturn]] void fail(std::string_view what) const;
};

const json& req(const json& j, std::string_view key, const JsonPath& p);
std::string req_string(const json& j, std::string_view key, const JsonPath& p);
std::string opt_string(const json& j, std::string_view key, const JsonPath& p, std::string def);
std::optional<std::string> opt_nullable_string(const json& j, std::string_view key, const JsonPath& p);
bool opt_bool(const json& j, std::string_view key, const JsonPath& p, bool def);
int64_t opt_int(const json& j, std::string_view key, const JsonPath& p, int64_t def);
double opt_number(const json& j, std::string_view key, const JsonPath& p, double def);
std::string type_of(const json& j, const JsonPath& p);

struct Token {
  int32_t id;
  std::string value;
  Offsets offsets;  // byte offsets in the normalized string the token came from
};

struct Split {
  NormalizedString normalized;
  std::optional<std::vector<Token>> tokens;
};

// The input as a list of splits; only splits without tokens are split further.
struct PreTokenizedString {
  std::string original;
  std::vector<Split> splits;

  template <typename F>  // F: (size_t index, NormalizedString&&) -> vector<NormalizedString>
  void split(F&& f) {
    std::vector<Split> out;
    out.reserve(splits.size());
    for (size_t i = 0; i < splits.size(); ++i) {
      if (splits[i].tokens) {
        out.push_back(std::move(splits[i]));
        continue;
      }
      for (auto& n : f(i, std::move(splits[i].normalized)))
        if (!n.empty()) out.push_back(Split{std::move(n), std::nullopt});
    }
    splits = std::move(out);
  }
  template <typename F>  // F: (NormalizedString&)
  void normalize(F&& f) {
    for (auto& s : splits)
      if (!s.tokens) f(s.normalized);
  }
};

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual void normalize(NormalizedString& s) const = 0;
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  virtual void pre_tokenize(PreTokenizedString& s) const = 0;
};

class Model {
 public:
  virtual ~Model() = default;
  virtual std::vector<Token> tokenize(std::string_view sequence) const = 0;
  virtual std::optional<int32_t> token_to_id(std::string_view token) const = 0;
  virtual std::optional<std::string> id_to_token(int32_t id) const = 0;
  virtual size_t vocab_size() const = 0;  // one past the largest id
};

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  virtual size_t added_tokens(bool is_pair) const = 0;
  // Adds special tokens (when add_special_tokens) to one encoding or a pair; the caller
  // merges the result (overflowing windows are handled by the caller).
  virtual std::vector<Encoding> process_encodings(std::vector<Encoding> encodings, bool add_special_tokens) const = 0;
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual std::vector<std::string> decode_chain(std::vector<std::string> tokens) const = 0;
  std::string decode(std::vector<std::string> tokens) const {
    std::string out;
    for (auto& t : decode_chain(std::move(tokens))) out += t;
    return out;
  }
};

std::unique_ptr<Normalizer> make_normalizer(const json& j, const JsonPath& p);
std::unique_ptr<PreTokenizer> make_pre_tokenizer(const json& j, const JsonPath& p);
std::unique_ptr<Model> make_model(const json& j, const JsonPath& p);
std::unique_ptr<Model> make_bpe(const json& j, const JsonPath& p);
std::unique_ptr<Model> make_wordpiece(const json& j, const JsonPath& p);
std::unique_ptr<Model> make_wordlevel(const json& j, const JsonPath& p);
std::unique_ptr<Model> make_unigram(const json& j, const JsonPath& p);
std::unique_ptr<PostProcessor> make_post_processor(const json& j, const JsonPath& p, const Model& model);
std::unique_ptr<Decoder> make_decoder(const json& j, const JsonPath& p);

// Appends b to a (ids, offsets, masks, ...), not the overflowing windows.
void append_encoding(Encoding& a, const Encoding& b);
// ByteLevel's trim_offsets: offsets leave out leading/trailing spaces of each token.
void trim_byte_level_offsets(Encoding& e, bool add_prefix_space);

}  // namespace tessera::text
