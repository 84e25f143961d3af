// Encoder-decoder transformers (T5, BART, Marian, Whisper): an encoder stack run once per
// source, whose output every decoder layer turns into cross-attention keys/values once, and
// a decoder stack that generates over its own KV cache. Family files fill one of these.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "tessera/blocks/stack.hpp"
#include "tessera/models/model.hpp"

namespace tessera {

// Whisper's front end: two 1-D convolutions (kernel 3, padding 1; the second with stride 2),
// each followed by exact GELU, turning [mel, frames] into [frames / 2, d_model].
struct AudioFrontend {
  int64_t mel_bins = 0, frames = 0;  // frames the encoder requires (2 × max_source_positions)
  Linear conv1, conv2;               // weights [out, in × 3] (the checkpoint's [out, in, 3] viewed flat)
};

class EncoderDecoderModel final : public Model {
 public:
  ModelInfo meta;
  // The encoder (no embedding for Whisper: see AudioFrontend; no head) and the decoder (its
  // head is the LM head; T5's output scale and BART's final_logits_bias are the stack's).
  Stack encoder, decoder;
  std::optional<AudioFrontend> audio;  // set: the source is log-mel features, not token ids
  int32_t decoder_start = 0;

  const ModelInfo& info() const override { return meta; }
  std::unique_ptr<Session> new_session(const SessionOptions& options = {}) const override;
  int64_t kv_cache_bytes_per_position(DType kv_type) const override {
    return decoder.kv_cache_bytes_per_position(kv_type);
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
  void run_encoder(std::vector<float>& x, int64_t n) const;
  void attach_memory(Session& session, std::vector<float> memory, int64_t n) const;
};

}  // namespace tessera
