// Whisper's timestamp tokens during decoding: Hugging Face's WhisperTimeStampLogitsProcessor
// (transformers/generation/logits_process.py, after openai/whisper's decoding rules). Timestamps
// are the ids from no_timestamps_token_id + 1 to the end of the vocabulary, <|0.00|> first, one
// per time_precision (0.02 s for 30 s windows over 1500 encoder positions).
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace tessera {

struct WhisperTimestampRules {
  int64_t no_timestamps_token_id = 0;  // <|notimestamps|>; timestamps start right after it
  int64_t eos_token_id = 0;            // <|endoftext|>: every id below it is text
  int64_t begin_index = 0;             // length of the decoder prompt: where generated tokens start
  std::optional<int64_t> max_initial_timestamp_index;  // first timestamp at most <|0.00|> + this

  int64_t timestamp_begin() const { return no_timestamps_token_id + 1; }

  // Masks `scores` (one row over the vocabulary; logits or log-probabilities, the rules are
  // shift-invariant) to -inf where `sequence` (prompt + generated so far) may not continue:
  // <|notimestamps|> never; after a lone timestamp no text, after a pair no timestamp;
  // timestamps never decrease (and <|0.00|> is not repeated); the first generated token is a
  // timestamp (at most max_initial); and when the timestamps' total probability beats every
  // single text token, only a timestamp may follow.
  void apply(std::span<const int32_t> sequence, std::span<float> scores) const;
};

}  // namespace tessera
