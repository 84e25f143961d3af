// The token loop: prefill the prompt, then decode one token at a time with a Sampler until
// EOS, max_new_tokens, or the caller's callback says stop. Works for decoders and, once
// the session holds a source, for encoder-decoders.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "tessera/generation/sampler.hpp"
#include "tessera/models/model.hpp"

namespace tessera {

struct GenerationOptions {
  int64_t max_new_tokens = 128;
  int64_t min_new_tokens = 0;  // EOS is suppressed until this many tokens were generated
  SamplingOptions sampling;
  std::vector<int64_t> eos_token_ids;
  bool stop_at_eos = true;
  // Forced as the first new token when the prompt is a single token (Hugging Face's
  // ForcedBOSTokenLogitsProcessor): mBART-50's target-language code after the decoder start.
  std::optional<int64_t> forced_bos_token_id;
  // Log-probabilities of each generated token under the model (log-softmax of the raw logits,
  // before any penalty, temperature or filter): -1 none, 0 the chosen token's only, n > 0
  // also the n most likely tokens (OpenAI's logprobs / top_logprobs).
  int64_t top_logprobs = -1;

  // Defaults from the model's generation_config.json (when present) and config.json
  // (eos_token_id, and forced_bos_token_id where generation_config.json does not set it).
  static GenerationOptions for_model(const Model& model);
  // Overlays the fields present in a generation_config.json file.
  void read_generation_config(const std::string& path);
};

struct TokenLogprobs {
  int32_t token = 0;
  float logprob = 0;
  std::vector<std::pair<int32_t, float>> top;  // most likely first; ties: lower id first
};

struct GenerationResult {
  std::vector<int32_t> tokens;  // the new tokens only
  std::vector<TokenLogprobs> logprobs;  // one per token when options.top_logprobs >= 0
  enum class Stop { Eos, MaxTokens, Callback } stop = Stop::MaxTokens;
  int64_t prompt_tokens = 0;
  double prompt_seconds = 0, generation_seconds = 0;  // prefill, and all decode steps
};

// Called with each new token; return false to stop after it.
using TokenCallback = std::function<bool(int32_t token)>;

GenerationResult generate(const Model& model, Session& session, std::span<const int32_t> prompt,
                          const GenerationOptions& options, const TokenCallback& on_token = {});

}  // namespace tessera
