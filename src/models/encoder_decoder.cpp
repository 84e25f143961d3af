#include "tessera/models/encoder_decoder.hpp"

#include <cstring>

#include "tessera/generation/generate.hpp"

namespace tessera {
namespace {

// What one source leaves behind: the encoder output (for forward_named) and each decoder
// layer's cross-attention keys/values. Immutable once built, so beam clones share it.
struct SourceMemory {
  std::vector<float> hidden;  // [n, hidden]
  int64_t n = 0;
  std::vector<KvCache> cross;  // per decoder layer
};

class EncoderDecoderSession final : public Session {
 public:
  EncoderDecoderSession(const EncoderDecoderModel& model, int64_t capacity, DType kv_type)
      : self(model.decoder.make_caches(capacity, kv_type)), capacity_(capacity) {}
  int64_t position() const override { return pos; }
  void reset() override {
    pos = 0;
    for (auto& c : self) c.clear();
    source.reset();
  }
  int64_t capacity() const override { return capacity_; }
  std::unique_ptr<Session> clone() const override { return std::make_unique<EncoderDecoderSession>(*this); }
  void copy_from(const Session& other) override {
    auto* o = dynamic_cast<const EncoderDecoderSession*>(&other);
    TESSERA_CHECK(o != nullptr && o->self.size() == self.size(), "copy_from: the sessions belong to different models");
    self = o->self;
    source = o->source;
    pos = o->pos;
    capacity_ = o->capacity_;
  }

  std::vector<KvCache> self;
  std::shared_ptr<const SourceMemory> source;
  LayerScratch scratch;
  std::vector<float> x, projected;
  std::vector<Segment> segs{1};
  int64_t pos = 0;

 private:
  int64_t capacity_;
};

EncoderDecoderSession& cast(Session& session) {
  auto* s = dynamic_cast<EncoderDecoderSession*>(&session);
  TESSERA_CHECK(s != nullptr, "the session was not created by this encoder-decoder model");
  return *s;
}

// im2col for a kernel-3, padding-1 convolution over time: col[f, c*3 + t] = in(c, f*stride + t - 1),
// zero outside [0, frames). `at(c, time)` reads the input.
template <typename At>
std::vector<float> im2col3(int64_t channels, int64_t frames, int64_t stride, int64_t out_frames, At at) {
  std::vector<float> col(size_t(out_frames * channels * 3), 0.0f);
  for (int64_t f = 0; f < out_frames; ++f)
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t t = 0; t < 3; ++t) {
        int64_t time = f * stride + t - 1;
        if (time >= 0 && time < frames) col[size_t((f * channels + c) * 3 + t)] = at(c, time);
      }
  return col;
}

}  // namespace

std::unique_ptr<Session> EncoderDecoderModel::new_session(const SessionOptions& options) const {
  // The cross-attention memory (encoder-decoders) is sized by the source, not counted here.
  // (an unsupported kv_type is refused by session_capacity, with the model's path)
  refuse_elastic_depth(options, meta.dir, "an encoder-decoder");
  const int64_t per_position = kernels::is_kv_type(options.kv_type) ? kv_cache_bytes_per_position(options.kv_type) : 0;
  const int64_t limit = decoder.positions.limit();
  const int64_t cap = session_capacity(options, meta.dir, limit > 0 ? limit : 4096, limit, per_position);
  return std::make_unique<EncoderDecoderSession>(*this, cap, options.kv_type);
}

void EncoderDecoderModel::run_encoder(std::vector<float>& x, int64_t n) const {
  // The encoder is bidirectional and sees the whole source: attention reads it in place.
  LayerScratch scratch;
  const std::vector<Segment> segs{Segment{0, n, 0, {}, {}, nullptr}};
  encoder.run_layers(x.data(), n, segs, scratch);
  if (encoder.final_norm) encoder.final_norm->forward(x.data(), x.data(), n);
}

std::vector<float> EncoderDecoderModel::encode_ids(std::span<const int32_t> ids) const {
  if (audio) fail("{} ({}) takes input_features (log-mel), not token ids", meta.dir, meta.architecture);
  const int64_t n = int64_t(ids.size()), d = meta.hidden_size;
  TESSERA_CHECK(n > 0, "the source is empty: give at least one token");
  const int64_t limit = encoder.positions.limit();
  if (limit > 0 && n > limit) fail("the source has {} tokens but this model's encoder holds at most {}", n, limit);
  std::vector<float> x(size_t(n * d)), scratch;
  encoder.embed_tokens(ids, 0, x.data(), d, scratch);
  run_encoder(x, n);
  return x;
}

std::vector<float> EncoderDecoderModel::encode_features(const Tensor& features) const {
  if (!audio) fail("{} ({}) takes token ids, not input features", meta.dir, meta.architecture);
  const AudioFrontend& a = *audio;
  if (features.rank() != 3 || features.dim(0) != 1 || features.dim(1) != a.mel_bins)
    fail("input_features: expected shape [1, {}, {}] (one log-mel spectrogram), found {}", a.mel_bins, a.frames,
         shape_str(features.shape()));
  // As Hugging Face: the encoder's learned positions fix the input length (30 s for real Whisper).
  if (features.dim(2) != a.frames)
    fail("input_features: Whisper expects {} frames (2 × max_source_positions), found {}; pad or trim the audio",
         a.frames, features.dim(2));
  Tensor f = features.to_f32();
  const float* in = f.data<float>();
  const int64_t d = meta.hidden_size, frames = a.frames, mel = a.mel_bins;
  const int64_t n = (frames - 1) / 2 + 1;
  auto col1 = im2col3(mel, frames, 1, frames, [&](int64_t c, int64_t t) { return in[c * frames + t]; });
  std::vector<float> h1(size_t(frames * d));
  a.conv1.forward(col1.data(), frames, h1.data());
  kernels::activate(kernels::Activation::Gelu, h1.data(), frames * d);
  auto col2 = im2col3(d, frames, 2, n, [&](int64_t c, int64_t t) { return h1[size_t(t * d + c)]; });
  std::vector<float> x(size_t(n * d));
  a.conv2.forward(col2.data(), n, x.data());
  kernels::activate(kernels::Activation::Gelu, x.data(), n * d);
  const int64_t limit = encoder.positions.limit();
  if (limit > 0 && n > limit) fail("input_features give {} encoder positions but the model has {}", n, limit);
  encoder.add_positions(x.data(), n, 0, d);
  if (encoder.embed_norm) encoder.embed_norm->forward(x.data(), x.data(), n);
  run_encoder(x, n);
  return x;
}

void EncoderDecoderModel::attach_memory(Session& session, std::vector<float> memory, int64_t n) const {
  EncoderDecoderSession& s = cast(session);
  auto src = std::make_shared<SourceMemory>();
  src->n = n;
  for (const Layer& l : decoder.layers) {
    // f32: computed once per source and read by every step, so its size rarely matters.
    const Attention* cross = l.cross_attention();
    src->cross.push_back(cross ? cross->make_cache(n) : KvCache());
    if (cross) cross->project_memory(memory.data(), n, src->cross.back());
  }
  src->hidden = std::move(memory);
  // A new source starts a new target sequence.
  s.reset();
  s.source = std::move(src);
}

void EncoderDecoderModel::set_source(Session& session, std::span<const int32_t> source_ids) const {
  cast(session);
  attach_memory(session, encode_ids(source_ids), int64_t(source_ids.size()));
}

void EncoderDecoderModel::set_source_features(Session& session, const Tensor& features) const {
  cast(session);
  std::vector<float> memory = encode_features(features);
  const int64_t n = int64_t(memory.size()) / meta.hidden_size;
  attach_memory(session, std::move(memory), n);
}

Tensor EncoderDecoderModel::encode(const std::vector<std::vector<int32_t>>& batch) const {
  const int64_t d = meta.hidden_size;
  int64_t total = 0;
  for (const auto& r : batch) total += int64_t(r.size());
  Tensor out = Tensor::zeros(DType::F32, {total, d});
  int64_t row = 0;
  for (const auto& r : batch) {
    auto h = encode_ids(r);
    std::memcpy(out.data<float>() + row * d, h.data(), h.size() * 4);
    row += int64_t(r.size());
  }
  return out;
}

void EncoderDecoderModel::decode(Session& session, std::span<const int32_t> ids, Tensor& logits,
                                 bool all_positions) const {
  EncoderDecoderSession& s = cast(session);
  if (!s.source) fail("decode: the session has no source yet (call set_source or set_source_features first)");
  const int64_t m = int64_t(ids.size()), d = meta.hidden_size, pos0 = s.pos;
  TESSERA_CHECK(m > 0, "decode: no tokens given");
  if (pos0 + m > s.capacity())
    fail("context is full: {} tokens cached + {} new exceed the session's limit of {}", pos0, m, s.capacity());

  s.x.resize(size_t(m * d));
  float* x = s.x.data();
  decoder.embed_tokens(ids, pos0, x, d, s.projected);
  s.segs[0] = Segment{0, m, pos0, s.self, s.source->cross, nullptr};
  decoder.run_layers(x, m, s.segs, s.scratch);
  s.pos += m;
  const int64_t rows = all_positions ? m : 1;
  decoder.logits(x + (m - rows) * d, rows, d, logits, s.scratch);
}

std::map<std::string, Tensor> EncoderDecoderModel::forward_named(const std::map<std::string, Tensor>& inputs,
                                                                 int64_t generate_tokens,
                                                                 const SessionOptions& session_options) const {
  auto sized = [&](int64_t max_context) {
    SessionOptions o = session_options;
    o.max_context = max_context;
    return o;
  };
  std::map<std::string, Tensor> out;
  auto in = [&](const char* name) { return inputs.count(name) ? &inputs.at(name) : nullptr; };
  const Tensor* ids = in("input_ids");
  const Tensor* feats = in("input_features");
  if (audio && !feats && (ids || in("decoder_input_ids") || generate_tokens >= 0))
    fail("{} ({}) needs an input named 'input_features' [batch, {}, frames]", meta.dir, meta.architecture, audio->mel_bins);
  if (!audio && !ids && (feats || in("decoder_input_ids") || generate_tokens >= 0))
    fail("{} ({}) needs an input named 'input_ids'", meta.dir, meta.architecture);

  std::vector<std::vector<int32_t>> src_rows;
  int64_t batch = 0, src_len = 0;
  if (audio && feats) {
    if (feats->rank() != 3) fail("input 'input_features': expected [batch, mel, frames], found {}", shape_str(feats->shape()));
    batch = feats->dim(0);
  } else if (ids) {
    src_rows = unpad_rows(*ids, in("attention_mask"), "input_ids");
    batch = ids->dim(0);
    src_len = ids->dim(1);
  }
  // Row r of the source into `session`.
  auto load_source = [&](Session& session, int64_t r) {
    if (audio) {
      const int64_t per = feats->dim(1) * feats->dim(2);
      Tensor f = feats->to_f32();
      Tensor row = Tensor::from_f32({1, feats->dim(1), feats->dim(2)},
                                    std::vector<float>(f.data<float>() + r * per, f.data<float>() + (r + 1) * per));
      set_source_features(session, row);
    } else {
      if (src_rows[size_t(r)].empty()) fail("input_ids: row {} has no real tokens", r);
      set_source(session, src_rows[size_t(r)]);
    }
  };

  if (const Tensor* dec = in("decoder_input_ids")) {
    auto dec_rows = unpad_rows(*dec, in("decoder_attention_mask"), "decoder_input_ids");
    if (dec->dim(0) != batch)
      fail("input 'decoder_input_ids': batch {} does not match the source's batch {}", dec->dim(0), batch);
    const int64_t ld = dec->dim(1), v = meta.vocab_size, d = meta.hidden_size;
    Tensor logits_all = Tensor::zeros(DType::F32, {batch, ld, v});
    Tensor enc_all;
    for (int64_t r = 0; r < batch; ++r) {
      auto session = new_session(sized(std::max<int64_t>(ld, 1)));
      load_source(*session, r);
      const auto& s = cast(*session);
      const int64_t n = s.source->n;
      if (r == 0) {
        if (audio) src_len = n;
        enc_all = Tensor::zeros(DType::F32, {batch, src_len, d});
      }
      if (n > src_len) fail("input_features rows give different encoder lengths");
      std::memcpy(enc_all.data<float>() + r * src_len * d, s.source->hidden.data(), s.source->hidden.size() * 4);
      if (dec_rows[size_t(r)].empty()) continue;
      Tensor logits;
      decode(*session, dec_rows[size_t(r)], logits, true);
      std::memcpy(logits_all.data<float>() + r * ld * v, logits.data<float>(), logits.nbytes());
    }
    out["logits"] = logits_all;
    if (batch > 0) out["encoder_last_hidden_state"] = enc_all;
  }
  if (generate_tokens >= 0) {
    if (batch < 1) fail("generation needs a source with at least one row");
    GenerationOptions opt;
    opt.max_new_tokens = generate_tokens;
    opt.stop_at_eos = false;
    // The language code mBART-50 forces after the decoder start (generation_config.json).
    opt.forced_bos_token_id = GenerationOptions::for_model(*this).forced_bos_token_id;
    auto session = new_session(sized(std::max<int64_t>(generate_tokens + 1, 1)));
    load_source(*session, 0);
    std::vector<int32_t> prompt{decoder_start};
    auto result = generate(*this, *session, prompt, opt);
    prompt.insert(prompt.end(), result.tokens.begin(), result.tokens.end());
    out["generated_ids"] = ids_tensor(prompt);
  }
  return out;
}

}  // namespace tessera
