// Decoder-only causal language models (GPT-2, Llama, Mistral, Qwen, Gemma, Gemma 2, GPT-NeoX,
// Mixtral, OLMo 2, OPT, GPT-J, Phi-3, Falcon, BLOOM, ...): one Stack, run over a per-session KV
// cache per layer run.
// Family files fill one of these from config.json and their weight names.
#pragma once

#include <optional>
#include <vector>

#include "tessera/blocks/stack.hpp"
#include "tessera/models/model.hpp"

namespace tessera {

class DecoderModel final : public Model {
 public:
  ModelInfo meta;
  // Token embeddings (+ learned positions) → causal layers → final norm → LM head (which may
  // borrow the embedding table: tied).
  Stack stack;

  const ModelInfo& info() const override { return meta; }
  std::unique_ptr<Session> new_session(const SessionOptions& options = {}) const override;
  int64_t kv_cache_bytes_per_position(DType kv_type) const override { return stack.kv_cache_bytes_per_position(kv_type); }
  void decode(Session& session, std::span<const int32_t> ids, Tensor& logits, bool all_positions) const override;
  // input_ids (+ attention_mask, right padding) → logits [B, L, vocab], zero past the mask;
  // prompt_ids → generated_ids.
  std::map<std::string, Tensor> forward_named(const std::map<std::string, Tensor>& inputs, int64_t generate_tokens = -1,
                                              const SessionOptions& session_options = {}) const override;
};

}  // namespace tessera
