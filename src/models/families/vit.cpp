// The ViT-shaped image encoders. ViT: a stride-patch convolution (run as a GEMM over
// flattened patches), a class token and learned positions, pre-norm layers (layernorm_before /
// layernorm_after), a final layernorm, and optionally a pooler (ViTModel) and a classifier on
// the CLS row (ViTForImageClassification). DINOv2 with registers: the same stack with register
// tokens after the CLS row, layer scale on both sublayers (folded into the output projections
// at load), an MLP or SwiGLU FFN, positions resized for other image sizes, pooler_output = the
// normed CLS row and a classifier on [CLS, mean of the patch rows].
#include <cmath>

#include "../hf_config.hpp"
#include "families.hpp"
#include "tessera/models/encoder.hpp"

namespace tessera::families {
namespace {

// image_size / patch_size may be one integer or [height, width].
std::pair<int64_t, int64_t> size_pair(const JsonObject& cfg, const std::string& key, int64_t fallback) {
  if (!cfg.has(key)) return {fallback, fallback};
  const auto& v = cfg.raw().at(key);
  if (v.is_array() && v.size() == 2 && v[0].is_number_integer() && v[1].is_number_integer()) {
    int64_t h = v[0].get<int64_t>(), w = v[1].get<int64_t>();
    if (h <= 0 || w <= 0 || h > (1 << 16) || w > (1 << 16))
      fail("{}: field '{}': sizes must be in [1, 65536], found {}", cfg.where(), key, v.dump());
    return {h, w};
  }
  int64_t s = cfg.get_size(key, 1 << 16);
  return {s, s};
}

std::vector<float> load_flat(const WeightStore& store, const std::string& name, const Shape& shape) {
  Tensor t = store.get(name, shape);
  std::vector<float> v(size_t(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) v[size_t(i)] = t.get_f32(i);
  return v;
}

struct PatchSetup {
  int64_t d, heads, hd, channels;
  std::pair<int64_t, int64_t> image, patch;
};

// The config fields ViT and DINOv2 share, checked.
PatchSetup patch_setup(const JsonObject& cfg, int64_t default_image, int64_t default_patch) {
  PatchSetup s;
  s.d = cfg.get_size("hidden_size");
  s.heads = cfg.get_size("num_attention_heads", 100000);
  if (s.d % s.heads != 0)
    fail("{}: hidden_size {} is not divisible by num_attention_heads {}", cfg.where(), s.d, s.heads);
  s.hd = s.d / s.heads;
  s.image = size_pair(cfg, "image_size", default_image);
  s.patch = size_pair(cfg, "patch_size", default_patch);
  if (s.patch.first != s.patch.second)
    fail("{}: field 'patch_size': non-square patches {}x{} are not supported", cfg.where(), s.patch.first,
         s.patch.second);
  if (s.patch.first > s.image.first || s.patch.second > s.image.second)
    fail("{}: field 'patch_size' {} is larger than image_size {}x{}", cfg.where(), s.patch.first, s.image.first,
         s.image.second);
  s.channels = cfg.get_size("num_channels", 3, 64);
  return s;
}

// The conv patch embedding, class token and positions under `e` ("...embeddings.").
PatchEmbedding load_patches(const WeightStore& store, const std::string& e, const PatchSetup& s) {
  PatchEmbedding pe;
  pe.channels = s.channels;
  pe.image_height = s.image.first;
  pe.image_width = s.image.second;
  pe.patch = s.patch.first;
  const int64_t p = pe.patch, k = s.channels * p * p;
  const std::string proj = e + "patch_embeddings.projection";
  Tensor kernel = check_weight_dtype(store, proj + ".weight", store.get(proj + ".weight", {s.d, s.channels, p, p}));
  pe.projection = Linear(kernel.reshaped({s.d, k}), load_vector(store, proj + ".bias", s.d));
  pe.cls = load_flat(store, e + "cls_token", {1, 1, s.d});
  pe.positions = load_flat(store, e + "position_embeddings", {1, 1 + pe.patches(), s.d});
  return pe;
}

// A bidirectional multi-head attention over separate query / key / value projections.
void load_vit_attention(Attention& a, const WeightStore& store, const std::string& prefix, const PatchSetup& s,
                        bool qkv_bias) {
  a.cfg = AttentionConfig{s.d, s.heads, s.heads, s.hd, /*causal=*/false, 0, float(1.0 / std::sqrt(double(s.hd)))};
  a.validate();
  a.q = Linear::load(store, prefix + "query", s.d, s.d, qkv_bias);
  a.k = Linear::load(store, prefix + "key", s.d, s.d, qkv_bias);
  a.v = Linear::load(store, prefix + "value", s.d, s.d, qkv_bias);
}

// Linear `prefix` [out, in] with its output scaled by `prefix_scale` (layer scale's lambda1):
// diag(λ)·(W x + b) = (diag(λ) W) x + λ ⊙ b, computed once in f32.
Linear load_scaled_linear(const WeightStore& store, const std::string& prefix, int64_t in, int64_t out,
                          const std::string& scale_name) {
  const std::vector<float> lambda = load_vector(store, scale_name, out);
  const Tensor file_w = check_weight_dtype(store, prefix + ".weight", store.get(prefix + ".weight", {out, in}));
  Tensor w = Tensor::zeros(DType::F32, {out, in});
  float* wp = w.data<float>();
  for (int64_t i = 0; i < out * in; ++i) wp[i] = file_w.get_f32(i) * lambda[size_t(i / in)];
  std::vector<float> b = load_vector(store, prefix + ".bias", out);
  for (int64_t r = 0; r < out; ++r) b[size_t(r)] *= lambda[size_t(r)];
  return Linear(quantize_for_store(store, w), std::move(b));
}

// classifier [labels, in] and id2label names (LABEL_<i> where missing, as Hugging Face does).
void load_classifier(EncoderModel& model, const JsonObject& cfg, const WeightStore& store, int64_t in) {
  const Tensor w = store.get("classifier.weight");
  if (w.rank() != 2 || w.dim(1) != in)
    fail("{}: tensor 'classifier.weight': expected [labels, {}], found {}", store.file_of("classifier.weight"), in,
         shape_str(w.shape()));
  const int64_t n = w.dim(0);
  model.classifier = Linear::load(store, "classifier", in, n, store.has("classifier.bias"));
  model.labels.resize(size_t(n));
  std::optional<JsonObject> names = cfg.get_object("id2label");
  for (int64_t i = 0; i < n; ++i) {
    const std::string key = std::to_string(i);
    model.labels[size_t(i)] = names && names->has(key) ? names->get_string(key) : "LABEL_" + key;
  }
}

}  // namespace

std::shared_ptr<const Model> load_vit(const JsonObject& cfg, const WeightStore& store, const std::string& dir) {
  auto model = std::make_shared<EncoderModel>();
  ModelInfo& info = model->meta;
  info.family = "vit";
  info.kind = ModelKind::Encoder;
  const PatchSetup ps = patch_setup(cfg, 224, 16);
  const int64_t d = info.hidden_size = ps.d;
  const int64_t layers = info.num_layers = cfg.get_size("num_hidden_layers", 100000);
  const int64_t ffn = cfg.get_size("intermediate_size");
  const float eps = float(cfg.get_float("layer_norm_eps", 1e-12));
  const auto act = hf::activation(cfg, "hidden_act", cfg.get_string("hidden_act", "gelu"));
  const bool qkv_bias = cfg.get_bool("qkv_bias", true);
  hf::fill_info(info, cfg, store, dir);

  const std::string p = store.has("vit.embeddings.cls_token") ? "vit." : "";
  model->patches = load_patches(store, p + "embeddings.", ps);

  for (int64_t l = 0; l < layers; ++l) {
    const std::string lp = fmt::format("{}encoder.layer.{}.", p, l);
    Layer layer;
    layer.residual = Residual::PreNorm;
    layer.attn_norm = Norm::load(store, lp + "layernorm_before", NormKind::LayerNorm, d, eps);
    layer.mlp_norm = Norm::load(store, lp + "layernorm_after", NormKind::LayerNorm, d, eps);
    load_vit_attention(layer.attn, store, lp + "attention.attention.", ps, qkv_bias);
    layer.attn.o = Linear::load(store, lp + "attention.output.dense", d, d, true);
    layer.mlp.kind = MLP::Kind::Dense;
    layer.mlp.act = act;
    layer.mlp.hidden = d;
    layer.mlp.ffn = ffn;
    layer.mlp.up = Linear::load(store, lp + "intermediate.dense", d, ffn, true);
    layer.mlp.down = Linear::load(store, lp + "output.dense", ffn, d, true);
    layer.fuse_projections();
    model->layers.push_back(std::move(layer));
  }
  model->final_norm = Norm::load(store, p + "layernorm", NormKind::LayerNorm, d, eps);

  if (store.has(p + "pooler.dense.weight")) {
    const int64_t pooled = cfg.get_size("pooler_output_size", d, 1 << 20);
    model->pooler = Linear::load(store, p + "pooler.dense", d, pooled, true);
    const std::string pact = cfg.get_string("pooler_act", "tanh");
    if (pact != "tanh") model->pooler_act = hf::activation(cfg, "pooler_act", pact);
  }
  if (store.has("classifier.weight")) load_classifier(*model, cfg, store, d);
  info.max_positions = model->max_tokens();
  return model;
}

std::shared_ptr<const Model> load_dinov2_with_registers(const JsonObject& cfg, const WeightStore& store,
                                                        const std::string& dir) {
  auto model = std::make_shared<EncoderModel>();
  ModelInfo& info = model->meta;
  info.family = "dinov2_with_registers";
  info.kind = ModelKind::Encoder;
  const PatchSetup ps = patch_setup(cfg, 224, 16);
  const int64_t d = info.hidden_size = ps.d;
  const int64_t layers = info.num_layers = cfg.get_size("num_hidden_layers", 100000);
  const double ratio = cfg.get_float("mlp_ratio", 4.0);
  if (!(ratio > 0) || ratio * double(d) > double(1 << 24))
    fail("{}: field 'mlp_ratio': expected a positive number no larger than {}, found {}", cfg.where(),
         double(1 << 24) / double(d), ratio);
  const bool swiglu = cfg.get_bool("use_swiglu_ffn", false);
  // Dinov2WithRegistersMLP / SwiGLUFFN hidden widths.
  int64_t ffn = int64_t(double(d) * ratio);
  if (swiglu) ffn = (int64_t(double(ffn) * 2 / 3) + 7) / 8 * 8;
  if (ffn <= 0) fail("{}: mlp_ratio {} leaves no feed-forward units", cfg.where(), ratio);
  const float eps = float(cfg.get_float("layer_norm_eps", 1e-6));
  const auto act = hf::activation(cfg, "hidden_act", cfg.get_string("hidden_act", "gelu"));
  const bool qkv_bias = cfg.get_bool("qkv_bias", true);
  const int64_t registers = cfg.get_int("num_register_tokens", 4);
  if (registers < 0 || registers > 4096)
    fail("{}: field 'num_register_tokens': expected 0 to 4096, found {}", cfg.where(), registers);
  hf::fill_info(info, cfg, store, dir);

  const std::string p = store.has("dinov2_with_registers.embeddings.cls_token") ? "dinov2_with_registers." : "";
  PatchEmbedding pe = load_patches(store, p + "embeddings.", ps);
  const int64_t grid = int64_t(std::lround(std::sqrt(double(pe.patches()))));
  if (grid * grid != pe.patches())
    fail("{}: image_size {}x{} with patch_size {} gives {} patches, not a square grid (Hugging Face resizes the "
         "position grid as a square)",
         cfg.where(), ps.image.first, ps.image.second, ps.patch.first, pe.patches());
  if (registers > 0) pe.registers = load_flat(store, p + "embeddings.register_tokens", {1, registers, d});
  pe.resize_positions = true;
  model->patches = std::move(pe);
  hf::check_layer_count(cfg, "num_hidden_layers", store, p + "encoder.layer.", layers);

  for (int64_t l = 0; l < layers; ++l) {
    const std::string lp = fmt::format("{}encoder.layer.{}.", p, l);
    Layer layer;
    layer.residual = Residual::PreNorm;
    layer.attn_norm = Norm::load(store, lp + "norm1", NormKind::LayerNorm, d, eps);
    layer.mlp_norm = Norm::load(store, lp + "norm2", NormKind::LayerNorm, d, eps);
    load_vit_attention(layer.attn, store, lp + "attention.attention.", ps, qkv_bias);
    layer.attn.o = load_scaled_linear(store, lp + "attention.output.dense", d, d, lp + "layer_scale1.lambda1");
    layer.mlp.hidden = d;
    layer.mlp.ffn = ffn;
    if (swiglu) {
      // weights_in = [x1 | x2], silu(x1) · x2: the gated MLP's [gate | up] layout.
      layer.mlp.kind = MLP::Kind::Gated;
      layer.mlp.act = kernels::Activation::Silu;
      layer.mlp.gate_up = Linear::load(store, lp + "mlp.weights_in", d, 2 * ffn, true);
      layer.mlp.down = load_scaled_linear(store, lp + "mlp.weights_out", ffn, d, lp + "layer_scale2.lambda1");
    } else {
      layer.mlp.kind = MLP::Kind::Dense;
      layer.mlp.act = act;
      layer.mlp.up = Linear::load(store, lp + "mlp.fc1", d, ffn, true);
      layer.mlp.down = load_scaled_linear(store, lp + "mlp.fc2", ffn, d, lp + "layer_scale2.lambda1");
    }
    layer.fuse_projections();
    model->layers.push_back(std::move(layer));
  }
  model->final_norm = Norm::load(store, p + "layernorm", NormKind::LayerNorm, d, eps);
  model->pooler_is_cls = true;
  if (store.has("classifier.weight")) {
    load_classifier(*model, cfg, store, 2 * d);
    model->classifier_mean_from = 1 + registers;
  }
  info.max_positions = model->max_tokens();
  return model;
}

}  // namespace tessera::families
