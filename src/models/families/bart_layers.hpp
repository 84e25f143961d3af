// Internal to the BART, Marian, mBART, Pegasus and Whisper loaders: the layer layout they share
// (self_attn / encoder_attn with q_proj, k_proj, v_proj, out_proj; fc1, fc2; LayerNorms named
// self_attn_layer_norm, encoder_attn_layer_norm, final_layer_norm).
#pragma once

#include <cmath>
#include <string>

#include "tessera/models/hf_config.hpp"
#include "tessera/blocks/layer.hpp"
#include "tessera/io/json.hpp"
#include "tessera/models/encoder_decoder.hpp"
#include "tessera/models/scope.hpp"

namespace tessera::families {

struct BartLayerSpec {
  int64_t d = 0, heads = 0, ffn = 0;
  kernels::Activation act = kernels::Activation::Gelu;
  bool pre_norm = false;  // Whisper: pre-norm; BART, Marian: post-norm
  bool k_bias = true;     // Whisper's k_proj has no bias
  float eps = 1e-5f;      // nn.LayerNorm's default, which these models never change
};

// One layer under `p` ("model.encoder.layers.3"); `cross`: a decoder layer.
inline Layer load_bart_layer(const Scope& p, const BartLayerSpec& s, bool cross) {
  const int64_t hd = s.d / s.heads;
  auto attention = [&](const std::string& name, bool causal) {
    return p.pp(name).attention(AttentionConfig{s.d, s.heads, s.heads, hd, causal, 0, hf::inverse_sqrt(double(hd))},
                                {true, s.k_bias, true, true}, AttentionNames{.o = "out_proj"});
  };
  auto residual = [&](const std::string& norm) {
    Norm n = p.layer_norm(norm, s.d, s.eps);
    return s.pre_norm ? Residual::pre_norm(std::move(n)) : Residual::post_norm(std::move(n));
  };
  Layer layer(s.d);
  layer.add(residual("self_attn_layer_norm"), SelfAttention(attention("self_attn", /*causal=*/cross)));
  if (cross) layer.add(residual("encoder_attn_layer_norm"), CrossAttention(attention("encoder_attn", false)));
  layer.add(residual("final_layer_norm"), FeedForward(p.dense_mlp(s.act, s.d, s.ffn, true, MLPNames::dense("fc1", "fc2"))));
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
