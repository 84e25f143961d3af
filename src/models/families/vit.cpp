// ViT: a stride-patch convolution (run as a GEMM over flattened patches), a class token and
// learned positions, pre-norm layers (layernorm_before / layernorm_after), a final
// layernorm, and optionally a pooler (ViTModel) and a classifier on the CLS row
// (ViTForImageClassification).
#include <cmath>

#include "tessera/models/hf_config.hpp"
#include "families.hpp"
#include "tessera/models/scope.hpp"
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

std::vector<float> load_flat(const Scope& scope, const std::string& name, const Shape& shape) {
  Tensor t = scope.tensor(name, shape);
  std::vector<float> v(size_t(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) v[size_t(i)] = t.get_f32(i);
  return v;
}

}  // namespace

std::shared_ptr<const Model> load_vit(const JsonObject& cfg, const WeightStore& store, const std::string& dir) {
  auto model = std::make_shared<EncoderModel>();
  ModelInfo& info = model->meta;
  info.family = "vit";
  info.kind = ModelKind::Encoder;
  const int64_t d = info.hidden_size = cfg.get_size("hidden_size");
  const int64_t layers = info.num_layers = cfg.get_size("num_hidden_layers", 100000);
  const int64_t heads = cfg.get_size("num_attention_heads", 100000);
  if (d % heads != 0) fail("{}: hidden_size {} is not divisible by num_attention_heads {}", cfg.where(), d, heads);
  const int64_t hd = d / heads;
  const int64_t ffn = cfg.get_size("intermediate_size");
  const float eps = float(cfg.get_float("layer_norm_eps", 1e-12));
  const auto act = hf::activation(cfg, "hidden_act", cfg.get_string("hidden_act", "gelu"));
  const bool qkv_bias = cfg.get_bool("qkv_bias", true);
  const auto [image_h, image_w] = size_pair(cfg, "image_size", 224);
  const auto [patch_h, patch_w] = size_pair(cfg, "patch_size", 16);
  if (patch_h != patch_w)
    fail("{}: field 'patch_size': non-square patches {}x{} are not supported", cfg.where(), patch_h, patch_w);
  if (patch_h > image_h || patch_w > image_w)
    fail("{}: field 'patch_size' {} is larger than image_size {}x{}", cfg.where(), patch_h, image_h, image_w);
  const int64_t channels = cfg.get_size("num_channels", 3, 64);
  hf::fill_info(info, cfg, store, dir);

  const Scope root(store), base = root.has("vit.embeddings.cls_token") ? root.pp("vit") : root;
  const Scope e = base.pp("embeddings");
  PatchEmbedding pe;
  pe.channels = channels;
  pe.image_height = image_h;
  pe.image_width = image_w;
  pe.patch = patch_h;
  const int64_t k = channels * patch_h * patch_h;
  const Scope proj = e.pp("patch_embeddings").pp("projection");
  pe.projection = Linear(proj.weight("weight", {d, channels, patch_h, patch_h}).reshaped({d, k}), proj.vector("bias", d));
  pe.cls = load_flat(e, "cls_token", {1, 1, d});
  pe.positions = load_flat(e, "position_embeddings", {1, 1 + pe.patches(), d});
  model->patches = std::move(pe);

  Stack& stack = model->stack;
  for (int64_t l = 0; l < layers; ++l) {
    const Scope lp = base.pp("encoder").pp("layer").pp(l);
    Attention a = lp.pp("attention").attention(
        AttentionConfig{d, heads, heads, hd, /*causal=*/false, 0, hf::inverse_sqrt(double(hd))},
        {qkv_bias, qkv_bias, qkv_bias, true}, AttentionNames{"attention.query", "attention.key", "attention.value", "output.dense"});
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
  if (store.has("classifier.weight")) {
    const Tensor w = store.get("classifier.weight");
    if (w.rank() != 2 || w.dim(1) != d)
      fail("{}: tensor 'classifier.weight': expected [labels, {}], found {}", store.file_of("classifier.weight"), d,
           shape_str(w.shape()));
    const int64_t n = w.dim(0);
    model->classifier = root.linear("classifier", d, n, store.has("classifier.bias"));
    // id2label names the classes; missing entries are called LABEL_<i> as Hugging Face does.
    model->labels.resize(size_t(n));
    std::optional<JsonObject> names = cfg.get_object("id2label");
    for (int64_t i = 0; i < n; ++i) {
      const std::string key = std::to_string(i);
      model->labels[size_t(i)] = names && names->has(key) ? names->get_string(key) : "LABEL_" + key;
    }
  }
  info.max_positions = model->max_tokens();
  return model;
}

}  // namespace tessera::families
