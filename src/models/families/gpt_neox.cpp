// GPT-NeoX (Pythia): fused query_key_value laid out per head as [q k v], partial rotary
// embeddings, LayerNorm, and (by default) the parallel residual x + attn(ln1 x) + mlp(ln2 x).
#include <cmath>
#include <cstring>

#include "tessera/models/hf_config.hpp"
#include "families.hpp"
#include "tessera/models/scope.hpp"
#include "tessera/models/decoder.hpp"

namespace tessera::families {
namespace {

// Rows of the per-head interleaved [h][q|k|v][hd] matrix reordered to [q all | k all | v all],
// so one GEMM produces the layout Attention expects.
Linear load_neox_qkv(const Scope& scope, const std::string& module, int64_t d, int64_t heads, int64_t hd, bool bias) {
  Tensor src = scope.weight(module + ".weight", {3 * d, d});
  Tensor w = Tensor::zeros(src.dtype(), {3 * d, d});
  std::vector<float> b_src, b;
  if (bias) {
    b_src = scope.vector(module + ".bias", 3 * d);
    b.resize(size_t(3 * d));
  }
  const size_t row_bytes = dtype_bytes(src.dtype(), d);  // whole rows move, quantized ones too
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t part = 0; part < 3; ++part)
      for (int64_t i = 0; i < hd; ++i) {
        int64_t from = (h * 3 + part) * hd + i, to = part * d + h * hd + i;
        std::memcpy(static_cast<unsigned char*>(w.raw()) + size_t(to) * row_bytes,
                    static_cast<const unsigned char*>(src.raw()) + size_t(from) * row_bytes, row_bytes);
        if (bias) b[size_t(to)] = b_src[size_t(from)];
      }
  return Linear(scope.quantized(std::move(w)), std::move(b));
}

}  // namespace

std::shared_ptr<const Model> load_gpt_neox(const JsonObject& cfg, const WeightStore& store, const std::string& dir) {
  auto model = std::make_shared<DecoderModel>();
  ModelInfo& info = model->meta;
  info.family = "gpt_neox";
  info.kind = ModelKind::Decoder;
  const int64_t d = info.hidden_size = cfg.get_size("hidden_size");
  const int64_t vocab = info.vocab_size = cfg.get_size("vocab_size");
  const int64_t layers = info.num_layers = cfg.get_size("num_hidden_layers", 100000);
  const int64_t heads = cfg.get_size("num_attention_heads", 100000);
  if (d % heads != 0) fail("{}: hidden_size {} is not divisible by num_attention_heads {}", cfg.where(), d, heads);
  const int64_t hd = d / heads;
  const int64_t ffn = cfg.get_size("intermediate_size");
  info.max_positions = cfg.get_size("max_position_embeddings", 0, int64_t(1) << 40);
  const float eps = float(cfg.get_float("layer_norm_eps", 1e-5));
  const auto act = hf::activation(cfg, "hidden_act", cfg.get_string("hidden_act", "gelu"));
  const bool parallel = cfg.get_bool("use_parallel_residual", true);
  const bool bias = cfg.get_bool("attention_bias", true);
  RopeSpec rope = hf::rope(cfg, hd);
  hf::fill_info(info, cfg, store, dir);

  const Scope root(store), base = root.pp("gpt_neox");
  Stack& stack = model->stack;
  stack.embed = base.embedding("embed_in", vocab, d);
  hf::check_layer_count(cfg, "num_hidden_layers", store, base.name("layers."), layers);
  for (int64_t l = 0; l < layers; ++l) {
    const Scope lp = base.pp("layers").pp(l);
    Linear qkv = load_neox_qkv(lp.pp("attention"), "query_key_value", d, heads, hd, bias);
    Attention a(AttentionConfig{d, heads, heads, hd, true, 0, hf::inverse_sqrt(double(hd))}, std::move(qkv),
                lp.pp("attention").linear("dense", d, d, bias));
    a.rope = Rope(rope);
    Norm mlp_norm = lp.layer_norm("post_attention_layernorm", d, eps);
    Layer layer(d);
    layer.add(Residual::pre_norm(lp.layer_norm("input_layernorm", d, eps)), SelfAttention(std::move(a)));
    layer.add(parallel ? Residual::parallel_to_previous(std::move(mlp_norm)) : Residual::pre_norm(std::move(mlp_norm)),
              FeedForward(lp.pp("mlp").dense_mlp(act, d, ffn, true, MLPNames::dense("dense_h_to_4h", "dense_4h_to_h"))));
    stack.layers.push_back(std::move(layer));
  }
  stack.final_norm = base.layer_norm("final_layer_norm", d, eps);
  stack.head = hf::lm_head(root, "embed_out", *stack.embed, cfg.get_bool("tie_word_embeddings", false));
  return model;
}

}  // namespace tessera::families
