#include "tessera/generation/beam_search.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

#include "tessera/generation/sampler.hpp"
#include "tessera/io/json.hpp"
#include "tessera/io/mmap.hpp"

namespace tessera {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
// Hugging Face marks impossible beams by adding -1e9 in float32 (not -inf), and that
// arithmetic decides ties between "impossible" beams: keep it.
constexpr float kDead = -1.0e9f;

std::vector<int64_t> int_list(const nlohmann::json& v) {
  std::vector<int64_t> out;
  if (v.is_number_integer()) out.push_back(v.get<int64_t>());
  if (v.is_array())
    for (const auto& x : v)
      if (x.is_number_integer()) out.push_back(x.get<int64_t>());
  return out;
}

// log_softmax in float32 as torch computes it: x - max - log(sum(exp(x - max))).
void log_softmax(const float* x, float* y, int64_t n) {
  const float mx = *std::max_element(x, x + n);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(double(x[i] - mx));
  const float lse = float(std::log(sum));
  for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - mx) - lse;
}

struct Candidate {
  float score;   // accumulated log-probability
  int64_t flat;  // beam * vocab + token (torch.topk's index; ties go to the lower one)
};

// Indices of the k largest values, larger first, ties to the lower index.
template <typename Get>
std::vector<int64_t> top_k(int64_t n, int64_t k, Get value) {
  std::vector<int64_t> idx(static_cast<size_t>(n));
  std::iota(idx.begin(), idx.end(), 0);
  k = std::min(k, n);
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](int64_t a, int64_t b) {
    const float va = value(a), vb = value(b);
    return va > vb || (va == vb && a < b);
  });
  idx.resize(size_t(k));
  return idx;
}

}  // namespace

void BeamSearchOptions::read_generation_config(const std::string& path) {
  JsonObject g(load_json_file(path), path);
  num_beams = g.get_int("num_beams", num_beams);
  num_return_sequences = g.get_int("num_return_sequences", num_return_sequences);
  if (g.has("max_new_tokens")) max_new_tokens = g.get_int("max_new_tokens");
  min_new_tokens = g.get_int("min_new_tokens", min_new_tokens);
  min_length = g.get_int("min_length", min_length);
  length_penalty = float(g.get_float("length_penalty", length_penalty));
  no_repeat_ngram_size = g.get_int("no_repeat_ngram_size", no_repeat_ngram_size);
  repetition_penalty = float(g.get_float("repetition_penalty", repetition_penalty));
  if (g.has("early_stopping")) {
    const auto& e = g.raw().at("early_stopping");
    if (e.is_boolean()) early_stopping = e.get<bool>() ? EarlyStopping::True : EarlyStopping::False;
    else if (e.is_string() && e.get<std::string>() == "never") early_stopping = EarlyStopping::Never;
    else fail("{}: early_stopping must be true, false or \"never\", found {}", path, e.dump());
  }
  if (g.has("eos_token_id")) eos_token_ids = g.get_int_list("eos_token_id");
  if (g.has("forced_bos_token_id")) forced_bos_token_id = g.get_int("forced_bos_token_id");
  if (g.has("forced_eos_token_id")) {
    auto f = g.get_int_list("forced_eos_token_id");
    if (!f.empty()) forced_eos_token_id = f[0];
  }
  if (g.has("suppress_tokens")) suppress_tokens = int_list(g.raw().at("suppress_tokens"));
  if (g.has("begin_suppress_tokens")) begin_suppress_tokens = int_list(g.raw().at("begin_suppress_tokens"));
}

BeamSearchOptions BeamSearchOptions::for_model(const Model& model) {
  BeamSearchOptions o;
  o.eos_token_ids = model.info().eos_token_ids;
  // config.json first (older checkpoints keep generation fields there), then generation_config.json.
  for (const char* f : {"/config.json", "/generation_config.json"}) {
    const std::string path = model.info().dir + f;
    if (file_exists(path)) o.read_generation_config(path);
  }
  return o;
}

BeamSearchResult beam_search(const Model& model, Session& session, std::span<const int32_t> prompt,
                             const BeamSearchOptions& opt) {
  using ES = BeamSearchOptions::EarlyStopping;
  TESSERA_CHECK(!prompt.empty(), "beam_search: the prompt is empty (give at least one token, e.g. the start token)");
  TESSERA_CHECK(opt.num_beams >= 1, "num_beams must be >= 1, found {}", opt.num_beams);
  TESSERA_CHECK(opt.num_return_sequences >= 1 && opt.num_return_sequences <= opt.num_beams,
                "num_return_sequences must be in [1, num_beams = {}], found {}", opt.num_beams, opt.num_return_sequences);
  TESSERA_CHECK(opt.max_new_tokens >= 1, "beam search needs max_new_tokens >= 1, found {}", opt.max_new_tokens);
  TESSERA_CHECK(opt.no_repeat_ngram_size >= 0, "no_repeat_ngram_size must be >= 0");
  const int64_t k = opt.num_beams, p_len = int64_t(prompt.size());
  const int64_t max_length = p_len + opt.max_new_tokens;
  const int64_t n_eos = int64_t(opt.eos_token_ids.size());
  const int64_t c_count = std::max<int64_t>(2, 1 + n_eos) * k;
  if (session.position() + max_length - 1 > session.capacity())
    fail("beam search needs {} decoder positions but the session holds {}", session.position() + max_length - 1,
         session.capacity());

  Tensor logits;
  model.decode(session, prompt, logits, false);
  const int64_t vocab = logits.dim(1);
  auto is_eos = [&](int64_t t) { return std::find(opt.eos_token_ids.begin(), opt.eos_token_ids.end(), t) != opt.eos_token_ids.end(); };

  // Running beams: sequences (prompt + new), scores, sessions. All start as the prompt; only
  // beam 0 is live (the others score -1e9), so one prefill serves them all.
  std::vector<std::vector<int32_t>> seqs(size_t(k), std::vector<int32_t>(prompt.begin(), prompt.end()));
  std::vector<float> scores(size_t(k), kDead);
  scores[0] = 0.0f;
  std::vector<std::vector<float>> beam_logits(size_t(k), std::vector<float>(logits.data<float>(), logits.data<float>() + vocab));
  std::vector<std::unique_ptr<Session>> owned;
  std::vector<Session*> cur(static_cast<size_t>(k)), spare(static_cast<size_t>(k));
  cur[0] = &session;
  for (int64_t b = 1; b < k; ++b) cur[size_t(b)] = owned.emplace_back(session.clone()).get();
  for (int64_t b = 0; b < k; ++b) spare[size_t(b)] = owned.emplace_back(session.clone()).get();

  // Finished hypotheses: the k best so far (placeholders score -1e9 and are not finished).
  struct Finished {
    std::vector<int32_t> seq;
    float score = kDead;
    bool done = false;
  };
  std::vector<Finished> fin(size_t(k), Finished{std::vector<int32_t>(prompt.begin(), prompt.end()), kDead, false});
  bool improvable = true;  // HF's is_early_stop_heuristic_unsatisfied
  int64_t cur_len = p_len;
  BeamSearchResult result;
  std::vector<float> lp(static_cast<size_t>(k * vocab));

  while (true) {
    ++result.steps;
    // Log-probabilities through the logits processors, in Hugging Face's order, plus the beam's score.
    for (int64_t b = 0; b < k; ++b) {
      float* l = lp.data() + b * vocab;
      log_softmax(beam_logits[size_t(b)].data(), l, vocab);
      std::span<float> ls(l, size_t(vocab));
      const auto& s = seqs[size_t(b)];
      apply_repetition_penalty(ls, s, opt.repetition_penalty);
      const int64_t n = opt.no_repeat_ngram_size;
      if (n > 0 && cur_len + 1 >= n) {
        // Ban every token that followed the current (n-1)-gram anywhere earlier in the sequence.
        for (int64_t i = 0; i + n <= cur_len; ++i)
          if (std::equal(s.begin() + i, s.begin() + i + n - 1, s.end() - (n - 1))) {
            const int32_t t = s[size_t(i + n - 1)];
            if (t >= 0 && t < vocab) l[t] = kNegInf;
          }
      }
      auto ban_eos = [&] {
        for (int64_t e : opt.eos_token_ids)
          if (e >= 0 && e < vocab) l[e] = kNegInf;
      };
      if (cur_len < opt.min_length) ban_eos();
      if (cur_len - p_len < opt.min_new_tokens) ban_eos();
      auto force = [&](int64_t t) {
        if (t < 0 || t >= vocab) return;
        std::fill(l, l + vocab, kNegInf);
        l[t] = 0.0f;
      };
      if (opt.forced_bos_token_id && cur_len == 1) force(*opt.forced_bos_token_id);
      if (opt.forced_eos_token_id && cur_len == max_length - 1) force(*opt.forced_eos_token_id);
      for (int64_t t : opt.suppress_tokens)
        if (t >= 0 && t < vocab) l[t] = kNegInf;
      if (cur_len == p_len)
        for (int64_t t : opt.begin_suppress_tokens)
          if (t >= 0 && t < vocab) l[t] = kNegInf;
      if (opt.logits_processor) opt.logits_processor(s, ls);
      for (int64_t t = 0; t < vocab; ++t) l[t] += scores[size_t(b)];
    }

    // The 2k (or more, with several EOS ids) best continuations over all beams.
    auto top = top_k(k * vocab, c_count, [&](int64_t i) { return lp[size_t(i)]; });
    const int64_t c = int64_t(top.size());
    std::vector<char> hits(static_cast<size_t>(c));
    for (int64_t i = 0; i < c; ++i) {
      const int64_t tok = top[size_t(i)] % vocab;
      hits[size_t(i)] = (cur_len + 1 >= max_length) || is_eos(tok);
    }
    auto cand_seq = [&](int64_t i) {
      auto s = seqs[size_t(top[size_t(i)] / vocab)];
      s.push_back(int32_t(top[size_t(i)] % vocab));
      return s;
    };

    // Next running beams: the best k candidates that did not stop.
    std::vector<float> running(static_cast<size_t>(c));
    for (int64_t i = 0; i < c; ++i) running[size_t(i)] = lp[size_t(top[size_t(i)])] + (hits[size_t(i)] ? kDead : 0.0f);
    auto keep = top_k(c, k, [&](int64_t i) { return running[size_t(i)]; });

    // Finished: candidates among the top k that stopped, length-penalised, merged with the old ones.
    bool all_done = std::all_of(fin.begin(), fin.end(), [](const Finished& f) { return f.done; });
    const float denom = float(std::pow(double(cur_len + 1 - p_len), double(opt.length_penalty)));
    std::vector<Finished> merged = fin;
    for (int64_t i = 0; i < c; ++i) {
      const bool just = hits[size_t(i)] && i < k;
      float f = lp[size_t(top[size_t(i)])] / denom;
      if (all_done && opt.early_stopping == ES::True) f += kDead;
      if (!improvable) f += kDead;
      if (!just) f += kDead;
      merged.push_back(Finished{cand_seq(i), f, just});
    }
    auto best = top_k(int64_t(merged.size()), k, [&](int64_t i) { return merged[size_t(i)].score; });
    std::vector<Finished> next_fin;
    for (int64_t i : best) next_fin.push_back(std::move(merged[size_t(i)]));
    fin = std::move(next_fin);

    std::vector<std::vector<int32_t>> next_seqs;
    std::vector<float> next_scores;
    std::vector<int64_t> src;
    for (int64_t i : keep) {
      next_seqs.push_back(cand_seq(i));
      next_scores.push_back(running[size_t(i)]);
      src.push_back(top[size_t(i)] / vocab);
    }
    seqs = std::move(next_seqs);
    scores = std::move(next_scores);
    ++cur_len;

    // Stop when no running beam can beat the worst finished one, when k hypotheses finished
    // with early_stopping true, or when every candidate stopped (max length).
    const double best_len = (opt.early_stopping == ES::Never && opt.length_penalty > 0.0f) ? double(max_length - p_len)
                                                                                          : double(cur_len - p_len);
    const float best_possible = scores[0] / float(std::pow(best_len, double(opt.length_penalty)));
    float worst = fin[0].score;
    for (const auto& f : fin) worst = std::min(worst, f.score);
    bool can_improve = false;
    for (const auto& f : fin) can_improve |= best_possible > (f.done ? worst : kDead);
    improvable = improvable && can_improve;
    all_done = std::all_of(fin.begin(), fin.end(), [](const Finished& f) { return f.done; });
    const bool all_hit = std::all_of(hits.begin(), hits.end(), [](char h) { return h != 0; });
    if (!improvable || (all_done && opt.early_stopping == ES::True) || all_hit) break;

    // Fork the sessions the surviving beams came from, then feed each its new token.
    for (int64_t b = 0; b < k; ++b) spare[size_t(b)]->copy_from(*cur[size_t(src[size_t(b)])]);
    std::swap(cur, spare);
    for (int64_t b = 0; b < k; ++b) {
      const int32_t tok = seqs[size_t(b)].back();
      model.decode(*cur[size_t(b)], std::span<const int32_t>(&tok, 1), logits, false);
      beam_logits[size_t(b)].assign(logits.data<float>(), logits.data<float>() + vocab);
    }
  }
  // Leave the caller's session holding one of the beams, as documented.
  if (cur[0] != &session) session.copy_from(*cur[0]);

  for (int64_t i = 0; i < opt.num_return_sequences; ++i) {
    const Finished& f = fin[size_t(i)];
    result.hypotheses.push_back(BeamHypothesis{std::vector<int32_t>(f.seq.begin() + p_len, f.seq.end()), f.score});
  }
  return result;
}

}  // namespace tessera
