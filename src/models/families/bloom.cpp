// BLOOM: LayerNorm on the word embeddings, pre-LayerNorm layers with biases everywhere,
// ALiBi instead of positions (scores + slope·key position, slopes from the head count),
// q, k and v in one query_key_value weight interleaved per head ([heads][q, k, v][head_dim]),
// 4·hidden tanh-GELU MLP, head tied to the embeddings (unless tie_word_embeddings is false).
#include <cmath>

#include "../hf_config.hpp"
#include "families.hpp"
#include "fused_qkv.hpp"
#include "tessera/models/decoder.hpp"

namespace tessera::families {

std::shared_ptr<const Model> load_bloom(const JsonObject& cfg, const WeightStore& store, const std::string& dir) {
  auto model = std::make_shared<DecoderModel>();
  ModelInfo& info = model->meta;
  info.family = "bloom";
  info.kind = ModelKind::Decoder;
  // BloomConfig: n_embed (older configs) wins over hidden_size; n_layer / n_head are the stored names.
  const std::string width_key = cfg.has("n_embed") ? "n_embed" : "hidden_size";
  const int64_t d = info.hidden_size = cfg.get_size(width_key, int64_t(64), int64_t(1) << 31);
  const int64_t vocab = info.vocab_size = cfg.get_size("vocab_size", int64_t(250880), int64_t(1) << 31);
  const std::string layers_key = cfg.has("n_layer") ? "n_layer" : "num_hidden_layers";
  const std::string heads_key = cfg.has("n_head") ? "n_head" : "num_attention_heads";
  const int64_t layers = info.num_layers = cfg.get_size(layers_key, int64_t(2), int64_t(100000));
  const int64_t heads = cfg.get_size(heads_key, int64_t(8), int64_t(100000));
  if (d % heads != 0) fail("{}: {} {} is not divisible by {} {}", cfg.where(), width_key, d, heads_key, heads);
  const int64_t hd = d / heads;
  const float eps = float(cfg.get_float("layer_norm_epsilon", 1e-5));
  hf::reject_if_set(cfg, "apply_residual_connection_post_layernorm",
                    "the residual taken after the LayerNorm is not implemented (BLOOM checkpoints leave it false)");
  info.max_positions = 0;  // ALiBi has no table: the session's default context applies
  hf::fill_info(info, cfg, store, dir);

  const std::string p = store.has("transformer.word_embeddings.weight") ? "transformer." : "";
  model->embed = Embedding::load(store, p + "word_embeddings.weight", vocab, d);
  model->embed_norm = Norm::load(store, p + "word_embeddings_layernorm", NormKind::LayerNorm, d, eps);
  hf::check_layer_count(cfg, layers_key, store, p + "h.", layers);
  for (int64_t l = 0; l < layers; ++l) {
    const std::string lp = fmt::format("{}h.{}.", p, l);
    Layer layer;
    layer.residual = Residual::PreNorm;
    layer.attn_norm = Norm::load(store, lp + "input_layernorm", NormKind::LayerNorm, d, eps);
    layer.mlp_norm = Norm::load(store, lp + "post_attention_layernorm", NormKind::LayerNorm, d, eps);
    Attention& a = layer.attn;
    a.cfg = AttentionConfig{d, heads, heads, hd, true, 0, float(1.0 / std::sqrt(double(hd)))};
    a.cfg.alibi_slopes = alibi_slopes(heads);
    a.validate();
    a.qkv = load_grouped_qkv(store, lp + "self_attention.query_key_value", d, heads, 1, hd, true);
    a.o = Linear::load(store, lp + "self_attention.dense", d, d, true);
    MLP& mlp = layer.mlp;
    mlp.kind = MLP::Kind::Dense;
    mlp.act = kernels::Activation::GeluTanh;  // bloom_gelu_forward: the tanh approximation
    mlp.hidden = d;
    mlp.ffn = 4 * d;
    mlp.up = Linear::load(store, lp + "mlp.dense_h_to_4h", d, 4 * d, true);
    mlp.down = Linear::load(store, lp + "mlp.dense_4h_to_h", 4 * d, d, true);
    model->layers.push_back(std::move(layer));
  }
  model->final_norm = Norm::load(store, p + "ln_f", NormKind::LayerNorm, d, eps);
  model->lm_head = hf::lm_head(cfg, store, model->embed.table(), d, vocab, true);
  return model;
}

}  // namespace tessera::families
