// mBART (mbart-large-cc25, mbart-large-50): BART's layout with pre-norm layers, a final
// layer_norm closing each stack, layernorm_embedding after the learned positions (offset 2),
// embeddings × sqrt(d_model) when scale_embedding, tied head plus final_logits_bias. The
// decoder starts from decoder_start_token_id; a language code given as forced_bos_token_id is
// forced as the first new token by generation (generate.cpp, beam_search.cpp).
#include "bart_layers.hpp"
#include "families.hpp"

namespace tessera::families {

std::shared_ptr<const Model> load_mbart(const JsonObject& cfg, const WeightStore& store, const std::string& dir) {
  return load_bart_like(cfg, store, dir, BartKind::MBart);
}

}  // namespace tessera::families
