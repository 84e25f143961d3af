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

#include "../hf_config.hpp"
#include "families.hpp"
#include "tessera/models/decoder.hpp"

namespace tessera::families {
namespace {

// Gated expert `prefix` ([gate, up, down] weight names) of `units` hidden units.
MLP::Expert load_expert(const WeightStore& store, const std::string& prefix, const char* const (&names)[3], int64_t d,
                        int64_t units) {
  return {Linear::load(store, prefix + names[0], d, units, false), Linear::load(store, prefix + names[1], d, units, false),
          Linear::load(store, prefix + names[2], units, d, false)};
}

// A mixture of `experts` gated experts of `units` under `prefix`: router `prefix`gate, expert e
// at `prefix`experts.e.
void load_experts(MLP& mlp, const WeightStore& store, const std::string& prefix, const char* const (&names)[3],
                  int64_t d, int64_t experts, int64_t units, int64_t top_k) {
  mlp.kind = MLP::Kind::MoE;
  mlp.ffn = units;
  mlp.top_k = top_k;
  mlp.router = Linear::load(store, prefix + "gate", d, experts, false);
  for (int64_t e = 0; e < experts; ++e)
    mlp.experts.push_back(load_expert(store, fmt::format("{}experts.{}.", prefix, e), names, d, units));
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

  const std::string p = store.has("model.embed_tokens.weight") ? "model." : "";
  model->embed = Embedding::load(store, p + "embed_tokens.weight", vocab, d);
  if (gemma) model->embed_scale = float(std::sqrt(double(d)));  // HF casts sqrt(hidden) to the dtype
  hf::check_layer_count(cfg, "num_hidden_layers", store, p + "layers.", layers);
  for (int64_t l = 0; l < layers; ++l) {
    const std::string lp = fmt::format("{}layers.{}.", p, l);
    Layer layer;
    layer.residual = Residual::PreNorm;
    layer.attn_norm = Norm::load(store, lp + "input_layernorm", NormKind::RMSNorm, d, eps, false, gemma);
    layer.mlp_norm = Norm::load(store, lp + "post_attention_layernorm", NormKind::RMSNorm, d, eps, false, gemma);
    Attention& a = layer.attn;
    a.cfg = AttentionConfig{d, heads, kv_heads, head_dim, true, window[size_t(l)], float(1.0 / std::sqrt(double(head_dim)))};
    a.validate();
    a.q = Linear::load(store, lp + "self_attn.q_proj", d, heads * head_dim, qkv_bias);
    a.k = Linear::load(store, lp + "self_attn.k_proj", d, kv_heads * head_dim, qkv_bias);
    a.v = Linear::load(store, lp + "self_attn.v_proj", d, kv_heads * head_dim, qkv_bias);
    a.o = Linear::load(store, lp + "self_attn.o_proj", heads * head_dim, d, attn_bias);
    if (qwen3) {
      a.q_norm = Norm::load(store, lp + "self_attn.q_norm", NormKind::RMSNorm, head_dim, eps, false);
      a.k_norm = Norm::load(store, lp + "self_attn.k_norm", NormKind::RMSNorm, head_dim, eps, false);
    }
    a.rope = Rope(rope);
    MLP& mlp = layer.mlp;
    mlp.act = act;
    mlp.hidden = d;
    mlp.ffn = ffn;
    const bool sparse = moe_experts > 0 && (l + 1) % sparse_step == 0 &&
                        std::find(mlp_only.begin(), mlp_only.end(), l) == mlp_only.end();
    if (mixtral) {
      const int64_t experts = cfg.get_size("num_local_experts", 4096);
      load_experts(mlp, store, lp + "block_sparse_moe.", {"w1", "w3", "w2"}, d, experts, ffn,
                   cfg.get_size("num_experts_per_tok", experts));
    } else if (sparse) {
      static constexpr const char* names[3] = {"gate_proj", "up_proj", "down_proj"};
      const std::string mp = lp + "mlp.";
      load_experts(mlp, store, mp, names, d, moe_experts, cfg.get_size("moe_intermediate_size"), moe_top_k);
      mlp.normalize_top_k = cfg.get_bool("norm_topk_prob", false);
      mlp.shared_ffn = cfg.get_int("shared_expert_intermediate_size", 0);
      if (mlp.shared_ffn < 0) fail("{}: shared_expert_intermediate_size must not be negative", cfg.where());
      if (mlp.shared_ffn > 0) {
        mlp.shared = load_expert(store, mp + "shared_expert.", names, d, mlp.shared_ffn);
        mlp.shared_gate = Linear::load(store, mp + "shared_expert_gate", d, 1, false);
      }
    } else {
      mlp.kind = MLP::Kind::Gated;
      mlp.gate = Linear::load(store, lp + "mlp.gate_proj", d, ffn, mlp_bias);
      mlp.up = Linear::load(store, lp + "mlp.up_proj", d, ffn, mlp_bias);
      mlp.down = Linear::load(store, lp + "mlp.down_proj", ffn, d, mlp_bias);
    }
    layer.fuse_projections();
    model->layers.push_back(std::move(layer));
  }
  model->final_norm = Norm::load(store, p + "norm", NormKind::RMSNorm, d, eps, false, gemma);
  model->lm_head = hf::lm_head(cfg, store, model->embed.table(), d, vocab, gemma);
  return model;
}

}  // namespace tessera::families
