// T5 (original and v1.1 / flan): pre-norm with T5's RMS-style LayerNorm, no attention scaling,
// a relative position bias computed in block 0 and shared by every layer of its stack
// (bidirectional buckets in the encoder, causal in the decoder), ReLU or gated-GELU
// feed-forward, and the tied head's d_model^-0.5 rescaling. mT5 (mt5.cpp) is the same loader
// with its own defaults and no rescaling.
#include <cmath>

#include "tessera/models/hf_config.hpp"
#include "families.hpp"
#include "t5_like.hpp"
#include "tessera/models/scope.hpp"
#include "tessera/models/encoder_decoder.hpp"

namespace tessera::families {
namespace {

// Hugging Face's _relative_position_bucket for one relative position (key - query), in the
// same float32 arithmetic (the log branch truncates, so rounding matters at bucket edges).
int64_t t5_bucket(int64_t rel, bool bidirectional, int64_t num_buckets, int64_t max_distance) {
  int64_t bucket = 0;
  if (bidirectional) {
    num_buckets /= 2;
    if (rel > 0) bucket += num_buckets;
    rel = rel < 0 ? -rel : rel;
  } else {
    rel = rel < 0 ? -rel : 0;
  }
  const int64_t max_exact = num_buckets / 2;
  if (rel < max_exact) return bucket + rel;
  const float ratio = float(std::log(double(max_distance) / double(max_exact)));
  const float scaled = std::log(float(rel) / float(max_exact)) / ratio * float(num_buckets - max_exact);
  const int64_t large = std::min<int64_t>(max_exact + int64_t(scaled), num_buckets - 1);
  return bucket + large;
}

// The bias of one stack: table [buckets, heads] from the checkpoint, bucket of each relative
// position precomputed over [-reach, reach] (every farther distance lands in the last bucket).
std::shared_ptr<const ScoreBias> t5_bias(const Scope& scope, const std::string& name, int64_t heads, int64_t num_buckets,
                                         int64_t max_distance, bool bidirectional) {
  Tensor t = scope.tensor(name, {num_buckets, heads});
  std::vector<float> table(size_t(num_buckets * heads));
  for (int64_t i = 0; i < num_buckets * heads; ++i) table[size_t(i)] = t.get_f32(i);
  const int64_t reach = std::max(max_distance, num_buckets) + 1;
  std::vector<int32_t> bucket(size_t(2 * reach + 1));
  for (int64_t r = -reach; r <= reach; ++r)
    bucket[size_t(r + reach)] = int32_t(t5_bucket(r, bidirectional, num_buckets, max_distance));
  return std::make_shared<const ScoreBias>(
      [table = std::move(table), bucket = std::move(bucket), reach, heads](int64_t h, int64_t q, int64_t k) {
        const int64_t rel = std::clamp(k - q, -reach, reach);
        return table[size_t(bucket[size_t(rel + reach)] * heads + h)];
      });
}

}  // namespace

std::shared_ptr<const Model> load_t5_like(const JsonObject& cfg, const WeightStore& store, const std::string& dir,
                                          bool mt5) {
  auto model = std::make_shared<EncoderDecoderModel>();
  ModelInfo& info = model->meta;
  info.family = cfg.get_string("model_type");
  info.kind = ModelKind::EncoderDecoder;
  const int64_t d = info.hidden_size = cfg.get_size("d_model");
  const int64_t vocab = info.vocab_size = cfg.get_size("vocab_size");
  const int64_t d_kv = cfg.get_size("d_kv", 1 << 16);
  const int64_t ffn = cfg.get_size("d_ff");
  const int64_t heads = cfg.get_size("num_heads", 100000);
  const int64_t enc_layers = cfg.get_size("num_layers", 100000);
  const int64_t dec_layers = info.num_layers = cfg.get_size("num_decoder_layers", enc_layers, 100000);
  const int64_t buckets = cfg.get_size("relative_attention_num_buckets", 32, 1 << 20);
  const int64_t max_distance = cfg.get_size("relative_attention_max_distance", 128, 1 << 30);
  if (buckets < 4) fail("{}: relative_attention_num_buckets {} is too small (at least 4)", cfg.where(), buckets);
  const float eps = float(cfg.get_float("layer_norm_epsilon", 1e-6));
  info.max_positions = 0;  // relative positions: no learned limit

  // feed_forward_proj: "relu", "gelu", "gated-gelu" (gelu_new), "gated-silu", ... as T5Config parses it.
  const std::string ffp = cfg.get_string("feed_forward_proj", mt5 ? "gated-gelu" : "relu");
  const bool gated = ffp.rfind("gated-", 0) == 0;
  const std::string act_name = ffp == "gated-gelu" ? "gelu_new" : (gated ? ffp.substr(6) : ffp);
  if (act_name.find('-') != std::string::npos)
    fail("{}: feed_forward_proj '{}' is not of the form '<act>' or 'gated-<act>'", cfg.where(), ffp);
  const auto act = hf::activation(cfg, "feed_forward_proj", act_name);

  // transformers 5.x: scale_decoder_outputs is stored by 5.x; older configs imply it from
  // tie_word_embeddings (absent counts as true). mT5 in 5.x never rescales (MT5Config has no
  // scale_decoder_outputs and MT5ForConditionalGeneration no rescaling), whatever the tie flag says.
  const bool scale_out = mt5                              ? false
                         : cfg.has("scale_decoder_outputs") ? cfg.get_bool("scale_decoder_outputs", true)
                                                          : cfg.get_bool("tie_word_embeddings", true);
  hf::fill_info(info, cfg, store, dir);
  if (!info.decoder_start_token_id && info.pad_token_id) info.decoder_start_token_id = info.pad_token_id;
  if (!info.decoder_start_token_id) fail("{}: neither decoder_start_token_id nor pad_token_id is set", cfg.where());
  model->decoder_start = int32_t(*info.decoder_start_token_id);

  const Scope root(store);
  auto embedding = [&](const std::string& side) {
    return root.has(side + ".embed_tokens.weight") ? root.pp(side).embedding("embed_tokens", vocab, d)
                                                   : root.embedding("shared", vocab, d);
  };
  Stack& enc = model->encoder;
  Stack& dec = model->decoder;
  enc.embed = embedding("encoder");
  dec.embed = embedding("decoder");
  // Block 0 holds each stack's relative bias; every layer of the stack shares it.
  const auto enc_bias = t5_bias(root, "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", heads,
                                buckets, max_distance, true);
  const auto dec_bias = t5_bias(root, "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", heads,
                                buckets, max_distance, false);

  auto attention = [&](const Scope& s, bool causal) {
    // T5 folds the attention scaling into its initialisation: scale 1.
    return s.attention(AttentionConfig{d, heads, heads, d_kv, causal, 0, 1.0f}, {}, AttentionNames{"q", "k", "v", "o"});
  };
  auto feed_forward = [&](const Scope& s) {
    return FeedForward(gated ? s.gated_mlp(act, d, ffn, false, MLPNames{"wi_0", "wi_1", "wo"})
                             : s.dense_mlp(act, d, ffn, false, MLPNames::dense("wi", "wo")));
  };
  auto norm = [&](const Scope& s, const std::string& name) { return Residual::pre_norm(s.rms_norm(name, d, eps)); };

  hf::check_layer_count(cfg, "num_layers", store, "encoder.block.", enc_layers);
  hf::check_layer_count(cfg, "num_decoder_layers", store, "decoder.block.", dec_layers);
  for (int64_t l = 0; l < enc_layers; ++l) {
    const Scope p = root.pp("encoder").pp("block").pp(l).pp("layer");
    Attention self = attention(p.pp("0").pp("SelfAttention"), false);
    self.bias = enc_bias;
    Layer layer(d);
    layer.add(norm(p.pp("0"), "layer_norm"), SelfAttention(std::move(self)));
    layer.add(norm(p.pp("1"), "layer_norm"), feed_forward(p.pp("1").pp("DenseReluDense")));
    enc.layers.push_back(std::move(layer));
  }
  for (int64_t l = 0; l < dec_layers; ++l) {
    const Scope p = root.pp("decoder").pp("block").pp(l).pp("layer");
    Attention self = attention(p.pp("0").pp("SelfAttention"), true);
    self.bias = dec_bias;
    Layer layer(d);
    layer.add(norm(p.pp("0"), "layer_norm"), SelfAttention(std::move(self)));
    layer.add(norm(p.pp("1"), "layer_norm"), CrossAttention(attention(p.pp("1").pp("EncDecAttention"), false)));
    layer.add(norm(p.pp("2"), "layer_norm"), feed_forward(p.pp("2").pp("DenseReluDense")));
    dec.layers.push_back(std::move(layer));
  }
  enc.final_norm = root.pp("encoder").rms_norm("final_layer_norm", d, eps);
  dec.final_norm = root.pp("decoder").rms_norm("final_layer_norm", d, eps);
  if (scale_out) dec.output_scale = float(std::pow(double(d), -0.5));
  // A stored lm_head.weight is used even where 5.x forces tie_word_embeddings (v1.1, flan-t5).
  dec.head = hf::lm_head(root, "lm_head", *dec.embed, !store.has("lm_head.weight"));
  return model;
}

std::shared_ptr<const Model> load_t5(const JsonObject& cfg, const WeightStore& store, const std::string& dir) {
  return load_t5_like(cfg, store, dir, /*mt5=*/false);
}

}  // namespace tessera::families
