// OPT: learned positions read at position + 2, LayerNorm either before each sublayer
// (do_layer_norm_before, with a final LayerNorm unless _remove_final_layer_norm) or after it
// (OPT-350m, no final norm), ReLU MLP, q/k/v/out biases (enable_bias), and when
// word_embed_proj_dim differs from hidden_size, project_in / project_out around the layers
// (the embeddings and the tied head are word_embed_proj_dim wide).
#include <cmath>

#include "tessera/models/hf_config.hpp"
#include "families.hpp"
#include "tessera/models/scope.hpp"
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

  const Scope root(store);
  const Scope base = root.has("model.decoder.embed_tokens.weight") ? root.pp("model").pp("decoder") : root.pp("decoder");
  Stack& stack = model->stack;
  stack.embed = base.embedding("embed_tokens", vocab, we);
  stack.positions = PositionInput::from_embedding(base.embedding("embed_positions", positions + 2, d), 2);
  if (we != d) {
    stack.project_in = base.linear("project_in", we, d);
    stack.project_out = base.linear("project_out", d, we);
  }
  hf::check_layer_count(cfg, "num_hidden_layers", store, base.name("layers."), layers);
  for (int64_t l = 0; l < layers; ++l) {
    const Scope lp = base.pp("layers").pp(l);
    Attention a = lp.pp("self_attn").attention(AttentionConfig{d, heads, heads, hd, true, 0, hf::inverse_sqrt(double(hd))},
                                               AttentionBiases::all(bias), AttentionNames{.o = "out_proj"});
    auto residual = [&](const std::string& norm) {
      Norm n = lp.layer_norm(norm, d, eps);
      return pre_norm ? Residual::pre_norm(std::move(n)) : Residual::post_norm(std::move(n));
    };
    Layer layer(d);
    layer.add(residual("self_attn_layer_norm"), SelfAttention(std::move(a)));
    layer.add(residual("final_layer_norm"), FeedForward(lp.dense_mlp(act, d, ffn, bias, MLPNames::dense("fc1", "fc2"))));
    stack.layers.push_back(std::move(layer));
  }
  if (final_norm) stack.final_norm = base.layer_norm("final_layer_norm", d, eps);
  stack.head = hf::lm_head(root, "lm_head", *stack.embed, tied);
  return model;
}

}  // namespace tessera::families
