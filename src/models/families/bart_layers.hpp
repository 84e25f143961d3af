// Internal to the BART, Marian, mBART, Pegasus and Whisper loaders: the layer layout they share
// (self_attn / encoder_attn with q_proj, k_proj, v_proj, out_proj; fc1, fc2; LayerNorms named
// self_attn_layer_norm, encoder_attn_layer_norm, final_layer_norm).
#pragma once

#include <cmath>
#include <string>

#include "../hf_config.hpp"
#include "tessera/blocks/layer.hpp"
#include "tessera/io/json.hpp"
#include "tessera/models/encoder_decoder.hpp"

namespace tessera::families {

struct BartLayerSpec {
  int64_t d = 0, heads = 0, ffn = 0;
  kernels::Activation act = kernels::Activation::Gelu;
  Residual residual = Residual::PostNorm;
  bool k_bias = true;  // Whisper's k_proj has no bias
  float eps = 1e-5f;   // nn.LayerNorm's default, which these models never change
};

inline Attention load_bart_attention(const WeightStore& store, const std::string& p, const BartLayerSpec& s, bool causal) {
  Attention a;
  const int64_t hd = s.d / s.heads;
  a.cfg = AttentionConfig{s.d, s.heads, s.heads, hd, causal, 0, float(1.0 / std::sqrt(double(hd)))};
  a.validate();
  a.q = Linear::load(store, p + "q_proj", s.d, s.d, true);
  a.k = Linear::load(store, p + "k_proj", s.d, s.d, s.k_bias);
  a.v = Linear::load(store, p + "v_proj", s.d, s.d, true);
  a.o = Linear::load(store, p + "out_proj", s.d, s.d, true);
  return a;
}

// One layer under `p` ("model.encoder.layers.3."); `cross`: a decoder layer.
inline Layer load_bart_layer(const WeightStore& store, const std::string& p, const BartLayerSpec& s, bool cross) {
  Layer layer;
  layer.residual = s.residual;
  layer.attn_norm = Norm::load(store, p + "self_attn_layer_norm", NormKind::LayerNorm, s.d, s.eps);
  layer.attn = load_bart_attention(store, p + "self_attn.", s, /*causal=*/cross);
  if (cross) {
    layer.has_cross = true;
    layer.cross_norm = Norm::load(store, p + "encoder_attn_layer_norm", NormKind::LayerNorm, s.d, s.eps);
    layer.cross = load_bart_attention(store, p + "encoder_attn.", s, /*causal=*/false);
  }
  layer.mlp_norm = Norm::load(store, p + "final_layer_norm", NormKind::LayerNorm, s.d, s.eps);
  layer.mlp.kind = MLP::Kind::Dense;
  layer.mlp.act = s.act;
  layer.mlp.hidden = s.d;
  layer.mlp.ffn = s.ffn;
  layer.mlp.up = Linear::load(store, p + "fc1", s.d, s.ffn, true);
  layer.mlp.down = Linear::load(store, p + "fc2", s.ffn, s.d, true);
  return layer;
}

// Heads that divide d_model, read from `key`.
inline int64_t bart_heads(const JsonObject& cfg, const std::string& key, int64_t d) {
  const int64_t h = cfg.get_size(key, 100000);
  if (d % h != 0) fail("{}: d_model {} is not divisible by {} {}", cfg.where(), d, key, h);
  return h;
}

// The BART layout's four text families; bart.cpp builds them all. They differ in
//   positions:  learned, read at position + 2 (BART, mBART) or sinusoidal, computed (Marian, Pegasus);
//   layernorm_embedding after the positions (BART, mBART);
//   norms:      post-norm (BART, Marian) or pre-norm with a final layer_norm per stack (mBART, Pegasus);
//   Marian alone may have a separate decoder vocabulary.
enum class BartKind { Bart, Marian, MBart, Pegasus };
std::shared_ptr<const Model> load_bart_like(const JsonObject& cfg, const WeightStore& store, const std::string& dir,
                                            BartKind kind);

}  // namespace tessera::families
