// Beam search with Hugging Face's semantics (transformers' vectorised _beam_search, 4.5x/5.x):
// log-softmax scores, logits processors (repetition penalty, no_repeat_ngram_size, min length,
// forced BOS/EOS, suppressed tokens), 2·num_beams candidates per step, length_penalty,
// early_stopping true / false / "never", for decoders and (once the session holds a source)
// encoder-decoders. Beams are Sessions forked with Session::clone/copy_from.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tessera/models/model.hpp"

namespace tessera {

struct BeamSearchOptions {
  int64_t num_beams = 4;
  int64_t num_return_sequences = 1;  // at most num_beams
  int64_t max_new_tokens = 128;
  int64_t min_new_tokens = 0;        // EOS forbidden until this many new tokens
  int64_t min_length = 0;            // EOS forbidden while prompt + new tokens < min_length (HF min_length)
  float length_penalty = 1.0f;       // finished score = sum of log-probs / new_tokens^length_penalty
  enum class EarlyStopping { False, True, Never };
  EarlyStopping early_stopping = EarlyStopping::False;
  int64_t no_repeat_ngram_size = 0;
  float repetition_penalty = 1.0f;
  std::vector<int64_t> eos_token_ids;
  std::optional<int64_t> forced_bos_token_id;  // forced as the first new token
  std::optional<int64_t> forced_eos_token_id;  // forced as the last token max_new_tokens allows
  std::vector<int64_t> suppress_tokens;        // never generated
  std::vector<int64_t> begin_suppress_tokens;  // not generated as the first new token
  // Runs after all of the above, as Hugging Face runs a model's own processors after the standard
  // ones (Whisper's timestamp rules): the beam's tokens (prompt + new) and its log-probabilities.
  std::function<void(std::span<const int32_t> sequence, std::span<float> log_probs)> logits_processor;

  // Defaults from config.json and generation_config.json (num_beams, length_penalty,
  // early_stopping, no_repeat_ngram_size, forced_*_token_id, max_new_tokens, ...).
  static BeamSearchOptions for_model(const Model& model);
  // Overlays the fields present in a generation_config.json (or config.json) file.
  void read_generation_config(const std::string& path);
};

struct BeamHypothesis {
  std::vector<int32_t> tokens;  // the new tokens, ending with EOS when the beam finished on one
  float score = 0;              // length-penalised sum of log-probabilities (HF sequences_scores)
};

struct BeamSearchResult {
  std::vector<BeamHypothesis> hypotheses;  // best first, num_return_sequences of them
  int64_t steps = 0;                       // decoder steps taken
};

// Runs beam search from `prompt` (decoders: the prompt; encoder-decoders: the decoder start
// ids, with the source already set in `session`). `session` is consumed: afterwards its state
// is that of one of the beams; reset it before reusing it.
BeamSearchResult beam_search(const Model& model, Session& session, std::span<const int32_t> prompt,
                             const BeamSearchOptions& options);

}  // namespace tessera
