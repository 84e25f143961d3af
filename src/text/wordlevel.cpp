// WordLevel model: every pre-token is looked up whole, or becomes the unk token.
#include "components.hpp"
#include "tessera/core/error.hpp"
#include "vocab.hpp"

namespace tessera::text {
namespace {

class WordLevel final : public Model {
 public:
  Vocab vocab;
  std::string unk_token = "<unk>";
  std::string origin;

  std::vector<Token> tokenize(std::string_view s) const override {
    if (auto id = vocab.find(s)) return {{*id, std::string(s), {0, s.size()}}};
    auto id = vocab.find(unk_token);
    if (!id) fail("{}: field 'model.unk_token' is '{}', which model.vocab lacks (needed for a word out of the vocabulary)", origin, unk_token);
    return {{*id, unk_token, {0, s.size()}}};
  }
  std::optional<int32_t> token_to_id(std::string_view t) const override { return vocab.find(t); }
  std::optional<std::string> id_to_token(int32_t id) const override { return vocab.token(id); }
  size_t vocab_size() const override { return vocab.size(); }
};

}  // namespace

std::unique_ptr<Model> make_wordlevel(const json& j, const JsonPath& p) {
  auto m = std::make_unique<WordLevel>();
  m->vocab = Vocab::from_object(req(j, "vocab", p), p.at("vocab"));
  m->unk_token = opt_string(j, "unk_token", p, "<unk>");
  m->origin = p.file;
  return m;
}

}  // namespace tessera::text
