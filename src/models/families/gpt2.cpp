// GPT-2: learned absolute positions, pre-norm LayerNorm, fused Conv1D projections stored
// [in, out] (transposed once at load), dense MLP, tied LM head.
#include <cmath>

#include "tessera/models/hf_config.hpp"
#include "families.hpp"
#include "tessera/models/scope.hpp"
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

  const Scope root(store), base = root.has("transformer.wte.weight") ? root.pp("transformer") : root;
  Stack& stack = model->stack;
  stack.embed = base.embedding("wte", vocab, d);
  stack.positions = PositionInput::from_embedding(base.embedding("wpe", positions, d));
  hf::check_layer_count(cfg, "n_layer", store, base.name("h."), layers);
  for (int64_t l = 0; l < layers; ++l) {
    const Scope lp = base.pp("h").pp(l);
    float scale = scale_weights ? hf::inverse_sqrt(double(hd)) : 1.0f;
    if (inverse_layer) scale /= float(l + 1);
    Linear qkv = lp.linear_transposed("attn.c_attn", d, 3 * d, true), o = lp.linear_transposed("attn.c_proj", d, d, true);
    Linear fc = lp.linear_transposed("mlp.c_fc", d, ffn, true), proj = lp.linear_transposed("mlp.c_proj", ffn, d, true);
    Layer layer(d);
    layer.add(Residual::pre_norm(lp.layer_norm("ln_1", d, eps)),
              SelfAttention(Attention(AttentionConfig{d, heads, heads, hd, true, 0, scale}, std::move(qkv), std::move(o))));
    layer.add(Residual::pre_norm(lp.layer_norm("ln_2", d, eps)), FeedForward(MLP::dense(act, std::move(fc), std::move(proj))));
    stack.layers.push_back(std::move(layer));
  }
  stack.final_norm = base.layer_norm("ln_f", d, eps);
  stack.head = hf::lm_head(root, "lm_head", *stack.embed, cfg.get_bool("tie_word_embeddings", true));
  return model;
}

}  // namespace tessera::families
