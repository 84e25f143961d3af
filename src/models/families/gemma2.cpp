// Gemma 2: Gemma's GeGLU, (1 + w) RMSNorm, sqrt(hidden)-scaled embeddings and tied head, plus
//   - sandwich norms: input/post_attention around attention, pre/post_feedforward around the MLP
//   - attention scores scaled by query_pre_attn_scalar^-1/2 (not head_dim) and soft-capped
//     (attn_logit_softcapping), final logits soft-capped (final_logit_softcapping)
//   - sliding-window layers alternating with global ones (layer_types; by default layer 0, 2, ...
//     slide, as Gemma2Config writes it)
// Defaults are Gemma2Config's; a soft-cap or sliding_window set to null turns it off.
#include <cmath>

#include "tessera/models/hf_config.hpp"
#include "families.hpp"
#include "tessera/models/scope.hpp"
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

  const Scope root(store), base = root.pp("model");
  Stack& stack = model->stack;
  stack.embed = base.embedding("embed_tokens", vocab, d);
  stack.embed_scale = float(std::sqrt(double(d)));
  stack.final_softcap = float(final_cap);
  hf::check_layer_count(cfg, "num_hidden_layers", store, base.name("layers."), layers);
  for (int64_t l = 0; l < layers; ++l) {
    const Scope lp = base.pp("layers").pp(l);
    auto norm = [&](const std::string& name) { return lp.rms_norm(name, d, eps, /*plus_one=*/true); };
    Attention a = lp.pp("self_attn").attention(
        AttentionConfig{d, heads, kv_heads, head_dim, true, window[size_t(l)], hf::inverse_sqrt(pre_attn_scalar), float(attn_cap)},
        AttentionBiases::all(bias));
    a.rope = Rope(rope);
    Layer layer(d);
    layer.add(Residual::sandwich(norm("input_layernorm"), norm("post_attention_layernorm")), SelfAttention(std::move(a)));
    layer.add(Residual::sandwich(norm("pre_feedforward_layernorm"), norm("post_feedforward_layernorm")),
              FeedForward(lp.pp("mlp").gated_mlp(act, d, ffn)));
    stack.layers.push_back(std::move(layer));
  }
  stack.final_norm = base.rms_norm("norm", d, eps, /*plus_one=*/true);
  stack.head = hf::lm_head(root, "lm_head", *stack.embed, tied);
  return model;
}

}  // namespace tessera::families
