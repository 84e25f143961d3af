#include "tessera/models/decoder.hpp"

namespace tessera {
namespace {

class DecoderSession final : public Session {
 public:
  DecoderSession(const DecoderModel& model, int64_t capacity) : capacity_(capacity) {
    for (const Layer& l : model.layers) caches.emplace_back(l.attn.kv_width(), capacity);
  }
  int64_t position() const override { return pos; }
  void reset() override {
    pos = 0;
    for (auto& c : caches) c.clear();
  }
  int64_t capacity() const override { return capacity_; }

  std::vector<KvCache> caches;
  LayerScratch scratch;
  std::vector<float> x;
  std::vector<Segment> segs{1};
  int64_t pos = 0;

 private:
  int64_t capacity_;
};

}  // namespace

std::unique_ptr<Session> DecoderModel::new_session(const SessionOptions& options) const {
  int64_t cap = meta.max_positions > 0 ? meta.max_positions : 4096;
  if (options.max_context > 0) {
    if (position_embed && options.max_context > position_embed->rows())
      fail("{}: max_context {} exceeds the {} learned positions of this model", meta.dir, options.max_context,
           position_embed->rows());
    cap = options.max_context;
  }
  return std::make_unique<DecoderSession>(*this, cap);
}

void DecoderModel::decode(Session& session, std::span<const int32_t> ids, Tensor& logits, bool all_positions) const {
  auto* s = dynamic_cast<DecoderSession*>(&session);
  TESSERA_CHECK(s != nullptr, "decode: the session was not created by this model");
  const int64_t m = int64_t(ids.size()), d = meta.hidden_size, pos0 = s->pos;
  TESSERA_CHECK(m > 0, "decode: no tokens given");
  if (pos0 + m > s->capacity())
    fail("context is full: {} tokens cached + {} new exceed the session's limit of {}", pos0, m, s->capacity());

  s->x.resize(size_t(m * d));
  float* x = s->x.data();
  for (int64_t i = 0; i < m; ++i) {
    if (ids[size_t(i)] < 0 || ids[size_t(i)] >= meta.vocab_size)
      fail("token id {} at input position {} is outside the vocabulary [0, {})", ids[size_t(i)], i, meta.vocab_size);
    embed.lookup(ids[size_t(i)], x + i * d, embed_scale);
    if (position_embed) position_embed->lookup(pos0 + i, x + i * d, 1.0f, /*accumulate=*/true);
  }
  s->segs[0] = Segment{0, m, pos0, nullptr, nullptr};
  for (size_t l = 0; l < layers.size(); ++l) {
    s->segs[0].cache = &s->caches[l];
    layers[l].forward(x, m, s->segs, s->scratch);
  }
  s->pos += m;

  const int64_t rows = all_positions ? m : 1;
  const float* last = x + (m - rows) * d;
  float* normed = s->scratch.h.data();
  final_norm.forward(last, normed, rows);
  if (logits.empty() || logits.dtype() != DType::F32 || logits.numel() != rows * meta.vocab_size ||
      logits.rank() != 2)
    logits = Tensor::zeros(DType::F32, {rows, meta.vocab_size});
  lm_head.forward(normed, rows, logits.data<float>());
}

}  // namespace tessera
