// GPT-NeoX (Pythia): fused query_key_value laid out per head as [q k v], partial rotary
// embeddings, LayerNorm, and (by default) the parallel residual x + attn(ln1 x) + mlp(ln2 x).
#include <cmath>
#include <cstring>

#include "../hf_config.hpp"
#include "families.hpp"
#include "tessera/models/decoder.hpp"

namespace tessera::families {
namespace {

// Rows of the per-head interleaved [h][q|k|v][hd] matrix reordered to [q all | k all | v all],
// so one GEMM produces the layout Attention expects.
Linear load_neox_qkv(const WeightStore& store, const std::string& prefix, int64_t d, int64_t heads, int64_t hd, bool bias) {
  Tensor src = check_weight_dtype(store, prefix + ".weight", store.get(prefix + ".weight", {3 * d, d}));
  Tensor w = Tensor::zeros(src.dtype(), {3 * d, d});
  std::vector<float> b_src, b;
  if (bias) {
    b_src = load_vector(store, prefix + ".bias", 3 * d);
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
  return Linear(quantize_for_store(store, std::move(w)), std::move(b));
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

  const std::string p = "gpt_neox.";
  model->embed = Embedding::load(store, p + "embed_in.weight", vocab, d);
  hf::check_layer_count(cfg, "num_hidden_layers", store, p + "layers.", layers);
  for (int64_t l = 0; l < layers; ++l) {
    const std::string lp = fmt::format("{}layers.{}.", p, l);
    Layer layer;
    layer.residual = parallel ? Residual::Parallel : Residual::PreNorm;
    layer.attn_norm = Norm::load(store, lp + "input_layernorm", NormKind::LayerNorm, d, eps);
    layer.mlp_norm = Norm::load(store, lp + "post_attention_layernorm", NormKind::LayerNorm, d, eps);
    Attention& a = layer.attn;
    a.cfg = AttentionConfig{d, heads, heads, hd, true, 0, float(1.0 / std::sqrt(double(hd)))};
    a.validate();
    a.qkv = load_neox_qkv(store, lp + "attention.query_key_value", d, heads, hd, bias);
    a.o = Linear::load(store, lp + "attention.dense", d, d, bias);
    a.rope = Rope(rope);
    layer.mlp.kind = MLP::Kind::Dense;
    layer.mlp.act = act;
    layer.mlp.hidden = d;
    layer.mlp.ffn = ffn;
    layer.mlp.up = Linear::load(store, lp + "mlp.dense_h_to_4h", d, ffn, true);
    layer.mlp.down = Linear::load(store, lp + "mlp.dense_4h_to_h", ffn, d, true);
    model->layers.push_back(std::move(layer));
  }
  model->final_norm = Norm::load(store, p + "final_layer_norm", NormKind::LayerNorm, d, eps);
  if (cfg.get_bool("tie_word_embeddings", false)) model->lm_head = Linear(model->embed.table(), {});
  else model->lm_head = Linear::load(store, "embed_out", d, vocab, false);
  return model;
}

}  // namespace tessera::families
