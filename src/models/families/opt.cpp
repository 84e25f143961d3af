// OPT: learned positions read at position + 2, LayerNorm either before each sublayer
// (do_layer_norm_before, with a final LayerNorm unless _remove_final_layer_norm) or after it
// (OPT-350m, no final norm), ReLU MLP, q/k/v/out biases (enable_bias), and when
// word_embed_proj_dim differs from hidden_size, project_in / project_out around the layers
// (the embeddings and the tied head are word_embed_proj_dim wide).
#include <cmath>

#include "../hf_config.hpp"
#include "families.hpp"
#include "tessera/models/decoder.hpp"

namespace tessera::families {

std::shared_ptr<const Model> load_opt(const JsonObject& cfg, const WeightStore& store, const std::string& dir) {
  auto model = std::make_shared<DecoderModel>();
  ModelInfo& info = model->meta;
  info.family = "opt";
  info.kind = ModelKind::Decoder;
  const int64_t d = info.hidden_size = cfg.get_size("hidden_size");
  const int64_t vocab = info.vocab_size = cfg.get_size("vocab_size");
  const int64_t layers = info.num_layers = cfg.get_size("num_hidden_layers", 100000);
  const int64_t heads = cfg.get_size("num_attention_heads", 100000);
  if (d % heads != 0) fail("{}: hidden_size {} is not divisible by num_attention_heads {}", cfg.where(), d, heads);
  const int64_t hd = d / heads;
  const int64_t ffn = cfg.get_size("ffn_dim");
  const int64_t positions = info.max_positions = cfg.get_size("max_position_embeddings", int64_t(1) << 24);
  const int64_t we = cfg.has("word_embed_proj_dim") ? cfg.get_size("word_embed_proj_dim") : d;
  const auto act = hf::activation(cfg, "activation_function", cfg.get_string("activation_function", "relu"));
  const bool bias = cfg.get_bool("enable_bias", true);
  const bool pre_norm = cfg.get_bool("do_layer_norm_before", true);
  const bool final_norm = pre_norm && !cfg.get_bool("_remove_final_layer_norm", false);
  const bool tied = cfg.get_bool("tie_word_embeddings", true);
  if (!cfg.get_bool("layer_norm_elementwise_affine", true))
    fail("{}: layer_norm_elementwise_affine = false (LayerNorm without weights) is not supported", cfg.where());
  const float eps = 1e-5f;  // nn.LayerNorm's default: OPTConfig has no epsilon
  hf::fill_info(info, cfg, store, dir);

  const std::string p = store.has("model.decoder.embed_tokens.weight") ? "model.decoder." : "decoder.";
  model->embed = Embedding::load(store, p + "embed_tokens.weight", vocab, we);
  model->position_embed = Embedding::load(store, p + "embed_positions.weight", positions + 2, d);
  model->position_offset = 2;
  if (we != d) {
    model->project_in = Linear::load(store, p + "project_in", we, d, false);
    model->project_out = Linear::load(store, p + "project_out", d, we, false);
  }
  hf::check_layer_count(cfg, "num_hidden_layers", store, p + "layers.", layers);
  for (int64_t l = 0; l < layers; ++l) {
    const std::string lp = fmt::format("{}layers.{}.", p, l);
    Layer layer;
    layer.residual = pre_norm ? Residual::PreNorm : Residual::PostNorm;
    layer.attn_norm = Norm::load(store, lp + "self_attn_layer_norm", NormKind::LayerNorm, d, eps);
    layer.mlp_norm = Norm::load(store, lp + "final_layer_norm", NormKind::LayerNorm, d, eps);
    Attention& a = layer.attn;
    a.cfg = AttentionConfig{d, heads, heads, hd, true, 0, float(1.0 / std::sqrt(double(hd)))};
    a.validate();
    a.q = Linear::load(store, lp + "self_attn.q_proj", d, d, bias);
    a.k = Linear::load(store, lp + "self_attn.k_proj", d, d, bias);
    a.v = Linear::load(store, lp + "self_attn.v_proj", d, d, bias);
    a.o = Linear::load(store, lp + "self_attn.out_proj", d, d, bias);
    MLP& mlp = layer.mlp;
    mlp.kind = MLP::Kind::Dense;
    mlp.act = act;
    mlp.hidden = d;
    mlp.ffn = ffn;
    mlp.up = Linear::load(store, lp + "fc1", d, ffn, bias);
    mlp.down = Linear::load(store, lp + "fc2", ffn, d, bias);
    layer.fuse_projections();
    model->layers.push_back(std::move(layer));
  }
  if (final_norm) model->final_norm = Norm::load(store, p + "final_layer_norm", NormKind::LayerNorm, d, eps);
  if (tied || !store.has("lm_head.weight")) {
    if (!tied) fail("{}: missing tensor 'lm_head.weight' (and tie_word_embeddings is false)", store.source());
    model->lm_head = Linear(model->embed.table(), {});
  } else {
    model->lm_head = Linear::load(store, "lm_head", we, vocab, false);
  }
  return model;
}

}  // namespace tessera::families
