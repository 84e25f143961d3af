// Encoder-only models (BERT, RoBERTa, XLM-RoBERTa, DistilBERT, ModernBERT, ViT, DINOv2):
// embeddings → bidirectional layers → optional final norm (one Stack), then pooler and
// classifier. A batch of sequences of different lengths runs packed (no padding computed),
// each sequence a Segment whose attention reads its own rows' keys and values in place.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tessera/blocks/stack.hpp"
#include "tessera/models/model.hpp"

namespace tessera {

// How text positions are numbered.
enum class PositionIds {
  FromZero,  // BERT: 0, 1, 2, ...
  // RoBERTa (create_position_ids_from_input_ids): padding_idx + cumsum(id != pad) for real
  // tokens and padding_idx itself for ids equal to the pad token, wherever they stand.
  AfterPadding,
};

// ViT's input side: conv patch embedding (run as one GEMM over flattened patches), class
// token and learned positions; DINOv2 adds register tokens and other image sizes.
struct PatchEmbedding {
  int64_t channels = 0, image_height = 0, image_width = 0, patch = 0;
  Linear projection;          // [hidden, channels × patch × patch], the conv kernel flattened
  std::vector<float> cls;     // [hidden]
  std::vector<float> positions;  // [1 + patches, hidden]
  std::vector<float> registers;  // [registers, hidden], inserted after the CLS row (after positions)
  // DINOv2: images of other sizes take the position grid resized to their patch grid (bicubic,
  // antialiased, as Hugging Face's interpolate_pos_encoding); otherwise the size is fixed.
  bool resize_positions = false;
  int64_t patches() const { return (image_height / patch) * (image_width / patch); }
  int64_t register_count(int64_t hidden) const { return int64_t(registers.size()) / hidden; }
};

class EncoderModel final : public Model {
 public:
  ModelInfo meta;

  // Text input (BERT, RoBERTa): stack.embed, stack.positions (learned, numbered by
  // position_ids) and stack.embed_norm, plus token types.
  std::optional<Embedding> token_type_embed;
  PositionIds position_ids = PositionIds::FromZero;
  int32_t padding_idx = 0;  // AfterPadding only
  // Image input (ViT).
  std::optional<PatchEmbedding> patches;

  Stack stack;  // attention with cfg.causal = false; no head
  std::optional<Linear> pooler;  // act(dense(h[CLS]))
  // The pooler's activation; empty means tanh (BERT, and ViT's default pooler_act), which is
  // not among the kernel activations.
  std::optional<kernels::Activation> pooler_act;
  // pooler_output is the (final-normed) CLS row itself (DINOv2), when there is no pooler.
  bool pooler_is_cls = false;
  std::optional<Linear> classifier;  // on the (final-normed) CLS row, image models
  // > 0: the classifier reads [CLS, mean of the rows from this index on] (DINOv2 with
  // registers: 1 + registers), 2 × hidden wide.
  int64_t classifier_mean_from = 0;
  std::vector<std::string> labels;   // id2label, indexed by class id

  const ModelInfo& info() const override { return meta; }
  std::unique_ptr<Session> new_session(const SessionOptions& options = {}) const override;

  bool takes_text() const { return !patches.has_value(); }
  // Longest sequence the position table allows (RoBERTa loses padding_idx + 1 rows).
  int64_t max_tokens() const;

  // [total tokens, hidden] for token id sequences, packed in input order; token types 0.
  Tensor encode(const std::vector<std::vector<int32_t>>& batch) const override;
  // The same with token type ids (null, or one row per sequence of the same length).
  Tensor encode_text(const std::vector<std::vector<int32_t>>& batch,
                     const std::vector<std::vector<int32_t>>* token_types) const;
  // pixel_values [B, C, H, W] → [B × (1 + registers + patches), hidden], each image's CLS row first.
  Tensor encode_images(const Tensor& pixel_values) const;
  // [B, out] = pooler(CLS rows) of packed hidden states with the given sequence lengths.
  Tensor pool(const Tensor& hidden, const std::vector<int64_t>& lengths) const;
  // [B, classes] = classifier(CLS rows).
  Tensor classify(const Tensor& hidden, const std::vector<int64_t>& lengths) const;

  // Text: input_ids [B, L] (+ attention_mask with right padding, token_type_ids) →
  // last_hidden_state [B, L, H] (zero at padded positions), pooler_output [B, H] when the
  // model has a pooler. Images: pixel_values [B, C, H, W] → last_hidden_state, pooler_output
  // (with a pooler), logits (with a classifier).
  std::map<std::string, Tensor> forward_named(const std::map<std::string, Tensor>& inputs, int64_t generate_tokens = -1,
                                              const SessionOptions& session_options = {}) const override;

 private:
  // Runs the layers and the final norm over packed rows x[sum(lengths), hidden].
  void run_layers(float* x, const std::vector<int64_t>& lengths) const;
  Tensor gather_cls(const Tensor& hidden, const std::vector<int64_t>& lengths) const;
};

}  // namespace tessera
