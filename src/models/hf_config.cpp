#include "tessera/models/hf_config.hpp"

#include <cmath>
#include <set>

namespace tessera::hf {

kernels::Activation activation(const JsonObject& cfg, const std::string& key, const std::string& v) {
  using kernels::Activation;
  if (v == "silu" || v == "swish") return Activation::Silu;
  if (v == "gelu") return Activation::Gelu;
  if (v == "gelu_new" || v == "gelu_pytorch_tanh" || v == "gelu_fast" || v == "gelu_tanh") return Activation::GeluTanh;
  if (v == "relu") return Activation::Relu;
  fail("{}: field '{}': activation '{}' is not supported (supported: silu, gelu, gelu_new, gelu_pytorch_tanh, relu)",
       cfg.where(), key, v);
}

RopeSpec rope(const JsonObject& cfg, int64_t head_dim, double default_theta) {
  RopeSpec spec;
  std::optional<JsonObject> params = cfg.get_object("rope_parameters");  // 5.x
  std::optional<JsonObject> scaling = cfg.get_object("rope_scaling");    // 4.x
  const JsonObject* p = params ? &*params : (scaling ? &*scaling : nullptr);

  spec.theta = cfg.get_float("rope_theta", cfg.get_float("rotary_emb_base", default_theta));
  if (params) spec.theta = params->get_float("rope_theta", spec.theta);

  double partial = cfg.get_float("partial_rotary_factor", cfg.get_float("rotary_pct", 1.0));
  if (params) partial = params->get_float("partial_rotary_factor", partial);
  if (!(partial > 0.0 && partial <= 1.0)) fail("{}: partial rotary factor {} must be in (0, 1]", cfg.where(), partial);
  spec.rotary_dim = int64_t(double(head_dim) * partial);
  if (spec.rotary_dim % 2) fail("{}: rotary dimension {} (head_dim {} × {}) must be even", cfg.where(), spec.rotary_dim, head_dim, partial);

  std::string type = "default";
  if (p) type = p->get_string("rope_type", p->get_string("type", "default"));
  const int64_t max_pos = cfg.get_int("max_position_embeddings", 0);
  if (type == "default") {
    spec.type = RopeSpec::Type::Default;
  } else if (type == "linear") {
    spec.type = RopeSpec::Type::Linear;
    spec.factor = p->get_float("factor");
  } else if (type == "dynamic") {
    spec.type = RopeSpec::Type::Dynamic;
    spec.factor = p->get_float("factor");
    spec.original_max_positions = p->get_int("original_max_position_embeddings", max_pos);
  } else if (type == "llama3") {
    spec.type = RopeSpec::Type::Llama3;
    spec.factor = p->get_float("factor");
    spec.low_freq_factor = p->get_float("low_freq_factor");
    spec.high_freq_factor = p->get_float("high_freq_factor");
    spec.original_max_positions = p->get_int("original_max_position_embeddings", cfg.get_int("original_max_position_embeddings", max_pos));
  } else if (type == "yarn") {
    spec.type = RopeSpec::Type::Yarn;
    spec.original_max_positions = p->get_int("original_max_position_embeddings", cfg.get_int("original_max_position_embeddings", max_pos));
    spec.factor = p->has("factor") ? p->get_float("factor") : double(max_pos) / double(spec.original_max_positions);
    auto mscale = [](double scale, double m) { return scale <= 1 ? 1.0 : 0.1 * m * std::log(scale) + 1.0; };
    if (p->has("attention_factor")) {
      spec.attention_factor = p->get_float("attention_factor");
    } else if (p->has("mscale") && p->has("mscale_all_dim") && p->get_float("mscale") != 0 && p->get_float("mscale_all_dim") != 0) {
      spec.attention_factor = mscale(spec.factor, p->get_float("mscale")) / mscale(spec.factor, p->get_float("mscale_all_dim"));
    } else {
      spec.attention_factor = mscale(spec.factor, 1.0);
    }
    spec.beta_fast = p->get_float("beta_fast", 32.0);
    spec.beta_slow = p->get_float("beta_slow", 1.0);
    spec.truncate = p->get_bool("truncate", true);
  } else if (type == "longrope") {
    // As transformers' _compute_longrope_parameters: a top-level original_max_position_embeddings
    // (Phi-3's config) wins; without `factor` the scale is max_position_embeddings over it.
    spec.type = RopeSpec::Type::LongRope;
    spec.original_max_positions =
        cfg.get_int("original_max_position_embeddings", p->get_int("original_max_position_embeddings", max_pos));
    if (spec.original_max_positions <= 1)
      fail("{}: original_max_position_embeddings must be above 1 for longrope, found {}", cfg.where(), spec.original_max_positions);
    spec.factor = p->has("factor") ? p->get_float("factor") : double(max_pos) / double(spec.original_max_positions);
    spec.attention_factor = p->has("attention_factor") ? p->get_float("attention_factor")
                            : spec.factor <= 1.0    ? 1.0
                                                    : std::sqrt(1 + std::log(spec.factor) / std::log(double(spec.original_max_positions)));
    for (const char* key : {"short_factor", "long_factor"}) {
      const auto& v = p->raw().contains(key) ? p->raw().at(key) : nlohmann::json();
      if (!v.is_array() || int64_t(v.size()) != spec.rotary_dim / 2)
        fail("{}: {} must list {} numbers (rotary dimension / 2), found {}", p->where(), key, spec.rotary_dim / 2, v.dump());
      std::vector<float>& out = std::string(key) == "short_factor" ? spec.short_factor : spec.long_factor;
      for (const auto& x : v) {
        if (!x.is_number() || !(x.get<double>() > 0)) fail("{}: {} must hold positive numbers, found {}", p->where(), key, x.dump());
        out.push_back(x.get<float>());
      }
    }
  } else {
    fail("{}: rope type '{}' is not supported (supported: default, linear, dynamic, llama3, yarn, longrope)", p->where(), type);
  }
  // Not a Hugging Face key: a GGUF file's rope_freqs tensor, put here by the GGUF translation.
  if (params && params->has("freq_factors")) {
    const auto& ff = params->raw().at("freq_factors");
    if (!ff.is_array() || int64_t(ff.size()) != spec.rotary_dim / 2)
      fail("{}: freq_factors must hold {} numbers (rotary dimension / 2)", params->where(), spec.rotary_dim / 2);
    for (const auto& v : ff) {
      if (!v.is_number() || !(v.get<double>() > 0)) fail("{}: freq_factors must be positive numbers", params->where());
      spec.freq_factors.push_back(v.get<float>());
    }
  }
  if (spec.type != RopeSpec::Type::Default && !(spec.factor > 0))
    fail("{}: rope scaling factor must be positive, found {}", p->where(), spec.factor);
  return spec;
}

std::vector<int64_t> layer_windows(const JsonObject& cfg, int64_t layers, int64_t window) {
  const auto& lt = cfg.raw().at("layer_types");
  if (!lt.is_array() || int64_t(lt.size()) != layers) fail("{}: layer_types must list {} entries", cfg.where(), layers);
  std::vector<int64_t> w(size_t(layers), 0);
  for (int64_t l = 0; l < layers; ++l) {
    const std::string t = lt[size_t(l)].is_string() ? lt[size_t(l)].get<std::string>() : "";
    if (t == "sliding_attention") w[size_t(l)] = window;
    else if (t != "full_attention")
      fail("{}: layer_types[{}] = {} is not supported (expected \"sliding_attention\" or \"full_attention\")", cfg.where(), l,
           lt[size_t(l)].dump());
  }
  return w;
}

double float_or_off(const JsonObject& cfg, const std::string& key, double fallback) {
  if (!cfg.raw().contains(key)) return fallback;
  return cfg.has(key) ? cfg.get_float(key) : 0.0;
}

HeadShape head_shape(const JsonObject& cfg, int64_t hidden, int64_t default_head_dim) {
  HeadShape s;
  s.heads = cfg.get_size("num_attention_heads", 100000);
  s.kv_heads = cfg.get_size("num_key_value_heads", s.heads, 100000);
  if (!cfg.has("head_dim") && default_head_dim == 0 && hidden % s.heads != 0)
    fail("{}: hidden_size {} is not divisible by num_attention_heads {}", cfg.where(), hidden, s.heads);
  if (s.heads % s.kv_heads != 0)
    fail("{}: num_attention_heads {} is not a multiple of num_key_value_heads {}", cfg.where(), s.heads, s.kv_heads);
  s.head_dim = cfg.has("head_dim")      ? cfg.get_size("head_dim", 1 << 16)
               : default_head_dim > 0 ? default_head_dim
                                      : hidden / s.heads;
  return s;
}

void fill_info(ModelInfo& info, const JsonObject& cfg, const WeightStore& store, const std::string& dir) {
  info.dir = dir;
  info.architecture = cfg.get_string("model_type");
  if (cfg.has("architectures")) {
    const auto& a = cfg.raw().at("architectures");
    if (a.is_array() && !a.empty() && a[0].is_string()) info.architecture = a[0].get<std::string>();
  }
  info.eos_token_ids = cfg.get_int_list("eos_token_id");
  if (cfg.has("bos_token_id")) info.bos_token_id = cfg.get_int("bos_token_id");
  if (cfg.has("pad_token_id")) info.pad_token_id = cfg.get_int("pad_token_id");
  if (cfg.has("decoder_start_token_id")) info.decoder_start_token_id = cfg.get_int("decoder_start_token_id");
  std::set<std::string> dtypes;
  for (const auto& name : store.names()) {
    Tensor t = store.get(name);
    info.parameters += t.numel();
    info.weight_bytes += t.nbytes();
    dtypes.insert(std::string(dtype_name(t.dtype())));
  }
  info.weight_dtype.clear();
  for (const auto& d : dtypes) info.weight_dtype += (info.weight_dtype.empty() ? "" : "+") + d;
  if (store.quantize())
    info.weight_dtype = fmt::format("{} (quantized at load from {})", dtype_name(*store.quantize()), info.weight_dtype);
}

void check_layer_count(const JsonObject& cfg, const std::string& key, const WeightStore& store,
                       const std::string& prefix, int64_t layers) {
  for (const auto& name : store.names()) {
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    size_t i = prefix.size(), end = i;
    while (end < name.size() && end - i < 12 && name[end] >= '0' && name[end] <= '9') ++end;
    if (end == i || end >= name.size() || name[end] != '.') continue;
    const int64_t layer = std::stoll(name.substr(i, end - i));
    if (layer >= layers)
      fail("{}: tensor '{}' belongs to layer {}, but {} says {} = {} (the checkpoint has more layers than the config)",
           store.file_of(name), name, layer, cfg.where(), key, layers);
  }
}

void reject_if_set(const JsonObject& cfg, const std::string& key, const std::string& why) {
  if (!cfg.has(key)) return;
  const auto& v = cfg.raw().at(key);
  if (v.is_boolean() && !v.get<bool>()) return;
  fail("{}: '{}' = {} is not supported: {}", cfg.where(), key, v.dump(), why);
}

Linear lm_head(const Scope& scope, const std::string& module, const Embedding& embed, bool tied, bool bias) {
  if (tied) return Linear(embed.table(), {});
  if (!scope.has(module + ".weight"))
    fail("{}: missing tensor '{}' (and tie_word_embeddings is false)", scope.store().source(), scope.name(module + ".weight"));
  return scope.linear(module, embed.dim(), embed.rows(), bias);
}

}  // namespace tessera::hf
