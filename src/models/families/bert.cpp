// BERT and RoBERTa: word + learned position + token type embeddings and a LayerNorm,
// post-norm layers with separate q/k/v projections, and an optional pooler tanh(dense(CLS)).
// RoBERTa differs only in how positions are numbered (from padding_idx + 1, pad tokens at
// padding_idx), as create_position_ids_from_input_ids does.
#include <cmath>

#include "tessera/models/hf_config.hpp"
#include "families.hpp"
#include "tessera/models/scope.hpp"
#include "tessera/models/encoder.hpp"

namespace tessera::families {
namespace {

std::shared_ptr<const Model> load_bert_like(const JsonObject& cfg, const WeightStore& store, const std::string& dir,
                                            bool roberta) {
  auto model = std::make_shared<EncoderModel>();
  ModelInfo& info = model->meta;
  info.family = roberta ? "roberta" : "bert";
  info.kind = ModelKind::Encoder;
  const int64_t d = info.hidden_size = cfg.get_size("hidden_size");
  const int64_t vocab = info.vocab_size = cfg.get_size("vocab_size");
  const int64_t layers = info.num_layers = cfg.get_size("num_hidden_layers", 100000);
  const int64_t heads = cfg.get_size("num_attention_heads", 100000);
  if (d % heads != 0) fail("{}: hidden_size {} is not divisible by num_attention_heads {}", cfg.where(), d, heads);
  const int64_t hd = d / heads;
  const int64_t ffn = cfg.get_size("intermediate_size");
  const int64_t positions = cfg.get_size("max_position_embeddings", 1 << 24);
  const int64_t type_vocab = cfg.get_int("type_vocab_size", 2);
  if (type_vocab < 0 || type_vocab > (1 << 20))
    fail("{}: field 'type_vocab_size': expected 0 to {}, found {}", cfg.where(), 1 << 20, type_vocab);
  const float eps = float(cfg.get_float("layer_norm_eps", 1e-12));
  const auto act = hf::activation(cfg, "hidden_act", cfg.get_string("hidden_act", "gelu"));
  const std::string pos_type = cfg.get_string("position_embedding_type", "absolute");
  if (pos_type != "absolute")
    fail("{}: field 'position_embedding_type' = '{}' is not supported (only 'absolute'; relative_key and "
         "relative_key_query add distance embeddings to the attention scores)",
         cfg.where(), pos_type);
  if (cfg.get_bool("is_decoder", false))
    fail("{}: field 'is_decoder' = true is not supported: tessera runs {} as a bidirectional encoder", cfg.where(),
         info.family);
  hf::reject_if_set(cfg, "add_cross_attention", "BERT/RoBERTa with cross-attention (as a decoder) is not supported");
  hf::fill_info(info, cfg, store, dir);

  const Scope root(store);
  Scope base = root;
  for (const char* candidate : {"bert", "roberta"})
    if (root.has(std::string(candidate) + ".embeddings.word_embeddings.weight")) base = root.pp(candidate);
  const Scope e = base.pp("embeddings");
  Stack& stack = model->stack;
  stack.embed = e.embedding("word_embeddings", vocab, d);
  stack.positions = PositionInput::from_embedding(e.embedding("position_embeddings", positions, d));
  // RoBERTa checkpoints keep a one-row token type table; zero rows means none at all.
  if (type_vocab > 0) model->token_type_embed = e.embedding("token_type_embeddings", type_vocab, d);
  stack.embed_norm = e.layer_norm("LayerNorm", d, eps);
  if (roberta) {
    model->position_ids = PositionIds::AfterPadding;
    const int64_t pad = cfg.get_int("pad_token_id", 1);
    if (pad < 0 || pad >= positions)
      fail("{}: pad_token_id {} must lie inside the {} position embeddings (RoBERTa numbers positions after it)",
           cfg.where(), pad, positions);
    model->padding_idx = int32_t(pad);
  }

  for (int64_t l = 0; l < layers; ++l) {
    const Scope lp = base.pp("encoder").pp("layer").pp(l);
    Attention a = lp.pp("attention").attention(
        AttentionConfig{d, heads, heads, hd, /*causal=*/false, 0, hf::inverse_sqrt(double(hd))}, AttentionBiases::all(true),
        AttentionNames{"self.query", "self.key", "self.value", "output.dense"});
    Layer layer(d);
    layer.add(Residual::post_norm(lp.layer_norm("attention.output.LayerNorm", d, eps)), SelfAttention(std::move(a)));
    layer.add(Residual::post_norm(lp.layer_norm("output.LayerNorm", d, eps)),
              FeedForward(lp.dense_mlp(act, d, ffn, true, MLPNames::dense("intermediate.dense", "output.dense"))));
    stack.layers.push_back(std::move(layer));
  }
  // Heads (masked LM, sequence classification, ...) are ignored: encode() and forward_named
  // give the base model's outputs. The pooler exists unless the checkpoint dropped it.
  if (base.has("pooler.dense.weight")) model->pooler = base.linear("pooler.dense", d, d, true);
  info.max_positions = model->max_tokens();
  return model;
}

}  // namespace

std::shared_ptr<const Model> load_bert(const JsonObject& cfg, const WeightStore& store, const std::string& dir) {
  return load_bert_like(cfg, store, dir, false);
}

std::shared_ptr<const Model> load_roberta(const JsonObject& cfg, const WeightStore& store, const std::string& dir) {
  return load_bert_like(cfg, store, dir, true);
}

}  // namespace tessera::families
