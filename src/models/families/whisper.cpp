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

  const Scope root(store), base = root.has("model.encoder.conv1.weight") ? root.pp("model") : root;
  const Scope enc_scope = base.pp("encoder"), dec_scope = base.pp("decoder");
  AudioFrontend a;
  a.mel_bins = mel;
  a.frames = 2 * src_pos;
  auto conv = [&](const std::string& name, int64_t in) {
    return Linear(enc_scope.weight(name + ".weight", {d, in, 3}).reshaped({d, in * 3}), enc_scope.vector(name + ".bias", d));
  };
  a.conv1 = conv("conv1", mel);
  a.conv2 = conv("conv2", d);
  model->audio = std::move(a);

  model->encoder.positions = PositionInput::from_embedding(enc_scope.embedding("embed_positions", src_pos, d));
  model->decoder.positions = PositionInput::from_embedding(dec_scope.embedding("embed_positions", tgt_pos, d));
  model->decoder.embed = dec_scope.embedding("embed_tokens", vocab, d);

  const BartLayerSpec enc{d, bart_heads(cfg, "encoder_attention_heads", d), cfg.get_size("encoder_ffn_dim"), act, true, false};
  const BartLayerSpec dec{d, bart_heads(cfg, "decoder_attention_heads", d), cfg.get_size("decoder_ffn_dim"), act, true, false};
  for (int64_t l = 0; l < enc_layers; ++l) model->encoder.layers.push_back(load_bart_layer(enc_scope.pp("layers").pp(l), enc, false));
  for (int64_t l = 0; l < dec_layers; ++l) model->decoder.layers.push_back(load_bart_layer(dec_scope.pp("layers").pp(l), dec, true));
  model->encoder.final_norm = enc_scope.layer_norm("layer_norm", d, 1e-5f);
  model->decoder.final_norm = dec_scope.layer_norm("layer_norm", d, 1e-5f);
  model->decoder.head = store.has("proj_out.weight") ? root.linear("proj_out", d, vocab) : Linear(model->decoder.embed->table(), {});
  return model;
}

}  // namespace tessera::families
