// Encoder-decoder transformers (T5, BART, Marian, Whisper): an encoder stack run once per
// source, whose output every decoder layer turns into cross-attention keys/values once, and
// a decoder stack that generates over its own KV cache. Family files fill one of these.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "tessera/blocks/embedding.hpp"
#include "tessera/blocks/layer.hpp"
#include "tessera/models/model.hpp"

namespace tessera {

// How a stack adds absolute positions to its input embeddings.
struct PositionInput {
  enum class Kind { None, Learned, Table };
  Kind kind = Kind::None;
  Embedding learned;         // Learned: row (position + offset)
  int64_t offset = 0;        // BART's learned positions start at row 2
  std::vector<float> table;  // Table: [table_rows, dim] computed at load (Marian's sinusoids)
  int64_t table_rows = 0, dim = 0;

  // Positions this input can describe; 0 = unlimited (T5's relative positions).
  int64_t limit() const {
    if (kind == Kind::Learned) return learned.rows() - offset;
    if (kind == Kind::Table) return table_rows;
    return 0;
  }
  // x[dim] += position embedding of `pos` (pos < limit(), checked by the caller).
  void add(int64_t pos, float* x) const {
    if (kind == Kind::Learned) learned.lookup(pos + offset, x, 1.0f, /*accumulate=*/true);
    if (kind == Kind::Table)
      for (int64_t i = 0; i < dim; ++i) x[i] += table[size_t(pos * dim + i)];
  }
};

// One transformer stack: embeddings (+ positions, + optional embedding norm), layers, and an
// optional final norm. The Whisper encoder has no token embedding (see AudioFrontend).
struct TransformerStack {
  Embedding embed;
  float embed_scale = 1.0f;         // BART/Marian scale_embedding: sqrt(d_model)
  PositionInput positions;
  std::optional<Norm> embed_norm;   // BART's layernorm_embedding
  std::vector<Layer> layers;
  std::optional<Norm> final_norm;   // T5 final_layer_norm, Whisper layer_norm
  ScoreBias bias;                   // T5's relative bias, shared by every layer; empty: none
};

// Whisper's front end: two 1-D convolutions (kernel 3, padding 1; the second with stride 2),
// each followed by exact GELU, turning [mel, frames] into [frames / 2, d_model].
struct AudioFrontend {
  int64_t mel_bins = 0, frames = 0;  // frames the encoder requires (2 × max_source_positions)
  Linear conv1, conv2;               // weights [out, in × 3] (the checkpoint's [out, in, 3] viewed flat)
};

class EncoderDecoderModel final : public Model {
 public:
  ModelInfo meta;
  TransformerStack encoder, decoder;
  std::optional<AudioFrontend> audio;  // set: the source is log-mel features, not token ids
  float output_scale = 1.0f;           // T5 with a tied head: d_model^-0.5 before the head
  Linear lm_head;                      // bias = final_logits_bias (BART, Marian)
  int32_t decoder_start = 0;

  // Points each layer at its stack's relative bias; call once the model is in its final place.
  void finalize();

  const ModelInfo& info() const override { return meta; }
  std::unique_ptr<Session> new_session(const SessionOptions& options = {}) const override;
  int64_t kv_cache_bytes_per_position(DType kv_type) const override {
    return tessera::kv_cache_bytes_per_position(decoder.layers, kv_type);
  }
  void decode(Session& session, std::span<const int32_t> ids, Tensor& logits, bool all_positions) const override;
  Tensor encode(const std::vector<std::vector<int32_t>>& batch) const override;
  void set_source(Session& session, std::span<const int32_t> source_ids) const override;
  void set_source_features(Session& session, const Tensor& features) const override;
  // input_ids (+ attention_mask) or input_features, decoder_input_ids → logits,
  // encoder_last_hidden_state; generate_tokens ≥ 0 → generated_ids (start token + N).
  std::map<std::string, Tensor> forward_named(const std::map<std::string, Tensor>& inputs, int64_t generate_tokens = -1,
                                              const SessionOptions& session_options = {}) const override;

  // The encoder's last hidden state [n, hidden] for one source.
  std::vector<float> encode_ids(std::span<const int32_t> ids) const;
  std::vector<float> encode_features(const Tensor& features) const;

 private:
  void run_stack(const TransformerStack& stack, std::vector<float>& x, int64_t n) const;
  void attach_memory(Session& session, std::vector<float> memory, int64_t n) const;
};

}  // namespace tessera
