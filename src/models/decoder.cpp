#include "tessera/models/decoder.hpp"

#include <cstring>

#include "tessera/generation/generate.hpp"

namespace tessera {
namespace {

class DecoderSession final : public Session {
 public:
  DecoderSession(const DecoderModel& model, int64_t capacity, DType kv_type, const StackOptions& o)
      : caches(model.stack.make_caches(capacity, kv_type, o)), options(o), capacity_(capacity) {}
  int64_t position() const override { return pos; }
  void reset() override {
    pos = 0;
    for (auto& c : caches) c.clear();
  }
  int64_t capacity() const override { return capacity_; }
  void reserve(int64_t positions) override {
    for (auto& c : caches) c.reserve(positions);
  }
  std::unique_ptr<Session> clone() const override { return std::make_unique<DecoderSession>(*this); }
  void copy_from(const Session& other) override {
    auto* o = dynamic_cast<const DecoderSession*>(&other);
    TESSERA_CHECK(o != nullptr && o->caches.size() == caches.size(), "copy_from: the sessions belong to different models");
    caches = o->caches;
    options = o->options;
    pos = o->pos;
    capacity_ = o->capacity_;
  }

  std::vector<KvCache> caches;  // one per layer run
  StackOptions options;
  LayerScratch scratch;
  std::vector<float> x, projected;  // projected: OPT's narrower embeddings before project_in
  std::vector<Segment> segs{1};
  int64_t pos = 0;

 private:
  int64_t capacity_;
};

}  // namespace

std::unique_ptr<Session> DecoderModel::new_session(const SessionOptions& options) const {
  // (an unsupported kv_type is refused by session_capacity, with the model's path)
  const StackOptions depth{.layers = options.layers, .loops = options.loops};
  if (options.layers < 0 || options.loops < 1)
    fail("{}: layers must be >= 0 (0: all) and loops >= 1, found layers = {}, loops = {}", meta.dir, options.layers,
         options.loops);
  const int64_t run = int64_t(stack.layers.size()) * options.loops;  // layers the loops apply
  if (options.layers > run)
    fail("{}: layers = {} is more than the {} layers this model runs ({} x loops = {}); 0 runs them all", meta.dir,
         options.layers, run, stack.layers.size(), options.loops);
  const int64_t per_position =
      kernels::is_kv_type(options.kv_type) ? stack.kv_cache_bytes_per_position(options.kv_type, depth) : 0;
  const int64_t cap = session_capacity(options, meta.dir, meta.max_positions > 0 ? meta.max_positions : 4096,
                                       stack.positions.limit(), per_position);
  return std::make_unique<DecoderSession>(*this, cap, options.kv_type, depth);
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
  stack.embed_tokens(ids, pos0, x, d, s->projected);
  s->segs[0] = Segment{0, m, pos0, s->caches, {}, nullptr};
  stack.run_layers(x, m, s->segs, s->scratch, s->options);
  s->pos += m;
  const int64_t rows = all_positions ? m : 1;
  stack.logits(x + (m - rows) * d, rows, d, logits, s->scratch);
}

std::map<std::string, Tensor> DecoderModel::forward_named(const std::map<std::string, Tensor>& inputs,
                                                          int64_t generate_tokens, const SessionOptions& session_options) const {
  auto sized = [&](int64_t max_context) {
    SessionOptions o = session_options;
    o.max_context = max_context;
    return o;
  };
  std::map<std::string, Tensor> out;
  auto in = [&](const char* name) { return inputs.count(name) ? &inputs.at(name) : nullptr; };
  check_input_names(inputs, {"input_ids", "attention_mask", "prompt_ids"}, "a decoder");
  if (!in("input_ids") && generate_tokens < 0) fail("no input named 'input_ids' (and no generation asked for)");
  if (const Tensor* ids = in("input_ids")) {
    auto rows = unpad_rows(*ids, in("attention_mask"), "input_ids");
    const int64_t b = ids->dim(0), l = ids->dim(1), v = meta.vocab_size;
    Tensor logits_all = Tensor::zeros(DType::F32, {b, l, v});
    for (int64_t r = 0; r < b; ++r) {
      if (rows[size_t(r)].empty()) continue;
      // Hugging Face runs any length a rotary model is given; so does the parity interface.
      auto session = new_session(sized(std::max<int64_t>(l, meta.max_positions)));
      Tensor logits;
      decode(*session, rows[size_t(r)], logits, true);
      std::memcpy(logits_all.data<float>() + r * l * v, logits.data<float>(), logits.nbytes());
    }
    out["logits"] = logits_all;
  }
  if (generate_tokens >= 0) {
    const Tensor* p = in("prompt_ids");
    if (!p) fail("generation needs an input named 'prompt_ids'");
    auto rows = unpad_rows(*p, nullptr, "prompt_ids");
    if (rows.size() != 1) fail("input 'prompt_ids': expected one row, found {}", rows.size());
    GenerationOptions opt;
    opt.max_new_tokens = generate_tokens;
    opt.stop_at_eos = false;
    auto session = new_session(sized(std::max<int64_t>(int64_t(rows[0].size()) + generate_tokens, meta.max_positions)));
    auto result = generate(*this, *session, rows[0], opt);
    std::vector<int32_t> all = rows[0];
    all.insert(all.end(), result.tokens.begin(), result.tokens.end());
    out["generated_ids"] = ids_tensor(all);
  }
  return out;
}

}  // namespace tessera
