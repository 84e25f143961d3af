// make_model: picks the model (BPE, WordPiece, WordLevel, Unigram) a tokenizer.json names.
#include "components.hpp"

namespace tessera::text {

std::unique_ptr<Model> make_model(const json& j, const JsonPath& p) {
  if (!j.is_object()) p.fail("must be an object");
  std::string type = opt_string(j, "type", p, "");
  if (type.empty()) {  // older files leave the type out
    if (j.contains("merges")) type = "BPE";
    else if (j.contains("vocab") && j["vocab"].is_array()) type = "Unigram";
    else if (j.contains("max_input_chars_per_word") || j.contains("continuing_subword_prefix")) type = "WordPiece";
    else type = "WordLevel";
  }
  if (type == "BPE") return make_bpe(j, p);
  if (type == "WordPiece") return make_wordpiece(j, p);
  if (type == "WordLevel") return make_wordlevel(j, p);
  if (type == "Unigram") return make_unigram(j, p);
  p.at("type").fail("model type '" + type + "' is not supported (BPE, WordPiece, WordLevel, Unigram)");
}

}  // namespace tessera::text
