// The BERT-shaped text encoders: word + learned position (+ token type) embeddings and a
// LayerNorm, post-norm layers with separate q/k/v projections and a dense MLP, and an optional
// pooler tanh(dense(CLS)). The families differ only in their config keys and weight names
// (the tables below) and how positions are numbered: RoBERTa and XLM-RoBERTa count from
// padding_idx + 1 with pad tokens at padding_idx (create_position_ids_from_input_ids);
// DistilBERT has no token types, no pooler and a fixed LayerNorm eps of 1e-12.
#include <cmath>
#include <string>
#include <vector>

#include "families.hpp"
#include "tessera/models/encoder.hpp"
#include "tessera/models/hf_config.hpp"
#include "tessera/models/scope.hpp"

namespace tessera::families {
namespace {

// Where one family keeps each part: config keys, then weight names relative to the model prefix.
struct BertNames {
  const char* family;
  bool positions_after_padding;  // RoBERTa's numbering
  // config.json keys
  const char* hidden;
  const char* layers;
  const char* heads;
  const char* ffn;
  const char* act;
  const char* eps;  // nullptr: LayerNorm eps fixed at 1e-12 (DistilBERT)
  // weights: prefixes a task model adds before the base model's names ("" = bare base model)
  std::vector<std::string> prefixes;
  const char* word;
  const char* position;
  const char* token_type;  // nullptr: none
  const char* embed_norm;
  const char* layer;  // + N + "."
  const char *q, *k, *v, *o, *attn_norm, *up, *down, *mlp_norm;
};

const BertNames kBert{"bert", false, "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                      "hidden_act", "layer_norm_eps", {"bert.", "roberta.", ""},
                      "embeddings.word_embeddings", "embeddings.position_embeddings",
                      "embeddings.token_type_embeddings", "embeddings.LayerNorm", "encoder.layer.",
                      "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
                      "attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm"};

BertNames roberta_names(const char* family) {
  BertNames n = kBert;
  n.family = family;
  n.positions_after_padding = true;
  return n;
}

const BertNames kDistilBert{"distilbert", false, "dim", "n_layers", "n_heads", "hidden_dim", "activation", nullptr,
                            {"distilbert.", ""},
                            "embeddings.word_embeddings", "embeddings.position_embeddings", nullptr,
                            "embeddings.LayerNorm", "transformer.layer.",
                            "attention.q_lin", "attention.k_lin", "attention.v_lin", "attention.out_lin",
                            "sa_layer_norm", "ffn.lin1", "ffn.lin2", "output_layer_norm"};

std::shared_ptr<const Model> load_bert_like(const JsonObject& cfg, const WeightStore& store, const std::string& dir,
                                            const BertNames& n) {
  auto model = std::make_shared<EncoderModel>();
  ModelInfo& info = model->meta;
  info.family = n.family;
  info.kind = ModelKind::Encoder;
  const int64_t d = info.hidden_size = cfg.get_size(n.hidden);
  const int64_t vocab = info.vocab_size = cfg.get_size("vocab_size");
  const int64_t layers = info.num_layers = cfg.get_size(n.layers, 100000);
  const int64_t heads = cfg.get_size(n.heads, 100000);
  if (d % heads != 0) fail("{}: {} {} is not divisible by {} {}", cfg.where(), n.hidden, d, n.heads, heads);
  const int64_t hd = d / heads;
  const int64_t ffn = cfg.get_size(n.ffn);
  const int64_t positions = cfg.get_size("max_position_embeddings", 1 << 24);
  const int64_t type_vocab = n.token_type ? cfg.get_int("type_vocab_size", 2) : 0;
  if (type_vocab < 0 || type_vocab > (1 << 20))
    fail("{}: field 'type_vocab_size': expected 0 to {}, found {}", cfg.where(), 1 << 20, type_vocab);
  const float eps = n.eps ? float(cfg.get_float(n.eps, 1e-12)) : 1e-12f;
  const auto act = hf::activation(cfg, n.act, cfg.get_string(n.act, "gelu"));
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

  std::string p;
  for (const std::string& candidate : n.prefixes)
    if (store.has(candidate + n.word + ".weight")) {
      p = candidate;
      break;
    }
  const Scope base(store, p);
  Stack& stack = model->stack;
  stack.embed = base.embedding(n.word, vocab, d);
  // DistilBERT's sinusoidal_pos_embds only initialises this table; checkpoints store it.
  stack.positions = PositionInput::from_embedding(base.embedding(n.position, positions, d));
  // RoBERTa checkpoints keep a one-row token type table; zero rows means none at all.
  if (type_vocab > 0) model->token_type_embed = base.embedding(n.token_type, type_vocab, d);
  stack.embed_norm = base.layer_norm(n.embed_norm, d, eps);
  if (n.positions_after_padding) {
    model->position_ids = PositionIds::AfterPadding;
    const int64_t pad = cfg.get_int("pad_token_id", 1);
    if (pad < 0 || pad >= positions)
      fail("{}: pad_token_id {} must lie inside the {} position embeddings ({} numbers positions after it)",
           cfg.where(), pad, positions, info.family);
    model->padding_idx = int32_t(pad);
  }
  hf::check_layer_count(cfg, n.layers, store, p + n.layer, layers);

  for (int64_t l = 0; l < layers; ++l) {
    const Scope lp(store, fmt::format("{}{}{}.", p, n.layer, l));
    Attention a = lp.attention(AttentionConfig{d, heads, heads, hd, /*causal=*/false, 0, hf::inverse_sqrt(double(hd))},
                               AttentionBiases::all(true), AttentionNames{n.q, n.k, n.v, n.o});
    Layer layer(d);
    layer.add(Residual::post_norm(lp.layer_norm(n.attn_norm, d, eps)), SelfAttention(std::move(a)));
    layer.add(Residual::post_norm(lp.layer_norm(n.mlp_norm, d, eps)),
              FeedForward(lp.dense_mlp(act, d, ffn, true, MLPNames::dense(n.up, n.down))));
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
  return load_bert_like(cfg, store, dir, kBert);
}

std::shared_ptr<const Model> load_roberta(const JsonObject& cfg, const WeightStore& store, const std::string& dir) {
  static const BertNames names = roberta_names("roberta");
  return load_bert_like(cfg, store, dir, names);
}

std::shared_ptr<const Model> load_xlm_roberta(const JsonObject& cfg, const WeightStore& store, const std::string& dir) {
  // XLM-RoBERTa's task models keep the base model under "roberta." too (base_model_prefix).
  static const BertNames names = roberta_names("xlm-roberta");
  return load_bert_like(cfg, store, dir, names);
}

std::shared_ptr<const Model> load_distilbert(const JsonObject& cfg, const WeightStore& store, const std::string& dir) {
  return load_bert_like(cfg, store, dir, kDistilBert);
}

}  // namespace tessera::families
