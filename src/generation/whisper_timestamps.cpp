#include "tessera/generation/whisper_timestamps.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "tessera/core/error.hpp"

namespace tessera {

void WhisperTimestampRules::apply(std::span<const int32_t> seq, std::span<float> scores) const {
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  const int64_t vocab = int64_t(scores.size()), tb = timestamp_begin();
  TESSERA_CHECK(no_timestamps_token_id >= 0 && tb < vocab && eos_token_id >= 0 && eos_token_id < vocab,
                "Whisper timestamps: no_timestamps_token_id {} and eos_token_id {} must lie in the vocabulary of {} "
                "with room for timestamps after <|notimestamps|>",
                no_timestamps_token_id, eos_token_id, vocab);
  TESSERA_CHECK(begin_index >= 0 && begin_index <= int64_t(seq.size()),
                "Whisper timestamps: begin_index {} is past the sequence of {} tokens", begin_index, seq.size());
  auto mask = [&](int64_t from, int64_t to) {
    from = std::clamp<int64_t>(from, 0, vocab);
    to = std::clamp<int64_t>(to, 0, vocab);
    for (int64_t i = from; i < to; ++i) scores[size_t(i)] = kNegInf;
  };
  scores[size_t(no_timestamps_token_id)] = kNegInf;

  const std::span<const int32_t> gen = seq.subspan(size_t(begin_index));
  const size_t n = gen.size();
  const bool last_ts = n >= 1 && gen[n - 1] >= tb;
  const bool penult_ts = n < 2 || gen[n - 2] >= tb;  // as HF: "no penultimate" counts as a timestamp
  if (last_ts) {
    if (penult_ts) mask(tb, vocab);  // a closed pair (or the opening one): text must follow
    else mask(0, eos_token_id);      // a lone timestamp closes a segment: no text
  }
  // Timestamps never go back; after a closing one the next opens at the same time or later,
  // otherwise strictly later (no second <|0.00|>).
  int64_t last_seen = -1;
  for (int32_t t : gen)
    if (t >= tb) last_seen = t;
  if (last_seen >= 0) mask(tb, (last_ts && !penult_ts) ? last_seen : last_seen + 1);

  if (n == 0) {  // the first generated token is a timestamp, not too far in
    mask(0, tb);
    if (max_initial_timestamp_index) mask(tb + *max_initial_timestamp_index + 1, vocab);
  }

  // Total probability of the timestamps against the best text token, on log-softmax (float32
  // scores, sums in double); -inf everywhere (all masked) leaves the row as it is.
  float mx = kNegInf;
  for (float s : scores) mx = std::max(mx, s);
  if (!std::isfinite(mx)) return;
  double sum = 0;
  for (float s : scores) sum += std::exp(double(s) - double(mx));
  const double lse = double(mx) + std::log(sum);
  double ts_sum = 0;
  for (int64_t i = tb; i < vocab; ++i) ts_sum += std::exp(double(scores[size_t(i)]) - double(mx));
  float max_text = kNegInf;
  for (int64_t i = 0; i < tb; ++i) max_text = std::max(max_text, scores[size_t(i)]);
  if (ts_sum > 0 && double(mx) + std::log(ts_sum) - lse > double(max_text) - lse) mask(0, tb);
}

}  // namespace tessera
