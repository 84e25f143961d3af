// Llama 1–3 and its relatives, which differ only in a few switches:
//   mistral  sliding-window attention
//   qwen2    bias on q/k/v
//   qwen3    per-head RMSNorm on q and k
//   gemma    GeGLU, embeddings scaled by sqrt(hidden), RMSNorm scaling by (1 + w), tied head
//   mixtral  a mixture of experts in place of the MLP
//   qwen2_moe  qwen2's attention; a mixture of experts (norm_topk_prob says whether the top-k
//            weights are renormalised) plus a shared expert behind a sigmoid gate, on every
//            decoder_sparse_step-th layer outside mlp_only_layers (the others keep a dense MLP)
#include <algorithm>
#include <cmath>

#include "families.hpp"
#include "tessera/models/decoder.hpp"
#include "tessera/models/hf_config.hpp"
#include "tessera/models/scope.hpp"

namespace tessera::families {
namespace {

// Gated expert under `scope` ([gate, up, down] module names) of `units` hidden units.
MLP::Expert load_expert(const Scope& scope, const char* const (&names)[3], int64_t d, int64_t units) {
  return {scope.linear(names[0], d, units), scope.linear(names[1], d, units), scope.linear(names[2], units, d)};
}

// A mixture of `experts` gated experts of `units` under `scope`: router "gate", expert e at
// "experts.e".
MLP load_experts(const Scope& scope, const char* const (&names)[3], kernels::Activation act, int64_t d, int64_t experts,
                 int64_t units, int64_t top_k, bool normalize) {
  Linear router = scope.linear("gate", d, experts);
  std::vector<MLP::Expert> list;
  for (int64_t e = 0; e < experts; ++e) list.push_back(load_expert(scope.pp("experts").pp(e), names, d, units));
  return MLP::mixture(act, std::move(router), std::move(list), top_k, normalize);
}

}  // namespace

std::shared_ptr<const Model> load_llama(const JsonObject& cfg, const WeightStore& store, const std::string& dir) {
  const std::string type = cfg.get_string("model_type");
  const bool gemma = type == "gemma", qwen3 = type == "qwen3", mixtral = type == "mixtral";
  const bool qwen2_moe = type == "qwen2_moe", qwen2 = type == "qwen2" || qwen2_moe;
  auto model = std::make_shared<DecoderModel>();
  ModelInfo& info = model->meta;
  info.family = type;
  info.kind = ModelKind::Decoder;
  const int64_t d = info.hidden_size = cfg.get_size("hidden_size");
  const int64_t vocab = info.vocab_size = cfg.get_size("vocab_size");
  const int64_t layers = info.num_layers = cfg.get_size("num_hidden_layers", 100000);
  const auto [heads, kv_heads, head_dim] = hf::head_shape(cfg, d);
  const int64_t ffn = cfg.get_size("intermediate_size");
  // Qwen2-MoE: which layers hold experts (Qwen2MoeDecoderLayer's rule), and their sizes.
  const int64_t moe_experts = qwen2_moe ? cfg.get_int("num_experts", 60) : 0;
  const int64_t sparse_step = qwen2_moe ? cfg.get_size("decoder_sparse_step", 1, 100000) : 1;
  const std::vector<int64_t> mlp_only = qwen2_moe ? cfg.get_int_list("mlp_only_layers") : std::vector<int64_t>{};
  if (moe_experts < 0) fail("{}: num_experts must not be negative, found {}", cfg.where(), moe_experts);
  const int64_t moe_top_k = moe_experts > 0 ? cfg.get_size("num_experts_per_tok", moe_experts) : 0;
  info.max_positions = cfg.get_size("max_position_embeddings", 0, int64_t(1) << 40);
  const float eps = float(cfg.get_float("rms_norm_eps", 1e-6));
  const std::string act_key = gemma && cfg.has("hidden_activation") ? "hidden_activation" : "hidden_act";
  const auto act = hf::activation(cfg, act_key, cfg.get_string(act_key, gemma ? "gelu_pytorch_tanh" : "silu"));
  const bool attn_bias = cfg.get_bool("attention_bias", false);
  // Qwen2 has q/k/v biases (Qwen2-MoE's config can turn them off: qkv_bias), o none.
  const bool qkv_bias = attn_bias || (qwen2 && cfg.get_bool("qkv_bias", true));
  const bool mlp_bias = cfg.get_bool("mlp_bias", false);
  RopeSpec rope = hf::rope(cfg, head_dim);
  hf::reject_if_set(cfg, "attn_logit_softcapping", "logit soft-capping is a Gemma 2 feature");
  hf::reject_if_set(cfg, "final_logit_softcapping", "logit soft-capping is a Gemma 2 feature");
  if (cfg.get_bool("use_bidirectional_attention", false))
    fail("{}: use_bidirectional_attention is not supported", cfg.where());

  // Which layers use a sliding window: Mistral/Mixtral apply `sliding_window` to every
  // layer; Qwen only when use_sliding_window, from max_window_layers on (or per layer_types).
  std::vector<int64_t> window(size_t(layers), 0);
  const int64_t sw = cfg.get_int("sliding_window", 0);
  if (cfg.has("layer_types") && (qwen2 || qwen3)) {
    window = hf::layer_windows(cfg, layers, sw);
  } else if (qwen2 || qwen3) {
    if (cfg.get_bool("use_sliding_window", false))
      for (int64_t l = cfg.get_int("max_window_layers", 0); l < layers; ++l) window[size_t(l)] = sw;
  } else if (type == "mistral" || mixtral) {
    std::fill(window.begin(), window.end(), sw);
  }
  for (int64_t w : window)
    if (w < 0) fail("{}: sliding_window must be positive, found {}", cfg.where(), w);

  hf::fill_info(info, cfg, store, dir);

  const Scope root(store), base = root.has("model.embed_tokens.weight") ? root.pp("model") : root;
  Stack& stack = model->stack;
  stack.embed = base.embedding("embed_tokens", vocab, d);
  if (gemma) stack.embed_scale = float(std::sqrt(double(d)));  // HF casts sqrt(hidden) to the dtype
  hf::check_layer_count(cfg, "num_hidden_layers", store, base.name("layers."), layers);
  for (int64_t l = 0; l < layers; ++l) {
    const Scope lp = base.pp("layers").pp(l), sa = lp.pp("self_attn");
    const AttentionConfig ac{d, heads, kv_heads, head_dim, true, window[size_t(l)], hf::inverse_sqrt(double(head_dim))};
    Attention a = sa.attention(ac, {qkv_bias, qkv_bias, qkv_bias, attn_bias});
    if (qwen3) {
      a.q_norm = sa.rms_norm("q_norm", head_dim, eps);
      a.k_norm = sa.rms_norm("k_norm", head_dim, eps);
    }
    a.rope = Rope(rope);
    Layer layer(d);
    layer.add(Residual::pre_norm(lp.rms_norm("input_layernorm", d, eps, gemma)), SelfAttention(std::move(a)));
    const bool sparse = moe_experts > 0 && (l + 1) % sparse_step == 0 &&
                        std::find(mlp_only.begin(), mlp_only.end(), l) == mlp_only.end();
    MLP mlp;
    if (mixtral) {
      const int64_t experts = cfg.get_size("num_local_experts", 4096);
      mlp = load_experts(lp.pp("block_sparse_moe"), {"w1", "w3", "w2"}, act, d, experts, ffn,
                         cfg.get_size("num_experts_per_tok", experts), true);
    } else if (sparse) {
      static constexpr const char* names[3] = {"gate_proj", "up_proj", "down_proj"};
      const Scope mp = lp.pp("mlp");
      mlp = load_experts(mp, names, act, d, moe_experts, cfg.get_size("moe_intermediate_size"), moe_top_k,
                         cfg.get_bool("norm_topk_prob", false));
      mlp.shared_ffn = cfg.get_int("shared_expert_intermediate_size", 0);
      if (mlp.shared_ffn < 0) fail("{}: shared_expert_intermediate_size must not be negative", cfg.where());
      if (mlp.shared_ffn > 0) {
        mlp.shared = load_expert(mp.pp("shared_expert"), names, d, mlp.shared_ffn);
        mlp.shared_gate = mp.linear("shared_expert_gate", d, 1);
      }
    } else {
      mlp = lp.pp("mlp").gated_mlp(act, d, ffn, mlp_bias);
    }
    layer.add(Residual::pre_norm(lp.rms_norm("post_attention_layernorm", d, eps, gemma)), FeedForward(std::move(mlp)));
    stack.layers.push_back(std::move(layer));
  }
  stack.final_norm = base.rms_norm("norm", d, eps, gemma);
  stack.head = hf::lm_head(root, "lm_head", *stack.embed, cfg.get_bool("tie_word_embeddings", gemma));
  return model;
}

}  // namespace tessera::families
