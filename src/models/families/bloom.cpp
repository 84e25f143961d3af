// BLOOM: LayerNorm on the word embeddings, pre-LayerNorm layers with biases everywhere,
// ALiBi instead of positions (scores + slope·key position, slopes from the head count),
// q, k and v in one query_key_value weight interleaved per head ([heads][q, k, v][head_dim]),
// 4·hidden tanh-GELU MLP, head tied to the embeddings (unless tie_word_embeddings is false).
#include <cmath>

#include "families.hpp"
#include "fused_qkv.hpp"
#include "tessera/models/decoder.hpp"
#include "tessera/models/hf_config.hpp"
#include "tessera/models/scope.hpp"

namespace tessera::families {

std::shared_ptr<const Model> load_bloom(const JsonObject& cfg, const WeightStore& store, const std::string& dir) {
  auto model = std::make_shared<DecoderModel>();
  ModelInfo& info = model->meta;
  info.family = "bloom";
  info.kind = ModelKind::Decoder;
  // BloomConfig: n_embed (older configs) wins over hidden_size; n_layer / n_head are the stored names.
  const std::string width_key = cfg.has("n_embed") ? "n_embed" : "hidden_size";
  const int64_t d = info.hidden_size = cfg.get_size(width_key, int64_t(64), int64_t(1) << 31);
  const int64_t vocab = info.vocab_size = cfg.get_size("vocab_size", int64_t(250880), int64_t(1) << 31);
  const std::string layers_key = cfg.has("n_layer") ? "n_layer" : "num_hidden_layers";
  const std::string heads_key = cfg.has("n_head") ? "n_head" : "num_attention_heads";
  const int64_t layers = info.num_layers = cfg.get_size(layers_key, int64_t(2), int64_t(100000));
  const int64_t heads = cfg.get_size(heads_key, int64_t(8), int64_t(100000));
  if (d % heads != 0) fail("{}: {} {} is not divisible by {} {}", cfg.where(), width_key, d, heads_key, heads);
  const int64_t hd = d / heads;
  const float eps = float(cfg.get_float("layer_norm_epsilon", 1e-5));
  hf::reject_if_set(cfg, "apply_residual_connection_post_layernorm",
                    "the residual taken after the LayerNorm is not implemented (BLOOM checkpoints leave it false)");
  info.max_positions = 0;  // ALiBi has no table: the session's default context applies
  hf::fill_info(info, cfg, store, dir);

  const Scope root(store), base = root.has("transformer.word_embeddings.weight") ? root.pp("transformer") : root;
  Stack& stack = model->stack;
  stack.embed = base.embedding("word_embeddings", vocab, d);
  stack.embed_norm = base.layer_norm("word_embeddings_layernorm", d, eps);
  hf::check_layer_count(cfg, layers_key, store, base.name("h."), layers);
  for (int64_t l = 0; l < layers; ++l) {
    const Scope lp = base.pp("h").pp(l), sa = lp.pp("self_attention");
    AttentionConfig ac{d, heads, heads, hd, true, 0, hf::inverse_sqrt(double(hd))};
    ac.alibi_slopes = alibi_slopes(heads);
    Linear qkv = load_grouped_qkv(sa, "query_key_value", d, heads, 1, hd, true);
    Attention a(ac, std::move(qkv), sa.linear("dense", d, d, true));
    Layer layer(d);
    layer.add(Residual::pre_norm(lp.layer_norm("input_layernorm", d, eps)), SelfAttention(std::move(a)));
    // bloom_gelu_forward: the tanh approximation.
    layer.add(Residual::pre_norm(lp.layer_norm("post_attention_layernorm", d, eps)),
              FeedForward(lp.pp("mlp").dense_mlp(kernels::Activation::GeluTanh, d, 4 * d, true,
                                                 MLPNames::dense("dense_h_to_4h", "dense_4h_to_h"))));
    stack.layers.push_back(std::move(layer));
  }
  stack.final_norm = base.layer_norm("ln_f", d, eps);
  stack.head = hf::lm_head(root, "lm_head", *stack.embed, cfg.get_bool("tie_word_embeddings", true));
  return model;
}

}  // namespace tessera::families
