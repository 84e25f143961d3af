// Phi-3, Phi-3.5 and Phi-4 (model_type phi3): Llama's pre-norm SwiGLU layers with
//   - q, k and v in one qkv_proj weight ([q | k | v] rows, the layout Attention's fused
//     projection takes as it is) and gate and up in one gate_up_proj ([gate | up] rows, MLP's)
//   - partial rotary embeddings (partial_rotary_factor) and LongRoPE (short factors while a
//     call's positions fit original_max_position_embeddings, long ones past it)
//   - sliding_window, when set, on every layer
#include <cmath>

#include "tessera/models/hf_config.hpp"
#include "families.hpp"
#include "tessera/models/scope.hpp"
#include "tessera/models/decoder.hpp"

namespace tessera::families {

std::shared_ptr<const Model> load_phi3(const JsonObject& cfg, const WeightStore& store, const std::string& dir) {
  auto model = std::make_shared<DecoderModel>();
  ModelInfo& info = model->meta;
  info.family = "phi3";
  info.kind = ModelKind::Decoder;
  const int64_t d = info.hidden_size = cfg.get_size("hidden_size");
  const int64_t vocab = info.vocab_size = cfg.get_size("vocab_size");
  const int64_t layers = info.num_layers = cfg.get_size("num_hidden_layers", 100000);
  const auto [heads, kv_heads, head_dim] = hf::head_shape(cfg, d);
  const int64_t ffn = cfg.get_size("intermediate_size");
  info.max_positions = cfg.get_size("max_position_embeddings", 0, int64_t(1) << 40);
  const float eps = float(cfg.get_float("rms_norm_eps", 1e-5));
  const auto act = hf::activation(cfg, "hidden_act", cfg.get_string("hidden_act", "silu"));
  const bool tied = cfg.get_bool("tie_word_embeddings", false);
  const int64_t window = cfg.get_int("sliding_window", 0);
  if (window < 0) fail("{}: sliding_window must be positive, found {}", cfg.where(), window);
  RopeSpec rope = hf::rope(cfg, head_dim);
  hf::fill_info(info, cfg, store, dir);

  const Scope root(store), base = root.pp("model");
  Stack& stack = model->stack;
  stack.embed = base.embedding("embed_tokens", vocab, d);
  hf::check_layer_count(cfg, "num_hidden_layers", store, base.name("layers."), layers);
  for (int64_t l = 0; l < layers; ++l) {
    const Scope lp = base.pp("layers").pp(l), sa = lp.pp("self_attn");
    const AttentionConfig ac{d, heads, kv_heads, head_dim, true, window, hf::inverse_sqrt(double(head_dim))};
    Linear qkv = sa.linear("qkv_proj", d, (heads + 2 * kv_heads) * head_dim), o = sa.linear("o_proj", heads * head_dim, d);
    Attention a(ac, std::move(qkv), std::move(o));
    a.rope = Rope(rope);
    Layer layer(d);
    layer.add(Residual::pre_norm(lp.rms_norm("input_layernorm", d, eps)), SelfAttention(std::move(a)));
    Linear gate_up = lp.linear("mlp.gate_up_proj", d, 2 * ffn), down = lp.linear("mlp.down_proj", ffn, d);
    layer.add(Residual::pre_norm(lp.rms_norm("post_attention_layernorm", d, eps)),
              FeedForward(MLP::gated_fused(act, std::move(gate_up), std::move(down))));
    stack.layers.push_back(std::move(layer));
  }
  stack.final_norm = base.rms_norm("norm", d, eps);
  stack.head = hf::lm_head(root, "lm_head", *stack.embed, tied);
  return model;
}

}  // namespace tessera::families
