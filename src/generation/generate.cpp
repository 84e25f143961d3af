#include "tessera/generation/generate.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>

#include "tessera/io/json.hpp"
#include "tessera/io/mmap.hpp"

namespace tessera {

void GenerationOptions::read_generation_config(const std::string& path) {
  JsonObject g(load_json_file(path), path);
  sampling.do_sample = g.get_bool("do_sample", sampling.do_sample);
  sampling.temperature = float(g.get_float("temperature", sampling.temperature));
  sampling.top_k = g.get_int("top_k", sampling.top_k);
  sampling.top_p = float(g.get_float("top_p", sampling.top_p));
  sampling.min_p = float(g.get_float("min_p", sampling.min_p));
  sampling.repetition_penalty = float(g.get_float("repetition_penalty", sampling.repetition_penalty));
  max_new_tokens = g.get_int("max_new_tokens", max_new_tokens);
  min_new_tokens = g.get_int("min_new_tokens", min_new_tokens);
  if (g.has("eos_token_id")) eos_token_ids = g.get_int_list("eos_token_id");
  if (g.has("forced_bos_token_id")) forced_bos_token_id = g.get_int("forced_bos_token_id");
}

GenerationOptions GenerationOptions::for_model(const Model& model) {
  GenerationOptions o;
  o.eos_token_ids = model.info().eos_token_ids;
  // Older mBART checkpoints keep forced_bos_token_id in config.json only.
  const std::string cfg = model.info().dir + "/config.json";
  if (file_exists(cfg)) {
    JsonObject c(load_json_file(cfg), cfg);
    if (c.has("forced_bos_token_id")) o.forced_bos_token_id = c.get_int("forced_bos_token_id");
  }
  const std::string gc = model.info().dir + "/generation_config.json";
  if (file_exists(gc)) o.read_generation_config(gc);
  return o;
}

namespace {

// The log-probability of `token` and the k most likely tokens, from raw logits.
TokenLogprobs token_logprobs(std::span<const float> logits, int32_t token, int64_t k) {
  const float mx = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float l : logits) sum += std::exp(double(l) - double(mx));
  const double lse = double(mx) + std::log(sum);
  TokenLogprobs t;
  t.token = token;
  t.logprob = float(double(logits[size_t(token)]) - lse);
  k = std::min<int64_t>(k, int64_t(logits.size()));
  if (k > 0) {
    std::vector<int32_t> idx(logits.size());
    std::iota(idx.begin(), idx.end(), 0);
    std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](int32_t a, int32_t b) {
      return logits[size_t(a)] > logits[size_t(b)] || (logits[size_t(a)] == logits[size_t(b)] && a < b);
    });
    for (int64_t i = 0; i < k; ++i)
      t.top.emplace_back(idx[size_t(i)], float(double(logits[size_t(idx[size_t(i)])]) - lse));
  }
  return t;
}

}  // namespace

GenerationResult generate(const Model& model, Session& session, std::span<const int32_t> prompt,
                          const GenerationOptions& options, const TokenCallback& on_token) {
  using clock = std::chrono::steady_clock;
  TESSERA_CHECK(!prompt.empty(), "generate: the prompt is empty (give at least one token, e.g. BOS)");
  TESSERA_CHECK(options.max_new_tokens >= 0, "max_new_tokens must be >= 0, found {}", options.max_new_tokens);
  const int64_t room = session.capacity() - session.position() - int64_t(prompt.size());
  if (room < 0)
    fail("the prompt has {} tokens but the context holds only {} more", prompt.size(), session.capacity() - session.position());

  session.reserve(session.position() + int64_t(prompt.size()) + options.max_new_tokens);
  GenerationResult r;
  r.prompt_tokens = int64_t(prompt.size());
  Sampler sampler(options.sampling);
  std::vector<int32_t> history(prompt.begin(), prompt.end());
  history.reserve(prompt.size() + size_t(options.max_new_tokens));
  r.tokens.reserve(size_t(options.max_new_tokens));
  Tensor logits;

  auto t0 = clock::now();
  model.decode(session, prompt, logits, false);
  auto t1 = clock::now();
  r.prompt_seconds = std::chrono::duration<double>(t1 - t0).count();

  const int64_t vocab = logits.dim(1);
  const int64_t limit = std::min(options.max_new_tokens, room + 1);  // the last token needs no cache slot
  std::vector<float> raw;  // the logits before the sampler changes them, for logprobs
  if (options.top_logprobs >= 0) r.logprobs.reserve(size_t(limit));
  for (int64_t step = 0; step < limit; ++step) {
    std::span<float> l(logits.data<float>(), size_t(vocab));
    if (options.top_logprobs >= 0) raw.assign(l.begin(), l.end());
    if (step < options.min_new_tokens)
      for (int64_t e : options.eos_token_ids)
        if (e >= 0 && e < vocab) l[size_t(e)] = -std::numeric_limits<float>::infinity();
    if (options.forced_bos_token_id && history.size() == 1) {  // as HF: only right after a 1-token prompt
      const int64_t f = *options.forced_bos_token_id;
      if (f < 0 || f >= vocab) fail("forced_bos_token_id {} is outside the vocabulary [0, {})", f, vocab);
      for (int64_t i = 0; i < vocab; ++i)
        if (i != f) l[size_t(i)] = -std::numeric_limits<float>::infinity();
    }
    int32_t tok = sampler.next(l, history);
    if (options.top_logprobs >= 0) r.logprobs.push_back(token_logprobs(raw, tok, options.top_logprobs));
    r.tokens.push_back(tok);
    history.push_back(tok);
    bool is_eos = false;
    for (int64_t e : options.eos_token_ids) is_eos |= (e == tok);
    if (options.stop_at_eos && is_eos) {
      r.stop = GenerationResult::Stop::Eos;
      if (on_token) on_token(tok);
      break;
    }
    if (on_token && !on_token(tok)) {
      r.stop = GenerationResult::Stop::Callback;
      break;
    }
    if (step + 1 == limit) break;
    model.decode(session, std::span<const int32_t>(&tok, 1), logits, false);
  }
  r.generation_seconds = std::chrono::duration<double>(clock::now() - t1).count();
  return r;
}

}  // namespace tessera
