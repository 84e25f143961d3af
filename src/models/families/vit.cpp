// The ViT-shaped image encoders. ViT: a stride-patch convolution (run as a GEMM over
// flattened patches), a class token and learned positions, pre-norm layers (layernorm_before /
// layernorm_after), a final layernorm, and optionally a pooler (ViTModel) and a classifier on
// the CLS row (ViTForImageClassification). DINOv2 with registers: the same stack with register
// tokens after the CLS row, layer scale on both sublayers (folded into the output projections
// at load), an MLP or SwiGLU FFN, positions resized for other image sizes, pooler_output = the
// normed CLS row and a classifier on [CLS, mean of the patch rows].
#include <cmath>

#include "families.hpp"
#include "tessera/models/encoder.hpp"
#include "tessera/models/hf_config.hpp"
#include "tessera/models/scope.hpp"

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

std::vector<float> load_flat(const Scope& scope, const std::string& name, const Shape& shape) {
  Tensor t = scope.tensor(name, shape);
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

// The conv patch embedding, class token and positions under `e` ("...embeddings").
PatchEmbedding load_patches(const Scope& e, const PatchSetup& s) {
  PatchEmbedding pe;
  pe.channels = s.channels;
  pe.image_height = s.image.first;
  pe.image_width = s.image.second;
  pe.patch = s.patch.first;
  const int64_t p = pe.patch, k = s.channels * p * p;
  const Scope proj = e.pp("patch_embeddings").pp("projection");
  pe.projection = Linear(proj.weight("weight", {s.d, s.channels, p, p}).reshaped({s.d, k}), proj.vector("bias", s.d));
  pe.cls = load_flat(e, "cls_token", {1, 1, s.d});
  pe.positions = load_flat(e, "position_embeddings", {1, 1 + pe.patches(), s.d});
  return pe;
}

// A bidirectional multi-head attention over separate query / key / value projections under
// `a` and the output projection `o`.
Attention load_vit_attention(const Scope& a, Linear o, const PatchSetup& s, bool qkv_bias) {
  const AttentionConfig cfg{s.d, s.heads, s.heads, s.hd, /*causal=*/false, 0, hf::inverse_sqrt(double(s.hd))};
  Linear q = a.linear("query", s.d, s.d, qkv_bias), k = a.linear("key", s.d, s.d, qkv_bias);
  Linear v = a.linear("value", s.d, s.d, qkv_bias);
  return Attention(cfg, std::move(q), std::move(k), std::move(v), std::move(o));
}

// Linear `module` [out, in] with its output scaled by `scale_name` (layer scale's lambda1):
// diag(λ)·(W x + b) = (diag(λ) W) x + λ ⊙ b, computed once in f32.
Linear load_scaled_linear(const Scope& scope, const std::string& module, int64_t in, int64_t out,
                          const std::string& scale_name) {
  const std::vector<float> lambda = scope.vector(scale_name, out);
  const Tensor file_w = scope.weight(module + ".weight", {out, in});
  Tensor w = Tensor::zeros(DType::F32, {out, in});
  float* wp = w.data<float>();
  for (int64_t i = 0; i < out * in; ++i) wp[i] = file_w.get_f32(i) * lambda[size_t(i / in)];
  std::vector<float> b = scope.vector(module + ".bias", out);
  for (int64_t r = 0; r < out; ++r) b[size_t(r)] *= lambda[size_t(r)];
  return Linear(scope.quantized(w), std::move(b));
}

// classifier [labels, in] and id2label names (LABEL_<i> where missing, as Hugging Face does).
void load_classifier(EncoderModel& model, const JsonObject& cfg, const WeightStore& store, int64_t in) {
  const Scope root(store);
  const Tensor w = store.get("classifier.weight");
  if (w.rank() != 2 || w.dim(1) != in)
    fail("{}: tensor 'classifier.weight': expected [labels, {}], found {}", store.file_of("classifier.weight"), in,
         shape_str(w.shape()));
  const int64_t n = w.dim(0);
  model.classifier = root.linear("classifier", in, n, store.has("classifier.bias"));
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

  const Scope root(store), base = root.has("vit.embeddings.cls_token") ? root.pp("vit") : root;
  model->patches = load_patches(base.pp("embeddings"), ps);

  Stack& stack = model->stack;
  for (int64_t l = 0; l < layers; ++l) {
    const Scope lp = base.pp("encoder").pp("layer").pp(l);
    Attention a = load_vit_attention(lp.pp("attention").pp("attention"), lp.linear("attention.output.dense", d, d, true), ps,
                                     qkv_bias);
    Layer layer(d);
    layer.add(Residual::pre_norm(lp.layer_norm("layernorm_before", d, eps)), SelfAttention(std::move(a)));
    layer.add(Residual::pre_norm(lp.layer_norm("layernorm_after", d, eps)),
              FeedForward(lp.dense_mlp(act, d, ffn, true, MLPNames::dense("intermediate.dense", "output.dense"))));
    stack.layers.push_back(std::move(layer));
  }
  stack.final_norm = base.layer_norm("layernorm", d, eps);

  if (base.has("pooler.dense.weight")) {
    const int64_t pooled = cfg.get_size("pooler_output_size", d, 1 << 20);
    model->pooler = base.linear("pooler.dense", d, pooled, true);
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

  const Scope root(store);
  const Scope base = root.has("dinov2_with_registers.embeddings.cls_token") ? root.pp("dinov2_with_registers") : root;
  PatchEmbedding pe = load_patches(base.pp("embeddings"), ps);
  const int64_t grid = int64_t(std::lround(std::sqrt(double(pe.patches()))));
  if (grid * grid != pe.patches())
    fail("{}: image_size {}x{} with patch_size {} gives {} patches, not a square grid (Hugging Face resizes the "
         "position grid as a square)",
         cfg.where(), ps.image.first, ps.image.second, ps.patch.first, pe.patches());
  if (registers > 0) pe.registers = load_flat(base.pp("embeddings"), "register_tokens", {1, registers, d});
  pe.resize_positions = true;
  model->patches = std::move(pe);
  hf::check_layer_count(cfg, "num_hidden_layers", store, base.name("encoder.layer."), layers);

  Stack& stack = model->stack;
  for (int64_t l = 0; l < layers; ++l) {
    const Scope lp = base.pp("encoder").pp("layer").pp(l);
    Attention a = load_vit_attention(lp.pp("attention").pp("attention"),
                                     load_scaled_linear(lp, "attention.output.dense", d, d, "layer_scale1.lambda1"), ps,
                                     qkv_bias);
    MLP mlp;
    if (swiglu) {
      // weights_in = [x1 | x2], silu(x1) · x2: the gated MLP's [gate | up] layout.
      Linear gate_up = lp.linear("mlp.weights_in", d, 2 * ffn, true);
      mlp = MLP::gated_fused(kernels::Activation::Silu, std::move(gate_up),
                             load_scaled_linear(lp, "mlp.weights_out", ffn, d, "layer_scale2.lambda1"));
    } else {
      Linear up = lp.linear("mlp.fc1", d, ffn, true);
      mlp = MLP::dense(act, std::move(up), load_scaled_linear(lp, "mlp.fc2", ffn, d, "layer_scale2.lambda1"));
    }
    Layer layer(d);
    layer.add(Residual::pre_norm(lp.layer_norm("norm1", d, eps)), SelfAttention(std::move(a)));
    layer.add(Residual::pre_norm(lp.layer_norm("norm2", d, eps)), FeedForward(std::move(mlp)));
    stack.layers.push_back(std::move(layer));
  }
  stack.final_norm = base.layer_norm("layernorm", d, eps);
  model->pooler_is_cls = true;
  if (store.has("classifier.weight")) {
    load_classifier(*model, cfg, store, 2 * d);
    model->classifier_mean_from = 1 + registers;
  }
  info.max_positions = model->max_tokens();
  return model;
}

}  // namespace tessera::families
