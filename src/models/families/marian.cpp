// Marian (MarianMT): BART's post-norm layout with sinusoidal positions computed at load (not
// stored), no layernorm_embedding, embeddings × sqrt(d_model), final_logits_bias, and
// optionally a separate decoder vocabulary (share_encoder_decoder_embeddings false).
#include "bart_layers.hpp"
#include "families.hpp"

namespace tessera::families {

std::shared_ptr<const Model> load_marian(const JsonObject& cfg, const WeightStore& store, const std::string& dir) {
  return load_bart_like(cfg, store, dir, BartKind::Marian);
}

}  // namespace tessera::families
