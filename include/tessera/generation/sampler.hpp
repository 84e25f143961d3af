// Choosing the next token from logits, with Hugging Face's processors in Hugging Face's
// order: repetition penalty, then temperature, top-k, top-p, min-p; greedy when not sampling.
// OpenAI's presence and frequency penalties (which Hugging Face lacks) come right after the
// repetition penalty, so that like it they also steer greedy decoding.
// The RNG is seeded per Sampler, so a seed reproduces a generation exactly.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace tessera {

struct SamplingOptions {
  bool do_sample = false;         // false: greedy (argmax after the repetition penalty)
  float temperature = 1.0f;       // 0: greedy even when do_sample (as llama.cpp and OpenAI-style APIs)
  int64_t top_k = 0;              // 0: off
  float top_p = 1.0f;             // 1: off
  float min_p = 0.0f;             // 0: off
  float repetition_penalty = 1.0f;
  // OpenAI's: logit -= presence_penalty * (count > 0) + frequency_penalty * count, where count
  // is how often this Sampler has already chosen the token (generated tokens, not the prompt).
  float presence_penalty = 0.0f;   // 0: off
  float frequency_penalty = 0.0f;  // 0: off
  uint64_t seed = 0;
};

class Sampler {
 public:
  explicit Sampler(const SamplingOptions& options);
  // Picks the next token given the logits over the vocabulary and the tokens so far
  // (prompt + generated, for the repetition penalty). `logits` is modified. The token chosen
  // is counted for the presence and frequency penalties of later calls.
  int32_t next(std::span<float> logits, std::span<const int32_t> history);
  const SamplingOptions& options() const { return opt_; }

 private:
  int32_t choose(std::span<float> logits, std::span<const int32_t> history);
  SamplingOptions opt_;
  std::mt19937_64 rng_;
  std::vector<int32_t> order_;
  std::vector<float> probs_;
  std::vector<int32_t> chosen_count_;  // per token id, for the presence/frequency penalties
};

// The processors one by one (exposed for tests); each works in place on logits, with -inf
// marking removed tokens, as Hugging Face's warpers do.
void apply_repetition_penalty(std::span<float> logits, std::span<const int32_t> history, float penalty);
void apply_temperature(std::span<float> logits, float temperature);
void apply_top_k(std::span<float> logits, int64_t k);
void apply_top_p(std::span<float> logits, float p);
void apply_min_p(std::span<float> logits, float min_p);
// counts[i]: how often token i was generated so far (shorter than logits: the rest count 0).
void apply_presence_frequency_penalty(std::span<float> logits, std::span<const int32_t> counts, float presence,
                                      float frequency);

}  // namespace tessera
