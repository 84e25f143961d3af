// GPT-2: learned absolute positions, pre-norm LayerNorm, fused Conv1D projections stored
// [in, out] (transposed once at load), dense MLP, tied LM head.
#include <cmath>

#include "../hf_config.hpp"
#include "families.hpp"
#include "tessera/models/decoder.hpp"

namespace tessera::families {

std::shared_ptr<const Model> load_gpt2(const JsonObject& cfg, const WeightStore& store, const std::string& dir) {
  auto model = std::make_shared<DecoderModel>();
  ModelInfo& info = model->meta;
  info.family = "gpt2";
  info.kind = ModelKind::Decoder;
  const int64_t d = info.hidden_size = cfg.get_size("n_embd");
  const int64_t vocab = info.vocab_size = cfg.get_size("vocab_size");
  const int64_t layers = info.num_layers = cfg.get_size("n_layer", 100000);
  const int64_t heads = cfg.get_size("n_head", 100000);
  if (d % heads != 0) fail("{}: n_embd {} is not divisible by n_head {}", cfg.where(), d, heads);
  const int64_t hd = d / heads;
  const int64_t ffn = cfg.get_size("n_inner", 4 * d, int64_t(1) << 31);
  const int64_t positions = info.max_positions = cfg.get_size("n_positions", 1 << 24);
  const float eps = float(cfg.get_float("layer_norm_epsilon", 1e-5));
  const auto act = hf::activation(cfg, "activation_function", cfg.get_string("activation_function", "gelu_new"));
  const bool scale_weights = cfg.get_bool("scale_attn_weights", true);
  const bool inverse_layer = cfg.get_bool("scale_attn_by_inverse_layer_idx", false);
  hf::reject_if_set(cfg, "add_cross_attention", "GPT-2 with cross-attention is not supported");
  hf::fill_info(info, cfg, store, dir);

  const std::string p = store.has("transformer.wte.weight") ? "transformer." : "";
  model->embed = Embedding::load(store, p + "wte.weight", vocab, d);
  model->position_embed = Embedding::load(store, p + "wpe.weight", positions, d);
  hf::check_layer_count(cfg, "n_layer", store, p + "h.", layers);
  for (int64_t l = 0; l < layers; ++l) {
    const std::string lp = fmt::format("{}h.{}.", p, l);
    Layer layer;
    layer.residual = Residual::PreNorm;
    layer.attn_norm = Norm::load(store, lp + "ln_1", NormKind::LayerNorm, d, eps);
    layer.mlp_norm = Norm::load(store, lp + "ln_2", NormKind::LayerNorm, d, eps);
    Attention& a = layer.attn;
    float scale = scale_weights ? float(1.0 / std::sqrt(double(hd))) : 1.0f;
    if (inverse_layer) scale /= float(l + 1);
    a.cfg = AttentionConfig{d, heads, heads, hd, true, 0, scale};
    a.validate();
    a.qkv = Linear::load_transposed(store, lp + "attn.c_attn", d, 3 * d, true);
    a.o = Linear::load_transposed(store, lp + "attn.c_proj", d, d, true);
    layer.mlp.kind = MLP::Kind::Dense;
    layer.mlp.act = act;
    layer.mlp.hidden = d;
    layer.mlp.ffn = ffn;
    layer.mlp.up = Linear::load_transposed(store, lp + "mlp.c_fc", d, ffn, true);
    layer.mlp.down = Linear::load_transposed(store, lp + "mlp.c_proj", ffn, d, true);
    model->layers.push_back(std::move(layer));
  }
  model->final_norm = Norm::load(store, p + "ln_f", NormKind::LayerNorm, d, eps);
  const bool tied = cfg.get_bool("tie_word_embeddings", true);
  if (tied) model->lm_head = Linear(model->embed.table(), {});
  else model->lm_head = Linear::load(store, "lm_head", d, vocab, false);
  return model;
}

}  // namespace tessera::families
