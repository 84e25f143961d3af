// BART (and, through load_bart_like, Marian, mBART and Pegasus): encoder-decoder with learned
// positions offset by 2 and a layernorm_embedding (BART, mBART) or computed sinusoidal positions
// and no embedding norm (Marian, Pegasus); post-norm layers (BART, Marian) or pre-norm layers
// with a final layer_norm closing each stack (mBART, Pegasus); embeddings × sqrt(d_model) when
// scale_embedding; tied head plus final_logits_bias.
#include <cmath>

#include "bart_layers.hpp"
#include "families.hpp"

namespace tessera::families {

std::shared_ptr<const Model> load_bart_like(const JsonObject& cfg, const WeightStore& store, const std::string& dir,
                                            BartKind kind) {
  const bool marian = kind == BartKind::Marian;
  const bool sinusoidal = marian || kind == BartKind::Pegasus;
  const bool pre_norm = kind == BartKind::MBart || kind == BartKind::Pegasus;
  auto model = std::make_shared<EncoderDecoderModel>();
  ModelInfo& info = model->meta;
  info.family = cfg.get_string("model_type");
  info.kind = ModelKind::EncoderDecoder;
  const int64_t d = info.hidden_size = cfg.get_size("d_model");
  const int64_t vocab = cfg.get_size("vocab_size");
  const int64_t dec_vocab = marian ? cfg.get_size("decoder_vocab_size", vocab, int64_t(1) << 31) : vocab;
  info.vocab_size = dec_vocab;
  const int64_t enc_layers = cfg.get_size("encoder_layers", 100000);
  const int64_t dec_layers = info.num_layers = cfg.get_size("decoder_layers", 100000);
  const int64_t mpe = info.max_positions = cfg.get_size("max_position_embeddings", 1 << 24);
  const auto act = hf::activation(cfg, "activation_function", cfg.get_string("activation_function", "gelu"));
  const bool scale = cfg.get_bool("scale_embedding", false);
  // Keys of the old BartConfig that would change the layout this model_type implies.
  if (!pre_norm) {
    hf::reject_if_set(cfg, "normalize_before", "pre-norm BART is model_type 'mbart'");
    hf::reject_if_set(cfg, "add_final_layer_norm", "a final layer norm is part of model_type 'mbart', not BART/Marian");
  }
  hf::reject_if_set(cfg, "add_bias_logits", "a separate logits bias is not supported");
  if (!sinusoidal) hf::reject_if_set(cfg, "static_position_embeddings", "sinusoidal positions are not part of BART");
  if (cfg.has("normalize_embedding") && !cfg.get_bool("normalize_embedding", true))
    fail("{}: 'normalize_embedding' = false is not supported", cfg.where());
  if (sinusoidal && d % 2 != 0) fail("{}: d_model {} must be even for sinusoidal positions", cfg.where(), d);
  hf::fill_info(info, cfg, store, dir);
  // MBartConfig has no decoder_start_token_id of its own (mbart-large-cc25 leaves it unset): HF's
  // generate() then starts from bos_token_id, as it would for Pegasus.
  const std::optional<int64_t> fallback = pre_norm ? info.bos_token_id : info.pad_token_id;
  if (!info.decoder_start_token_id) info.decoder_start_token_id = fallback;
  if (!info.decoder_start_token_id)
    fail("{}: neither decoder_start_token_id nor {} is set", cfg.where(), pre_norm ? "bos_token_id" : "pad_token_id");
  model->decoder_start = int32_t(*info.decoder_start_token_id);

  const Scope root(store);
  const Scope base = store.has("model.encoder.layers.0.fc1.weight") || store.has("model.shared.weight") ? root.pp("model") : root;
  const bool shared = !marian || cfg.get_bool("share_encoder_decoder_embeddings", true);
  if (!shared && dec_vocab != vocab && !base.has("decoder.embed_tokens.weight"))
    fail("{}: separate decoder vocabulary but no tensor '{}'", store.source(), base.name("decoder.embed_tokens.weight"));
  auto embedding = [&](const std::string& side, int64_t rows) {
    return base.has(side + ".embed_tokens.weight") ? base.pp(side).embedding("embed_tokens", rows, d)
                                                   : base.embedding("shared", rows, d);
  };
  model->encoder.embed = embedding("encoder", vocab);
  model->decoder.embed = embedding("decoder", dec_vocab);
  const float embed_scale = scale ? float(std::sqrt(double(d))) : 1.0f;
  for (auto [stack, side] : {std::pair{&model->encoder, std::string("encoder")}, std::pair{&model->decoder, std::string("decoder")}}) {
    stack->embed_scale = embed_scale;
    const Scope s = base.pp(side);
    if (sinusoidal) {
      // Marian's and Pegasus's positions are not read from the checkpoint: sin of the even, cos
      // of the odd angle columns as two halves, computed in double and rounded to float.
      stack->positions = PositionInput::from_table(sinusoidal_table(mpe, d, true), mpe, d);
    } else {
      stack->positions = PositionInput::from_embedding(s.embedding("embed_positions", mpe + 2, d), 2);
      stack->embed_norm = s.layer_norm("layernorm_embedding", d, 1e-5f);
    }
    if (pre_norm) stack->final_norm = s.layer_norm("layer_norm", d, 1e-5f);
  }
  const BartLayerSpec enc{d, bart_heads(cfg, "encoder_attention_heads", d), cfg.get_size("encoder_ffn_dim"), act, pre_norm};
  const BartLayerSpec dec{d, bart_heads(cfg, "decoder_attention_heads", d), cfg.get_size("decoder_ffn_dim"), act, pre_norm};
  hf::check_layer_count(cfg, "encoder_layers", store, base.name("encoder.layers."), enc_layers);
  hf::check_layer_count(cfg, "decoder_layers", store, base.name("decoder.layers."), dec_layers);
  for (int64_t l = 0; l < enc_layers; ++l)
    model->encoder.layers.push_back(load_bart_layer(base.pp("encoder").pp("layers").pp(l), enc, false));
  for (int64_t l = 0; l < dec_layers; ++l)
    model->decoder.layers.push_back(load_bart_layer(base.pp("decoder").pp("layers").pp(l), dec, true));

  std::vector<float> bias;
  if (store.has("final_logits_bias")) {
    Tensor b = store.get("final_logits_bias", {1, dec_vocab});
    for (int64_t i = 0; i < dec_vocab; ++i) bias.push_back(b.get_f32(i));
  }
  if (store.has("lm_head.weight")) {
    model->decoder.head = Linear(root.weight("lm_head.weight", {dec_vocab, d}), std::move(bias));
  } else {
    if (!cfg.get_bool("tie_word_embeddings", true))
      fail("{}: missing tensor 'lm_head.weight' (and tie_word_embeddings is false)", store.source());
    model->decoder.head = Linear(model->decoder.embed->table(), std::move(bias));
  }
  return model;
}

std::shared_ptr<const Model> load_bart(const JsonObject& cfg, const WeightStore& store, const std::string& dir) {
  return load_bart_like(cfg, store, dir, BartKind::Bart);
}

}  // namespace tessera::families
