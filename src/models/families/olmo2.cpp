// OLMo 2: Llama's SwiGLU and RoPE, with the norms moved after the sublayers inside the residual
// (x += post_attention_layernorm(attn(x)); x += post_feedforward_layernorm(mlp(x)), no
// pre-norms) and q/k RMSNorm over the whole projection width (all heads at once, not per head).
#include <cmath>

#include "tessera/models/hf_config.hpp"
#include "families.hpp"
#include "tessera/models/scope.hpp"
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

  const Scope root(store), base = root.pp("model");
  Stack& stack = model->stack;
  stack.embed = base.embedding("embed_tokens", vocab, d);
  hf::check_layer_count(cfg, "num_hidden_layers", store, base.name("layers."), layers);
  for (int64_t l = 0; l < layers; ++l) {
    const Scope lp = base.pp("layers").pp(l), sa = lp.pp("self_attn");
    Attention a = sa.attention(AttentionConfig{d, heads, kv_heads, head_dim, true, 0, hf::inverse_sqrt(double(head_dim))},
                               AttentionBiases::all(bias));
    a.q_norm = sa.rms_norm("q_norm", heads * head_dim, eps);
    a.k_norm = sa.rms_norm("k_norm", kv_heads * head_dim, eps);
    a.rope = Rope(rope);
    Layer layer(d);  // no pre-norms: only the post-norms inside the residual
    layer.add(Residual::sandwich(std::nullopt, lp.rms_norm("post_attention_layernorm", d, eps)), SelfAttention(std::move(a)));
    layer.add(Residual::sandwich(std::nullopt, lp.rms_norm("post_feedforward_layernorm", d, eps)),
              FeedForward(lp.pp("mlp").gated_mlp(act, d, ffn)));
    stack.layers.push_back(std::move(layer));
  }
  stack.final_norm = base.rms_norm("norm", d, eps);
  stack.head = hf::lm_head(root, "lm_head", *stack.embed, tied);
  return model;
}

}  // namespace tessera::families
