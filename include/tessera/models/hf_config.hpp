// Reading Hugging Face config.json the way both generations of transformers write it
// (4.x: rope_theta / rope_scaling / rotary_pct / torch_dtype; 5.x: rope_parameters / dtype).
// Public: an application registering its own model_type (registry.hpp) reads config.json with
// the same helpers the built-in families use.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "tessera/blocks/position.hpp"
#include "tessera/io/json.hpp"
#include "tessera/io/safetensors.hpp"
#include "tessera/kernels/kernels.hpp"
#include "tessera/models/model.hpp"
#include "tessera/models/scope.hpp"

namespace tessera::hf {

// "silu", "gelu", "gelu_new", "gelu_pytorch_tanh", "relu", ... → Activation, or an Error.
kernels::Activation activation(const JsonObject& cfg, const std::string& key, const std::string& value);

// The rotary embedding a config asks for, with `head_dim` and the partial rotary factor
// (rope_parameters.partial_rotary_factor, partial_rotary_factor or rotary_pct).
RopeSpec rope(const JsonObject& cfg, int64_t head_dim, double default_theta = 10000.0);

// Per-layer sliding window from config.json's `layer_types` ("sliding_attention" → `window`,
// "full_attention" → 0), or an Error naming the entry. The caller checks that layer_types is set.
std::vector<int64_t> layer_windows(const JsonObject& cfg, int64_t layers, int64_t window);

// A number field whose absence means `fallback` and whose null means "off" (0): Gemma 2's
// soft-capping and sliding_window, as its config class reads them.
double float_or_off(const JsonObject& cfg, const std::string& key, double fallback);

// num_attention_heads, num_key_value_heads (default: heads) and head_dim (default:
// `default_head_dim`, or when 0 hidden_size / heads, which must then divide) of a
// Llama-named config, checked.
struct HeadShape {
  int64_t heads = 0, kv_heads = 0, head_dim = 0;
};
HeadShape head_shape(const JsonObject& cfg, int64_t hidden, int64_t default_head_dim = 0);

// Fills the ModelInfo fields every family shares (ids, sizes, parameters, dtypes).
void fill_info(ModelInfo& info, const JsonObject& cfg, const WeightStore& store, const std::string& dir);

// A checkpoint with more layers than the config says (tensors named `prefix`N. with N >= layers)
// would silently run a smaller model: an Error naming the tensor and the config field.
void check_layer_count(const JsonObject& cfg, const std::string& key, const WeightStore& store,
                       const std::string& prefix, int64_t layers);

// Config keys that change the computation in ways a family does not implement: an Error
// naming the key rather than a silently different model.
void reject_if_set(const JsonObject& cfg, const std::string& key, const std::string& why);

// The LM head: the embedding table when `tied`, else "<module>.weight" [vocab, hidden] in
// `scope` (missing: an Error that says tie_word_embeddings is false).
Linear lm_head(const Scope& scope, const std::string& module, const Embedding& embed, bool tied, bool bias = false);

// Attention scaled by head_dim^-1/2, the usual choice.
inline float inverse_sqrt(double x) { return float(1.0 / std::sqrt(x)); }

}  // namespace tessera::hf
