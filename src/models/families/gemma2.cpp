// Gemma 2: Gemma's GeGLU, (1 + w) RMSNorm, sqrt(hidden)-scaled embeddings and tied head, plus
//   - sandwich norms: input/post_attention around attention, pre/post_feedforward around the MLP
//   - attention scores scaled by query_pre_attn_scalar^-1/2 (not head_dim) and soft-capped
//     (attn_logit_softcapping), final logits soft-capped (final_logit_softcapping)
//   - sliding-window layers alternating with global ones (layer_types; by default layer 0, 2, ...
//     slide, as Gemma2Config writes it)
// Defaults are Gemma2Config's; a soft-cap or sliding_window set to null turns it off.
#include <cmath>

#include "../hf_config.hpp"
#include "families.hpp"
#include "tessera/models/decoder.hpp"

namespace tessera::families {

std::shared_ptr<const Model> load_gemma2(const JsonObject& cfg, const WeightStore& store, const std::string& dir) {
  auto model = std::make_shared<DecoderModel>();
  ModelInfo& info = model->meta;
  info.family = "gemma2";
  info.kind = ModelKind::Decoder;
  const int64_t d = info.hidden_size = cfg.get_size("hidden_size");
  const int64_t vocab = info.vocab_size = cfg.get_size("vocab_size");
  const int64_t layers = info.num_layers = cfg.get_size("num_hidden_layers", 100000);
  const auto [heads, kv_heads, head_dim] = hf::head_shape(cfg, d, /*Gemma2Config's default head_dim=*/256);
  const int64_t ffn = cfg.get_size("intermediate_size");
  info.max_positions = cfg.get_size("max_position_embeddings", 0, int64_t(1) << 40);
  const float eps = float(cfg.get_float("rms_norm_eps", 1e-6));
  const std::string act_key = cfg.has("hidden_activation") ? "hidden_activation" : "hidden_act";
  const auto act = hf::activation(cfg, act_key, cfg.get_string(act_key, "gelu_pytorch_tanh"));
  const bool bias = cfg.get_bool("attention_bias", false);
  const bool tied = cfg.get_bool("tie_word_embeddings", true);
  const double pre_attn_scalar = cfg.get_float("query_pre_attn_scalar", 256.0);
  if (!(pre_attn_scalar > 0)) fail("{}: query_pre_attn_scalar must be positive, found {}", cfg.where(), pre_attn_scalar);
  const double attn_cap = hf::float_or_off(cfg, "attn_logit_softcapping", 50.0);
  const double final_cap = hf::float_or_off(cfg, "final_logit_softcapping", 30.0);
  if (attn_cap < 0 || final_cap < 0)
    fail("{}: attn_logit_softcapping ({}) and final_logit_softcapping ({}) must be positive or null", cfg.where(), attn_cap,
         final_cap);
  const int64_t sw = int64_t(hf::float_or_off(cfg, "sliding_window", 4096));
  if (sw < 0) fail("{}: sliding_window must be positive, found {}", cfg.where(), sw);
  std::vector<int64_t> window(size_t(layers), 0);
  if (cfg.has("layer_types")) window = hf::layer_windows(cfg, layers, sw);
  else
    for (int64_t l = 0; l < layers; l += 2) window[size_t(l)] = sw;
  if (cfg.get_bool("use_bidirectional_attention", false))
    fail("{}: use_bidirectional_attention is not supported", cfg.where());
  RopeSpec rope = hf::rope(cfg, head_dim);
  hf::fill_info(info, cfg, store, dir);

  model->embed = Embedding::load(store, "model.embed_tokens.weight", vocab, d);
  model->embed_scale = float(std::sqrt(double(d)));
  model->final_softcap = float(final_cap);
  hf::check_layer_count(cfg, "num_hidden_layers", store, "model.layers.", layers);
  auto norm = [&](const std::string& name) { return Norm::load(store, name, NormKind::RMSNorm, d, eps, false, /*plus_one=*/true); };
  for (int64_t l = 0; l < layers; ++l) {
    const std::string lp = fmt::format("model.layers.{}.", l);
    Layer layer;
    layer.residual = Residual::PreNorm;
    layer.attn_norm = norm(lp + "input_layernorm");
    layer.post_attn_norm = norm(lp + "post_attention_layernorm");
    layer.mlp_norm = norm(lp + "pre_feedforward_layernorm");
    layer.post_mlp_norm = norm(lp + "post_feedforward_layernorm");
    Attention& a = layer.attn;
    a.cfg = AttentionConfig{d, heads, kv_heads, head_dim, true, window[size_t(l)], float(1.0 / std::sqrt(pre_attn_scalar)),
                            float(attn_cap)};
    a.validate();
    a.q = Linear::load(store, lp + "self_attn.q_proj", d, heads * head_dim, bias);
    a.k = Linear::load(store, lp + "self_attn.k_proj", d, kv_heads * head_dim, bias);
    a.v = Linear::load(store, lp + "self_attn.v_proj", d, kv_heads * head_dim, bias);
    a.o = Linear::load(store, lp + "self_attn.o_proj", heads * head_dim, d, bias);
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
  model->final_norm = norm("model.norm");
  if (tied) model->lm_head = Linear(model->embed.table(), {});
  else model->lm_head = Linear::load(store, "lm_head", d, vocab, false);
  return model;
}

}  // namespace tessera::families
