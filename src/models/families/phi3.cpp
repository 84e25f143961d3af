// Phi-3, Phi-3.5 and Phi-4 (model_type phi3): Llama's pre-norm SwiGLU layers with
//   - q, k and v in one qkv_proj weight ([q | k | v] rows, the layout Attention's fused
//     projection takes as it is) and gate and up in one gate_up_proj ([gate | up] rows, MLP's)
//   - partial rotary embeddings (partial_rotary_factor) and LongRoPE (short factors while a
//     call's positions fit original_max_position_embeddings, long ones past it)
//   - sliding_window, when set, on every layer
#include <cmath>

#include "../hf_config.hpp"
#include "families.hpp"
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

  model->embed = Embedding::load(store, "model.embed_tokens.weight", vocab, d);
  hf::check_layer_count(cfg, "num_hidden_layers", store, "model.layers.", layers);
  for (int64_t l = 0; l < layers; ++l) {
    const std::string lp = fmt::format("model.layers.{}.", l);
    Layer layer;
    layer.residual = Residual::PreNorm;
    layer.attn_norm = Norm::load(store, lp + "input_layernorm", NormKind::RMSNorm, d, eps, false);
    layer.mlp_norm = Norm::load(store, lp + "post_attention_layernorm", NormKind::RMSNorm, d, eps, false);
    Attention& a = layer.attn;
    a.cfg = AttentionConfig{d, heads, kv_heads, head_dim, true, window, float(1.0 / std::sqrt(double(head_dim)))};
    a.validate();
    a.qkv = Linear::load(store, lp + "self_attn.qkv_proj", d, a.qkv_width(), false);
    a.o = Linear::load(store, lp + "self_attn.o_proj", heads * head_dim, d, false);
    a.rope = Rope(rope);
    MLP& mlp = layer.mlp;
    mlp.kind = MLP::Kind::Gated;
    mlp.act = act;
    mlp.hidden = d;
    mlp.ffn = ffn;
    mlp.gate_up = Linear::load(store, lp + "mlp.gate_up_proj", d, 2 * ffn, false);
    mlp.down = Linear::load(store, lp + "mlp.down_proj", ffn, d, false);
    model->layers.push_back(std::move(layer));
  }
  model->final_norm = Norm::load(store, "model.norm", NormKind::RMSNorm, d, eps, false);
  if (tied) model->lm_head = Linear(model->embed.table(), {});
  else model->lm_head = Linear::load(store, "lm_head", d, vocab, false);
  return model;
}

}  // namespace tessera::families
