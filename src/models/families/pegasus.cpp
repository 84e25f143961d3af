// Pegasus: BART's layout with pre-norm layers and a final layer_norm closing each stack,
// sinusoidal positions computed at load as Marian's (sin of the even angle columns in the
// first half, cos of the odd ones in the second, no offset), no layernorm_embedding,
// embeddings × sqrt(d_model) when scale_embedding, tied head plus final_logits_bias.
#include "bart_layers.hpp"
#include "families.hpp"

namespace tessera::families {

std::shared_ptr<const Model> load_pegasus(const JsonObject& cfg, const WeightStore& store, const std::string& dir) {
  return load_bart_like(cfg, store, dir, BartKind::Pegasus);
}

}  // namespace tessera::families
