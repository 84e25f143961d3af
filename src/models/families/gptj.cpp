// GPT-J: one LayerNorm feeding attention and MLP in parallel (x + attn(ln_1 x) + mlp(ln_1 x)),
// rotary embeddings on the first rotary_dim dims of each head in GPT-J's interleaved layout
// (pairs (2i, 2i + 1)), no q/k/v/out biases, gelu_new MLP with biases, untied head with a bias.
//
// The interleaved pairs are turned into Rope's rotate_half pairs (i, i + rotary_dim/2) by
// reordering the rows of q_proj and k_proj at load: q and k get the same permutation, so
// q·k is unchanged, and pair i still turns at frequency i.
#include <cmath>

#include "tessera/models/hf_config.hpp"
#include "families.hpp"
#include "tessera/models/scope.hpp"
#include "tessera/models/decoder.hpp"

namespace tessera::families {
namespace {

// Within each head, rows [0, 2, 4, ..., rd-2, 1, 3, ..., rd-1] first, then the rest as they are.
Linear load_deinterleaved(const Scope& scope, const std::string& module, int64_t d, int64_t heads, int64_t hd, int64_t rd) {
  std::vector<int64_t> rows;
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t t = 0; t < hd; ++t) rows.push_back(h * hd + (t >= rd ? t : t < rd / 2 ? 2 * t : 2 * (t - rd / 2) + 1));
  return scope.linear_rows(module, d, d, rows, false);
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

  const Scope root(store), base = root.pp("transformer");
  Stack& stack = model->stack;
  stack.embed = base.embedding("wte", vocab, d);
  hf::check_layer_count(cfg, "n_layer", store, base.name("h."), layers);
  for (int64_t l = 0; l < layers; ++l) {
    const Scope lp = base.pp("h").pp(l), at = lp.pp("attn");
    Linear q = load_deinterleaved(at, "q_proj", d, heads, hd, rd), k = load_deinterleaved(at, "k_proj", d, heads, hd, rd);
    Linear v = at.linear("v_proj", d, d), o = at.linear("out_proj", d, d);
    Attention a(AttentionConfig{d, heads, heads, hd, true, 0, hf::inverse_sqrt(double(hd))}, std::move(q), std::move(k),
                std::move(v), std::move(o));
    a.rope = Rope(rope);
    // The same ln_1 output feeds both sublayers.
    Norm ln_1 = lp.layer_norm("ln_1", d, eps);
    Layer layer(d);
    layer.add(Residual::pre_norm(ln_1), SelfAttention(std::move(a)));
    layer.add(Residual::parallel_to_previous(std::move(ln_1)),
              FeedForward(lp.pp("mlp").dense_mlp(act, d, ffn, true, MLPNames::dense("fc_in", "fc_out"))));
    stack.layers.push_back(std::move(layer));
  }
  stack.final_norm = base.layer_norm("ln_f", d, eps);
  stack.head = cfg.get_bool("tie_word_embeddings", false) ? Linear(stack.embed->table(), {})
                                                         : root.linear("lm_head", d, vocab, store.has("lm_head.bias"));
  return model;
}

}  // namespace tessera::families
