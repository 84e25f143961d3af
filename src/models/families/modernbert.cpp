// ModernBERT: token embeddings and a LayerNorm (no positions: RoPE in every layer), pre-norm
// layers without an attention norm in layer 0, a fused Wqkv, GeGLU from one fused Wi
// ([act half | gate half]), a final norm; biases only where norm_bias / attention_bias /
// mlp_bias say. Layers alternate global and local attention: as modeling_modernbert.py, a
// layer is local when its index is not a multiple of global_attn_every_n_layers and then sees
// keys with |i - j| <= local_attention / 2, while its RoPE θ follows layer_types (5.x
// rope_parameters per type, 4.x global_rope_theta / local_rope_theta).
#include <cmath>

#include "families.hpp"
#include "tessera/models/encoder.hpp"
#include "tessera/models/hf_config.hpp"
#include "tessera/models/scope.hpp"

namespace tessera::families {
namespace {

// RoPE θ of "full_attention" / "sliding_attention" layers, from either config generation.
double rope_theta(const JsonObject& cfg, const std::string& type, const std::string& legacy_key, double fallback) {
  if (std::optional<JsonObject> params = cfg.get_object("rope_parameters")) {
    if (std::optional<JsonObject> p = params->get_object(type)) {
      const std::string rope_type = p->get_string("rope_type", p->get_string("type", "default"));
      if (rope_type != "default")
        fail("{}: rope_parameters.{}.rope_type '{}' is not supported for modernbert (only 'default')", cfg.where(), type,
             rope_type);
      if (p->has("rope_theta")) return p->get_float("rope_theta");
    }
  }
  return cfg.get_float(legacy_key, fallback);
}

}  // namespace

std::shared_ptr<const Model> load_modernbert(const JsonObject& cfg, const WeightStore& store, const std::string& dir) {
  auto model = std::make_shared<EncoderModel>();
  ModelInfo& info = model->meta;
  info.family = "modernbert";
  info.kind = ModelKind::Encoder;
  const int64_t d = info.hidden_size = cfg.get_size("hidden_size");
  const int64_t vocab = info.vocab_size = cfg.get_size("vocab_size");
  const int64_t layers = info.num_layers = cfg.get_size("num_hidden_layers", 100000);
  const int64_t heads = cfg.get_size("num_attention_heads", 100000);
  if (d % heads != 0) fail("{}: hidden_size {} is not divisible by num_attention_heads {}", cfg.where(), d, heads);
  const int64_t hd = d / heads;
  if (hd % 2 != 0) fail("{}: head size {} (hidden_size / num_attention_heads) must be even for RoPE", cfg.where(), hd);
  const int64_t ffn = cfg.get_size("intermediate_size");
  const float eps = float(cfg.get_float("norm_eps", 1e-5));
  const bool norm_bias = cfg.get_bool("norm_bias", false), attn_bias = cfg.get_bool("attention_bias", false),
             mlp_bias = cfg.get_bool("mlp_bias", false);
  const auto act = hf::activation(cfg, "hidden_activation", cfg.get_string("hidden_activation", "gelu"));
  const int64_t every = cfg.get_size("global_attn_every_n_layers", 3, 1 << 20);
  const int64_t local = cfg.get_size("local_attention", 128, 1 << 24);
  hf::reject_if_set(cfg, "rope_scaling", "modernbert with RoPE scaling is not supported");
  // Which θ each layer uses: layer_types when given, else the same rule as the windows.
  std::vector<int64_t> sliding(size_t(layers), 0);
  if (cfg.has("layer_types")) sliding = hf::layer_windows(cfg, layers, 1);
  else
    for (int64_t l = 0; l < layers; ++l) sliding[size_t(l)] = l % every != 0;
  const double theta_global = rope_theta(cfg, "full_attention", "global_rope_theta", 160000.0);
  const double theta_local = rope_theta(cfg, "sliding_attention", "local_rope_theta", 10000.0);
  for (double t : {theta_global, theta_local})
    if (!(t > 0) || !std::isfinite(t)) fail("{}: RoPE theta must be a positive number, found {}", cfg.where(), t);
  hf::fill_info(info, cfg, store, dir);

  // ModernBertModel saved on its own has bare names; the task models put it under "model.".
  const Scope root(store), base = root.has("model.embeddings.tok_embeddings.weight") ? root.pp("model") : root;
  Stack& stack = model->stack;
  stack.embed = base.embedding("embeddings.tok_embeddings", vocab, d);
  stack.embed_norm = base.layer_norm("embeddings.norm", d, eps, norm_bias);
  hf::check_layer_count(cfg, "num_hidden_layers", store, base.name("layers."), layers);
  for (int64_t l = 0; l < layers; ++l) {
    const Scope lp = base.pp("layers").pp(l);
    // The kernel's bidirectional window counts |i - j| < window.
    const int64_t window = l % every != 0 ? local / 2 + 1 : 0;
    Linear qkv = lp.linear("attn.Wqkv", d, 3 * d, attn_bias), o = lp.linear("attn.Wo", d, d, attn_bias);
    Attention a(AttentionConfig{d, heads, heads, hd, /*causal=*/false, window, hf::inverse_sqrt(double(hd))}, std::move(qkv),
                std::move(o));
    RopeSpec rope;
    rope.theta = sliding[size_t(l)] ? theta_local : theta_global;
    rope.rotary_dim = hd;
    a.rope = Rope(rope);
    Linear wi = lp.linear("mlp.Wi", d, 2 * ffn, mlp_bias), wo = lp.linear("mlp.Wo", ffn, d, mlp_bias);
    Layer layer(d);
    // Layer 0 has no attention norm (its input is the normed embeddings).
    layer.add(Residual::pre_norm(l > 0 ? std::optional<Norm>(lp.layer_norm("attn_norm", d, eps, norm_bias)) : std::nullopt),
              SelfAttention(std::move(a)));
    layer.add(Residual::pre_norm(lp.layer_norm("mlp_norm", d, eps, norm_bias)),
              FeedForward(MLP::gated_fused(act, std::move(wi), std::move(wo))));
    stack.layers.push_back(std::move(layer));
  }
  stack.final_norm = base.layer_norm("final_norm", d, eps, norm_bias);
  // Heads (masked LM, classification) are ignored: forward_named gives last_hidden_state.
  // RoPE has no table to run out of; max_position_embeddings (the trained length) is what the
  // tools truncate to and the server accepts.
  info.max_positions = cfg.get_size("max_position_embeddings", 8192, int64_t(1) << 30);
  return model;
}

}  // namespace tessera::families
