// Falcon: one fused query_key_value, no biases unless `bias`, exact-GELU MLP of ffn_hidden_size
// (4·hidden by default), final LayerNorm, head tied to the embeddings by default. Three layouts:
//   - new_decoder_architecture (Falcon-40B/180B, Falcon 2): attention and MLP in parallel from
//     ln_attn / ln_mlp (one input_layernorm when num_ln_in_parallel_attn is 1), num_kv_heads
//     grouped kv heads, qkv stored per kv group ([kv][group queries, key, value][head_dim]);
//   - otherwise with multi_query (Falcon-7B): one kv head, qkv stored [queries | key | value],
//     attention and MLP in parallel from one input_layernorm when parallel_attn;
//   - otherwise without multi_query: one kv head per query head, stored [heads][q, k, v][head_dim];
//     parallel_attn false gives a sequential pre-norm layer (input_ / post_attention_layernorm).
// Positions: rotary (rope_theta, rope_scaling) or, with `alibi` (Falcon-RW), ALiBi with
// Falcon's quirks: slope·position computed in bf16 and divided by sqrt(head_dim) like the scores.
#include <cmath>

#include "families.hpp"
#include "fused_qkv.hpp"
#include "tessera/core/half.hpp"
#include "tessera/models/decoder.hpp"
#include "tessera/models/hf_config.hpp"
#include "tessera/models/scope.hpp"

namespace tessera::families {

std::shared_ptr<const Model> load_falcon(const JsonObject& cfg, const WeightStore& store, const std::string& dir) {
  auto model = std::make_shared<DecoderModel>();
  ModelInfo& info = model->meta;
  info.family = "falcon";
  info.kind = ModelKind::Decoder;
  const int64_t d = info.hidden_size = cfg.get_size("hidden_size", int64_t(4544), int64_t(1) << 31);
  const int64_t vocab = info.vocab_size = cfg.get_size("vocab_size", int64_t(65024), int64_t(1) << 31);
  // FalconConfig's attribute_map: n_layer / n_head are older spellings of the same fields.
  const std::string layers_key = cfg.has("n_layer") ? "n_layer" : "num_hidden_layers";
  const std::string heads_key = cfg.has("n_head") ? "n_head" : "num_attention_heads";
  const int64_t layers = info.num_layers = cfg.get_size(layers_key, int64_t(32), int64_t(100000));
  const int64_t heads = cfg.get_size(heads_key, int64_t(71), int64_t(100000));
  if (d % heads != 0) fail("{}: hidden_size {} is not divisible by {} {}", cfg.where(), d, heads_key, heads);
  const int64_t hd = d / heads;
  const bool new_arch = cfg.get_bool("new_decoder_architecture", false);
  const bool multi_query = cfg.get_bool("multi_query", true);
  const bool parallel = cfg.get_bool("parallel_attn", true);
  const bool alibi = cfg.get_bool("alibi", false);
  const bool bias = cfg.get_bool("bias", false);
  const int64_t cfg_kv = cfg.get_size("num_kv_heads", heads, 100000);
  const int64_t ffn = cfg.has("ffn_hidden_size") ? cfg.get_size("ffn_hidden_size") : 4 * d;
  const float eps = float(cfg.get_float("layer_norm_epsilon", 1e-5));
  const auto act = hf::activation(cfg, "activation", cfg.get_string("activation", "gelu"));
  info.max_positions = cfg.get_size("max_position_embeddings", 2048, int64_t(1) << 40);

  // Which layer shape; the combinations transformers' FalconDecoderLayer cannot run are refused.
  int64_t kv_heads = 1;
  if (new_arch) {
    if (!parallel)
      fail("{}: new_decoder_architecture with parallel_attn false: transformers' FalconDecoderLayer cannot run that "
           "(it builds no ln_attn / ln_mlp)", cfg.where());
    kv_heads = cfg_kv;
    if (heads % kv_heads != 0)
      fail("{}: {} {} is not a multiple of num_kv_heads {}", cfg.where(), heads_key, heads, kv_heads);
  } else if (!multi_query) {
    if (cfg_kv != heads)
      fail("{}: num_kv_heads {} with multi_query false and the old decoder architecture: every query head has its "
           "own key and value head, so it must equal {} {} (or be null)", cfg.where(), cfg_kv, heads_key, heads);
    kv_heads = heads;
  }
  const int64_t norms = cfg.get_int("num_ln_in_parallel_attn", new_arch ? 2 : 1);
  if (parallel && !(norms == 1 || (norms == 2 && new_arch)))
    fail("{}: num_ln_in_parallel_attn {} is not supported here (1, or 2 with new_decoder_architecture)", cfg.where(),
         norms);

  RopeSpec rope;
  if (!alibi) rope = hf::rope(cfg, hd);
  hf::fill_info(info, cfg, store, dir);

  const Scope root(store), base = root.pp("transformer");
  Stack& stack = model->stack;
  stack.embed = base.embedding("word_embeddings", vocab, d);
  hf::check_layer_count(cfg, layers_key, store, base.name("h."), layers);
  std::vector<float> slopes;
  if (alibi) {
    slopes = alibi_slopes(heads);
    for (float& s : slopes) s = bf16_to_f32(f32_to_bf16(s));  // build_alibi_tensor: slopes.bfloat16()
  }
  for (int64_t l = 0; l < layers; ++l) {
    const Scope lp = base.pp("h").pp(l), sa = lp.pp("self_attention");
    AttentionConfig ac{d, heads, kv_heads, hd, true, 0, hf::inverse_sqrt(double(hd))};
    if (alibi) {
      // Hugging Face folds alibi / sqrt(head_dim) into the mask it gives scaled_dot_product_attention.
      ac.alibi_slopes = slopes;
      ac.alibi_scale = hf::inverse_sqrt(double(hd));
      ac.alibi_bf16 = true;
    }
    Linear qkv = new_arch      ? load_grouped_qkv(sa, "query_key_value", d, kv_heads, heads / kv_heads, hd, bias)
                 : multi_query ? sa.linear("query_key_value", d, (heads + 2 * kv_heads) * hd, bias)  // [queries | key | value]
                               : load_grouped_qkv(sa, "query_key_value", d, heads, 1, hd, bias);
    Attention a(ac, std::move(qkv), sa.linear("dense", d, d, bias));
    if (!alibi) a.rope = Rope(rope);
    // The two sublayers' norms: sequential pre-norm, two parallel norms, or one shared by both.
    Residual attn_residual, mlp_residual;
    if (!parallel) {
      attn_residual = Residual::pre_norm(lp.layer_norm("input_layernorm", d, eps));
      mlp_residual = Residual::pre_norm(lp.layer_norm("post_attention_layernorm", d, eps));
    } else if (norms == 2) {
      attn_residual = Residual::pre_norm(lp.layer_norm("ln_attn", d, eps));
      mlp_residual = Residual::parallel_to_previous(lp.layer_norm("ln_mlp", d, eps));
    } else {
      attn_residual = Residual::pre_norm(lp.layer_norm("input_layernorm", d, eps));
      mlp_residual = Residual::parallel_to_previous(attn_residual.pre);  // the same normalised input feeds both
    }
    Layer layer(d);
    layer.add(std::move(attn_residual), SelfAttention(std::move(a)));
    layer.add(std::move(mlp_residual),
              FeedForward(lp.pp("mlp").dense_mlp(act, d, ffn, bias, MLPNames::dense("dense_h_to_4h", "dense_4h_to_h"))));
    stack.layers.push_back(std::move(layer));
  }
  stack.final_norm = base.layer_norm("ln_f", d, eps);
  stack.head = hf::lm_head(root, "lm_head", *stack.embed, cfg.get_bool("tie_word_embeddings", true));
  return model;
}

}  // namespace tessera::families
