// mT5 (multilingual T5): T5 v1.1's layout (gated-gelu by default, untied lm_head) under its own
// model_type. As transformers 5.x runs it, the decoder output is never scaled by d_model^-0.5,
// even where config.json says tie_word_embeddings (MT5Config forces that flag on and ignores it);
// the head is lm_head.weight when the checkpoint stores it, else the shared embedding.
#include "families.hpp"
#include "t5_like.hpp"

namespace tessera::families {

std::shared_ptr<const Model> load_mt5(const JsonObject& cfg, const WeightStore& store, const std::string& dir) {
  return load_t5_like(cfg, store, dir, /*mt5=*/true);
}

}  // namespace tessera::families
