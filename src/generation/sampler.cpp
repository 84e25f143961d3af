#include "tessera/generation/sampler.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "tessera/core/error.hpp"
#include "tessera/kernels/kernels.hpp"

namespace tessera {

namespace {
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Softmax of logits into probs (double accumulation so tiny probabilities keep their order).
void softmax_into(std::span<const float> logits, std::vector<float>& probs) {
  probs.assign(logits.begin(), logits.end());
  kernels::softmax(probs.data(), int64_t(probs.size()));
}
}  // namespace

void apply_repetition_penalty(std::span<float> logits, std::span<const int32_t> history, float penalty) {
  if (penalty == 1.0f) return;
  std::vector<bool> seen(logits.size(), false);
  for (int32_t t : history)
    if (t >= 0 && size_t(t) < logits.size() && !seen[size_t(t)]) {
      seen[size_t(t)] = true;
      float& l = logits[size_t(t)];
      l = l < 0 ? l * penalty : l / penalty;
    }
}

void apply_temperature(std::span<float> logits, float temperature) {
  if (temperature == 1.0f) return;
  for (float& l : logits) l /= temperature;
}

void apply_top_k(std::span<float> logits, int64_t k) {
  if (k <= 0 || size_t(k) >= logits.size()) return;
  std::vector<float> sorted(logits.begin(), logits.end());
  std::nth_element(sorted.begin(), sorted.begin() + (k - 1), sorted.end(), std::greater<float>());
  const float kth = sorted[size_t(k - 1)];
  for (float& l : logits)  // HF removes logits strictly below the k-th largest (ties stay)
    if (l < kth) l = kNegInf;
}

void apply_top_p(std::span<float> logits, float p) {
  if (p >= 1.0f) return;
  std::vector<float> probs;
  softmax_into(logits, probs);
  std::vector<int32_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  // HF sorts ascending and removes the tokens whose cumulative mass is <= 1 - p, always
  // keeping the most likely one.
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return logits[size_t(a)] < logits[size_t(b)]; });
  float cum = 0;
  for (size_t i = 0; i + 1 < order.size(); ++i) {
    cum += probs[size_t(order[i])];
    if (cum <= 1.0f - p) logits[size_t(order[i])] = kNegInf;
    else break;
  }
}

void apply_min_p(std::span<float> logits, float min_p) {
  if (min_p <= 0.0f) return;
  std::vector<float> probs;
  softmax_into(logits, probs);
  const float top = *std::max_element(probs.begin(), probs.end());
  for (size_t i = 0; i < logits.size(); ++i)
    if (probs[i] < min_p * top) logits[i] = kNegInf;
}

void apply_presence_frequency_penalty(std::span<float> logits, std::span<const int32_t> counts, float presence,
                                      float frequency) {
  if (presence == 0.0f && frequency == 0.0f) return;
  const size_t n = std::min(logits.size(), counts.size());
  for (size_t i = 0; i < n; ++i)
    if (counts[i] > 0) logits[i] -= presence + frequency * float(counts[i]);
}

Sampler::Sampler(const SamplingOptions& options) : opt_(options), rng_(options.seed) {
  TESSERA_CHECK(options.temperature >= 0, "temperature must be >= 0 (0: greedy), found {}", options.temperature);
  TESSERA_CHECK(options.top_p > 0 && options.top_p <= 1, "top_p must be in (0, 1], found {}", options.top_p);
  TESSERA_CHECK(options.min_p >= 0 && options.min_p <= 1, "min_p must be in [0, 1], found {}", options.min_p);
  TESSERA_CHECK(options.top_k >= 0, "top_k must be >= 0, found {}", options.top_k);
  TESSERA_CHECK(options.repetition_penalty > 0, "repetition_penalty must be positive, found {}", options.repetition_penalty);
  TESSERA_CHECK(std::isfinite(options.presence_penalty) && std::isfinite(options.frequency_penalty),
                "presence_penalty and frequency_penalty must be finite, found {} and {}", options.presence_penalty,
                options.frequency_penalty);
}

int32_t Sampler::next(std::span<float> logits, std::span<const int32_t> history) {
  const int32_t token = choose(logits, history);
  if (opt_.presence_penalty != 0.0f || opt_.frequency_penalty != 0.0f) {
    if (chosen_count_.size() <= size_t(token)) chosen_count_.resize(size_t(token) + 1, 0);
    ++chosen_count_[size_t(token)];
  }
  return token;
}

int32_t Sampler::choose(std::span<float> logits, std::span<const int32_t> history) {
  TESSERA_CHECK(!logits.empty(), "sampler: empty logits");
  apply_repetition_penalty(logits, history, opt_.repetition_penalty);
  apply_presence_frequency_penalty(logits, chosen_count_, opt_.presence_penalty, opt_.frequency_penalty);
  if (!opt_.do_sample || opt_.temperature == 0) {
    // argmax, first index on ties (as torch.argmax)
    return int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
  }
  apply_temperature(logits, opt_.temperature);
  apply_top_k(logits, opt_.top_k);
  apply_top_p(logits, opt_.top_p);
  apply_min_p(logits, opt_.min_p);
  softmax_into(logits, probs_);
  double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
  double cum = 0;
  int32_t last_nonzero = 0;
  for (size_t i = 0; i < probs_.size(); ++i) {
    if (probs_[i] <= 0) continue;
    last_nonzero = int32_t(i);
    cum += probs_[i];
    if (u < cum) return int32_t(i);
  }
  return last_nonzero;  // rounding left u beyond the total mass
}

}  // namespace tessera
