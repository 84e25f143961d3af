// Decoder-only causal language models (GPT-2, Llama, Mistral, Qwen, Gemma, Gemma 2, GPT-NeoX,
// Mixtral, OLMo 2, OPT, GPT-J, Phi-3, Falcon, BLOOM): embeddings → layers → final norm → LM head, over a per-session KV cache.
// Family files fill one of these from config.json and their weight names.
#pragma once

#include <optional>
#include <vector>

#include "tessera/blocks/embedding.hpp"
#include "tessera/blocks/layer.hpp"
#include "tessera/models/model.hpp"

namespace tessera {

class DecoderModel final : public Model {
 public:
  ModelInfo meta;
  Embedding embed;
  float embed_scale = 1.0f;                 // Gemma: sqrt(hidden)
  std::optional<Embedding> position_embed;  // GPT-2, OPT: learned absolute positions
  int64_t position_offset = 0;              // OPT: position p reads row p + 2
  std::optional<Linear> project_in;         // OPT word_embed_proj_dim: embeddings → hidden
  Norm embed_norm;                          // BLOOM: LayerNorm on the embeddings; skipped when disabled
  std::vector<Layer> layers;
  Norm final_norm;                          // skipped when disabled (OPT post-norm)
  std::optional<Linear> project_out;        // OPT: hidden → word_embed_proj_dim, before the head
  Linear lm_head;  // may borrow the embedding table (tied)
  float final_softcap = 0.0f;  // Gemma 2: logits become cap·tanh(logits / cap); 0 = off

  const ModelInfo& info() const override { return meta; }
  std::unique_ptr<Session> new_session(const SessionOptions& options = {}) const override;
  int64_t kv_cache_bytes_per_position(DType kv_type) const override {
    return tessera::kv_cache_bytes_per_position(layers, kv_type);
  }
  void decode(Session& session, std::span<const int32_t> ids, Tensor& logits, bool all_positions) const override;
  // input_ids (+ attention_mask, right padding) → logits [B, L, vocab], zero past the mask;
  // prompt_ids → generated_ids.
  std::map<std::string, Tensor> forward_named(const std::map<std::string, Tensor>& inputs, int64_t generate_tokens = -1,
                                              const SessionOptions& session_options = {}) const override;
};

}  // namespace tessera
