// GPT-J: one LayerNorm feeding attention and MLP in parallel (x + attn(ln_1 x) + mlp(ln_1 x)),
// rotary embeddings on the first rotary_dim dims of each head in GPT-J's interleaved layout
// (pairs (2i, 2i + 1)), no q/k/v/out biases, gelu_new MLP with biases, untied head with a bias.
//
// The interleaved pairs are turned into Rope's rotate_half pairs (i, i + rotary_dim/2) by
// reordering the rows of q_proj and k_proj at load: q and k get the same permutation, so
// q·k is unchanged, and pair i still turns at frequency i.
#include <cmath>

#include "../hf_config.hpp"
#include "families.hpp"
#include "tessera/models/decoder.hpp"

namespace tessera::families {
namespace {

// Within each head, rows [0, 2, 4, ..., rd-2, 1, 3, ..., rd-1] first, then the rest as they are.
Linear load_deinterleaved(const WeightStore& store, const std::string& prefix, int64_t d, int64_t heads, int64_t hd,
                          int64_t rd) {
  std::vector<int64_t> rows;
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t t = 0; t < hd; ++t) rows.push_back(h * hd + (t >= rd ? t : t < rd / 2 ? 2 * t : 2 * (t - rd / 2) + 1));
  return Linear::load_rows(store, prefix, d, d, rows, false);
}

}  // namespace

std::shared_ptr<const Model> load_gptj(const JsonObject& cfg, const WeightStore& store, const std::string& dir) {
  auto model = std::make_shared<DecoderModel>();
  ModelInfo& info = model->meta;
  info.family = "gptj";
  info.kind = ModelKind::Decoder;
  const int64_t d = info.hidden_size = cfg.get_size("n_embd");
  const int64_t vocab = info.vocab_size = cfg.get_size("vocab_size");
  const int64_t layers = info.num_layers = cfg.get_size("n_layer", 100000);
  const int64_t heads = cfg.get_size("n_head", 100000);
  if (d % heads != 0) fail("{}: n_embd {} is not divisible by n_head {}", cfg.where(), d, heads);
  const int64_t hd = d / heads;
  // rotary_dim null: transformers builds n_embd-wide sin/cos tables, which fit a head only when
  // there is one head (then the whole head turns).
  if (!cfg.has("rotary_dim") && heads != 1)
    fail("{}: rotary_dim is null with n_head {}: transformers cannot run that either (its n_embd-wide rotary tables "
         "only fit a single head); set rotary_dim", cfg.where(), heads);
  const int64_t rd = cfg.has("rotary_dim") ? cfg.get_size("rotary_dim", 1 << 16) : hd;
  if (rd > hd || rd % 2 != 0) fail("{}: rotary_dim {} must be even and at most the head size {}", cfg.where(), rd, hd);
  const int64_t ffn = cfg.has("n_inner") ? cfg.get_size("n_inner") : 4 * d;
  info.max_positions = cfg.get_size("n_positions", 0, int64_t(1) << 40);
  const float eps = float(cfg.get_float("layer_norm_epsilon", 1e-5));
  const auto act = hf::activation(cfg, "activation_function", cfg.get_string("activation_function", "gelu_new"));
  RopeSpec rope;
  rope.theta = 10000.0;  // GPT-J's create_sinusoidal_positions: fixed base
  rope.rotary_dim = rd;
  hf::fill_info(info, cfg, store, dir);

  const std::string p = "transformer.";
  model->embed = Embedding::load(store, p + "wte.weight", vocab, d);
  hf::check_layer_count(cfg, "n_layer", store, p + "h.", layers);
  for (int64_t l = 0; l < layers; ++l) {
    const std::string lp = fmt::format("{}h.{}.", p, l);
    Layer layer;
    layer.residual = Residual::Parallel;
    layer.attn_norm = Norm::load(store, lp + "ln_1", NormKind::LayerNorm, d, eps);
    layer.mlp_norm = layer.attn_norm;  // the same ln_1 output feeds both
    Attention& a = layer.attn;
    a.cfg = AttentionConfig{d, heads, heads, hd, true, 0, float(1.0 / std::sqrt(double(hd)))};
    a.validate();
    a.q = load_deinterleaved(store, lp + "attn.q_proj", d, heads, hd, rd);
    a.k = load_deinterleaved(store, lp + "attn.k_proj", d, heads, hd, rd);
    a.v = Linear::load(store, lp + "attn.v_proj", d, d, false);
    a.o = Linear::load(store, lp + "attn.out_proj", d, d, false);
    a.rope = Rope(rope);
    MLP& mlp = layer.mlp;
    mlp.kind = MLP::Kind::Dense;
    mlp.act = act;
    mlp.hidden = d;
    mlp.ffn = ffn;
    mlp.up = Linear::load(store, lp + "mlp.fc_in", d, ffn, true);
    mlp.down = Linear::load(store, lp + "mlp.fc_out", ffn, d, true);
    layer.fuse_projections();
    model->layers.push_back(std::move(layer));
  }
  model->final_norm = Norm::load(store, p + "ln_f", NormKind::LayerNorm, d, eps);
  if (cfg.get_bool("tie_word_embeddings", false)) model->lm_head = Linear(model->embed.table(), {});
  else model->lm_head = Linear::load(store, "lm_head", d, vocab, store.has("lm_head.bias"));
  return model;
}

}  // namespace tessera::families
