// WordPiece model (BERT): greedy longest-match-first with a continuing-subword prefix.
#include "components.hpp"
#include "tessera/core/error.hpp"
#include "unicode.hpp"
#include "vocab.hpp"

namespace tessera::text {
namespace {

class WordPiece final : public Model {
 public:
  Vocab vocab;
  std::string unk_token = "[UNK]";
  std::string origin;
  std::string prefix = "##";
  size_t max_chars = 100;

  std::vector<Token> tokenize(std::string_view s) const override {
    if (count_cps(s) > max_chars) return {unk(s.size())};
    std::vector<Token> out;
    size_t start = 0;
    std::string buf;
    while (start < s.size()) {
      size_t end = s.size();
      bool found = false;
      while (start < end) {
        std::string_view sub = s.substr(start, end - start);
        if (start > 0) {
          buf.assign(prefix);
          buf.append(sub);
          sub = buf;
        }
        if (auto id = vocab.find(sub)) {
          out.push_back({*id, std::string(sub), {start, end}});
          found = true;
          break;
        }
        size_t k = end;
        prev_cp(s, k);
        end = k;
      }
      if (!found) return {unk(s.size())};
      start = end;
    }
    return out;
  }
  std::optional<int32_t> token_to_id(std::string_view t) const override { return vocab.find(t); }
  std::optional<std::string> id_to_token(int32_t id) const override { return vocab.token(id); }
  size_t vocab_size() const override { return vocab.size(); }

 private:
  Token unk(size_t len) const {
    auto id = vocab.find(unk_token);
    if (!id) fail("{}: field 'model.unk_token' is '{}', which model.vocab lacks (needed for a word out of the vocabulary)", origin, unk_token);
    return {*id, unk_token, {0, len}};
  }
};

}  // namespace

std::unique_ptr<Model> make_wordpiece(const json& j, const JsonPath& p) {
  auto m = std::make_unique<WordPiece>();
  m->vocab = Vocab::from_object(req(j, "vocab", p), p.at("vocab"));
  m->unk_token = opt_string(j, "unk_token", p, "[UNK]");
  m->prefix = opt_string(j, "continuing_subword_prefix", p, "##");
  m->max_chars = static_cast<size_t>(opt_int(j, "max_input_chars_per_word", p, 100));
  m->origin = p.file;
  return m;
}

}  // namespace tessera::text
