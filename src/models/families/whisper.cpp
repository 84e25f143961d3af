// Whisper: log-mel features through two GELU convolutions (the second halves the frames),
// plus the encoder positions stored in the checkpoint; pre-norm layers with a final
// layer_norm in both stacks; learned decoder positions; k_proj without bias; head tied to
// the decoder embeddings unless proj_out.weight is stored.
#include "bart_layers.hpp"
#include "families.hpp"

namespace tessera::families {

std::shared_ptr<const Model> load_whisper(const JsonObject& cfg, const WeightStore& store, const std::string& dir) {
  auto model = std::make_shared<EncoderDecoderModel>();
  ModelInfo& info = model->meta;
  info.family = "whisper";
  info.kind = ModelKind::EncoderDecoder;
  const int64_t d = info.hidden_size = cfg.get_size("d_model");
  const int64_t vocab = info.vocab_size = cfg.get_size("vocab_size");
  const int64_t enc_layers = cfg.get_size("encoder_layers", 100000);
  const int64_t dec_layers = info.num_layers = cfg.get_size("decoder_layers", 100000);
  const int64_t mel = cfg.get_size("num_mel_bins", 80, 4096);
  const int64_t src_pos = cfg.get_size("max_source_positions", 1500, 1 << 20);
  const int64_t tgt_pos = info.max_positions = cfg.get_size("max_target_positions", 448, 1 << 20);
  const auto act = hf::activation(cfg, "activation_function", cfg.get_string("activation_function", "gelu"));
  hf::reject_if_set(cfg, "scale_embedding", "Whisper with scaled embeddings is not supported");
  hf::reject_if_set(cfg, "use_weighted_layer_sum", "it only concerns audio classification heads");
  hf::fill_info(info, cfg, store, dir);
  if (!info.decoder_start_token_id) fail("{}: decoder_start_token_id is not set", cfg.where());
  model->decoder_start = int32_t(*info.decoder_start_token_id);

  const std::string p = store.has("model.encoder.conv1.weight") ? "model." : "";
  AudioFrontend a;
  a.mel_bins = mel;
  a.frames = 2 * src_pos;
  auto conv = [&](const std::string& name, int64_t in) {
    Tensor w = check_weight_dtype(store, name + ".weight", store.get(name + ".weight", {d, in, 3}));
    return Linear(w.reshaped({d, in * 3}), load_vector(store, name + ".bias", d));
  };
  a.conv1 = conv(p + "encoder.conv1", mel);
  a.conv2 = conv(p + "encoder.conv2", d);
  model->audio = std::move(a);

  PositionInput& ep = model->encoder.positions;
  ep.kind = PositionInput::Kind::Learned;
  ep.learned = Embedding::load(store, p + "encoder.embed_positions.weight", src_pos, d);
  PositionInput& dp = model->decoder.positions;
  dp.kind = PositionInput::Kind::Learned;
  dp.learned = Embedding::load(store, p + "decoder.embed_positions.weight", tgt_pos, d);
  model->decoder.embed = Embedding::load(store, p + "decoder.embed_tokens.weight", vocab, d);

  BartLayerSpec enc{d, bart_heads(cfg, "encoder_attention_heads", d), cfg.get_size("encoder_ffn_dim"), act,
                    Residual::PreNorm, false, 1e-5f};
  BartLayerSpec dec{d, bart_heads(cfg, "decoder_attention_heads", d), cfg.get_size("decoder_ffn_dim"), act,
                    Residual::PreNorm, false, 1e-5f};
  for (int64_t l = 0; l < enc_layers; ++l)
    model->encoder.layers.push_back(load_bart_layer(store, fmt::format("{}encoder.layers.{}.", p, l), enc, false));
  for (int64_t l = 0; l < dec_layers; ++l)
    model->decoder.layers.push_back(load_bart_layer(store, fmt::format("{}decoder.layers.{}.", p, l), dec, true));
  model->encoder.final_norm = Norm::load(store, p + "encoder.layer_norm", NormKind::LayerNorm, d, 1e-5f);
  model->decoder.final_norm = Norm::load(store, p + "decoder.layer_norm", NormKind::LayerNorm, d, 1e-5f);
  if (store.has("proj_out.weight"))
    model->lm_head = Linear::load(store, "proj_out", d, vocab, false);
  else
    model->lm_head = Linear(model->decoder.embed.table(), {});
  model->finalize();
  return model;
}

}  // namespace tessera::families
