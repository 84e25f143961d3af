// OLMo 2: Llama's SwiGLU and RoPE, with the norms moved after the sublayers inside the residual
// (x += post_attention_layernorm(attn(x)); x += post_feedforward_layernorm(mlp(x)), no
// pre-norms) and q/k RMSNorm over the whole projection width (all heads at once, not per head).
#include <cmath>

#include "../hf_config.hpp"
#include "families.hpp"
#include "tessera/models/decoder.hpp"

namespace tessera::families {

std::shared_ptr<const Model> load_olmo2(const JsonObject& cfg, const WeightStore& store, const std::string& dir) {
  auto model = std::make_shared<DecoderModel>();
  ModelInfo& info = model->meta;
  info.family = "olmo2";
  info.kind = ModelKind::Decoder;
  const int64_t d = info.hidden_size = cfg.get_size("hidden_size");
  const int64_t vocab = info.vocab_size = cfg.get_size("vocab_size");
  const int64_t layers = info.num_layers = cfg.get_size("num_hidden_layers", 100000);
  const auto [heads, kv_heads, head_dim] = hf::head_shape(cfg, d);
  const int64_t ffn = cfg.get_size("intermediate_size");
  info.max_positions = cfg.get_size("max_position_embeddings", 0, int64_t(1) << 40);
  const float eps = float(cfg.get_float("rms_norm_eps", 1e-5));
  const auto act = hf::activation(cfg, "hidden_act", cfg.get_string("hidden_act", "silu"));
  const bool bias = cfg.get_bool("attention_bias", false);
  const bool tied = cfg.get_bool("tie_word_embeddings", false);
  hf::reject_if_set(cfg, "clip_qkv", "OLMo 2 in transformers does not clip q/k/v");
  RopeSpec rope = hf::rope(cfg, head_dim);
  hf::fill_info(info, cfg, store, dir);

  model->embed = Embedding::load(store, "model.embed_tokens.weight", vocab, d);
  hf::check_layer_count(cfg, "num_hidden_layers", store, "model.layers.", layers);
  for (int64_t l = 0; l < layers; ++l) {
    const std::string lp = fmt::format("model.layers.{}.", l);
    Layer layer;
    layer.residual = Residual::PreNorm;  // with both pre-norms disabled: only the post-norms
    layer.post_attn_norm = Norm::load(store, lp + "post_attention_layernorm", NormKind::RMSNorm, d, eps, false);
    layer.post_mlp_norm = Norm::load(store, lp + "post_feedforward_layernorm", NormKind::RMSNorm, d, eps, false);
    Attention& a = layer.attn;
    a.cfg = AttentionConfig{d, heads, kv_heads, head_dim, true, 0, float(1.0 / std::sqrt(double(head_dim)))};
    a.validate();
    a.q = Linear::load(store, lp + "self_attn.q_proj", d, heads * head_dim, bias);
    a.k = Linear::load(store, lp + "self_attn.k_proj", d, kv_heads * head_dim, bias);
    a.v = Linear::load(store, lp + "self_attn.v_proj", d, kv_heads * head_dim, bias);
    a.o = Linear::load(store, lp + "self_attn.o_proj", heads * head_dim, d, bias);
    a.q_norm = Norm::load(store, lp + "self_attn.q_norm", NormKind::RMSNorm, heads * head_dim, eps, false);
    a.k_norm = Norm::load(store, lp + "self_attn.k_norm", NormKind::RMSNorm, kv_heads * head_dim, eps, false);
    a.rope = Rope(rope);
    MLP& mlp = layer.mlp;
    mlp.kind = MLP::Kind::Gated;
    mlp.act = act;
    mlp.hidden = d;
    mlp.ffn = ffn;
    mlp.gate = Linear::load(store, lp + "mlp.gate_proj", d, ffn, false);
    mlp.up = Linear::load(store, lp + "mlp.up_proj", d, ffn, false);
    mlp.down = Linear::load(store, lp + "mlp.down_proj", ffn, d, false);
    layer.fuse_projections();
    model->layers.push_back(std::move(layer));
  }
  model->final_norm = Norm::load(store, "model.norm", NormKind::RMSNorm, d, eps, false);
  if (tied) model->lm_head = Linear(model->embed.table(), {});
  else model->lm_head = Linear::load(store, "lm_head", d, vocab, false);
  return model;
}

}  // namespace tessera::families
