// Logits processors and sampling, each expectation derived by hand from Hugging Face's
// definitions (comments show the arithmetic).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "tessera/core/error.hpp"
#include "tessera/generation/sampler.hpp"

using namespace tessera;

namespace {
const float kInf = std::numeric_limits<float>::infinity();
}

TEST(Sampler, RepetitionPenaltyDividesPositiveAndMultipliesNegative) {
  std::vector<float> l = {2.0f, -2.0f, 3.0f};
  std::vector<int32_t> hist = {0, 1, 1};  // token 1 twice: penalised once, as HF's gather/scatter
  apply_repetition_penalty(l, hist, 2.0f);
  EXPECT_EQ(l, (std::vector<float>{1.0f, -4.0f, 3.0f}));
}

TEST(Sampler, TopKKeepsTiesAtTheKthValue) {
  std::vector<float> l = {1, 4, 3, 3, 0};
  apply_top_k(l, 2);  // 2nd largest is 3: everything < 3 goes, both 3s stay
  EXPECT_EQ(l, (std::vector<float>{-kInf, 4, 3, 3, -kInf}));
}

TEST(Sampler, TopPRemovesTheTailBelowOneMinusP) {
  // probs of log(0.1), log(0.2), log(0.3), log(0.4) are 0.1 .. 0.4. Ascending cumulative
  // sums: 0.1, 0.3, 0.6, 1.0. With p = 0.75 tokens with cum <= 0.25 go: only the 0.1 one.
  std::vector<float> l = {std::log(0.1f), std::log(0.2f), std::log(0.3f), std::log(0.4f)};
  auto orig = l;
  apply_top_p(l, 0.75f);
  EXPECT_EQ(l[0], -kInf);
  EXPECT_EQ(l[1], orig[1]);
  // p = 0.35: cum <= 0.65 goes: 0.1, 0.2, 0.3 (cum 0.6); the 0.4 token stays.
  l = orig;
  apply_top_p(l, 0.35f);
  EXPECT_EQ(l[0], -kInf);
  EXPECT_EQ(l[1], -kInf);
  EXPECT_EQ(l[2], -kInf);
  EXPECT_EQ(l[3], orig[3]);
}

TEST(Sampler, MinPScalesWithTheTopProbability) {
  // probs 0.5, 0.3, 0.15, 0.05; min_p 0.2 → threshold 0.1: the 0.05 token goes.
  std::vector<float> l = {std::log(0.5f), std::log(0.3f), std::log(0.15f), std::log(0.05f)};
  apply_min_p(l, 0.2f);
  EXPECT_NE(l[2], -kInf);
  EXPECT_EQ(l[3], -kInf);
}

TEST(Sampler, GreedyIsArgmaxAfterPenaltyFirstIndexOnTies) {
  Sampler s({});
  std::vector<float> l = {1, 5, 5, 2};
  EXPECT_EQ(s.next(l, {}), 1);
  std::vector<float> l2 = {1, 5, 4, 2};
  std::vector<int32_t> hist = {1};
  Sampler p({.repetition_penalty = 2.0f});  // 5 / 2 = 2.5 < 4
  EXPECT_EQ(p.next(l2, hist), 2);
}

TEST(Sampler, PenaltyComesBeforeTemperature) {
  // HF order: penalty on raw logits, then temperature. logits {2, 1.5}, token 0 seen,
  // penalty 2 → {1, 1.5}; then T = 0.5 → {2, 3}: token 1 now dominates. Applying the
  // temperature first ({4, 3} → penalty {2, 3}) gives the same winner, so also check the
  // probability: p1 = 1 / (1 + e^-1) = 0.731.
  SamplingOptions o{.do_sample = true, .temperature = 0.5f, .repetition_penalty = 2.0f, .seed = 7};
  Sampler s(o);
  int ones = 0;
  const int n = 20000;
  std::vector<int32_t> hist = {0};
  for (int i = 0; i < n; ++i) {
    std::vector<float> l = {2.0f, 1.5f};
    ones += s.next(l, hist) == 1;
  }
  EXPECT_NEAR(double(ones) / n, 1.0 / (1.0 + std::exp(-1.0)), 0.015);
}

TEST(Sampler, SeedReproducesAndDiffers) {
  auto draw = [](uint64_t seed) {
    Sampler s({.do_sample = true, .seed = seed});
    std::vector<int32_t> out;
    for (int i = 0; i < 50; ++i) {
      std::vector<float> l = {0, 0, 0, 0, 0, 0, 0, 0};
      out.push_back(s.next(l, {}));
    }
    return out;
  };
  EXPECT_EQ(draw(1), draw(1));
  EXPECT_NE(draw(1), draw(2));
}

TEST(Sampler, TemperatureZeroIsGreedy) {
  // do_sample with temperature 0 takes the argmax every time, whatever the seed: index 2 of
  // {0.5, 1, 3, 2.9}, and the first of tied maxima as torch.argmax.
  for (uint64_t seed : {0u, 1u, 2u, 3u}) {
    Sampler s({.do_sample = true, .temperature = 0.0f, .top_k = 3, .seed = seed});
    std::vector<float> l = {0.5f, 1.0f, 3.0f, 2.9f};
    EXPECT_EQ(s.next(l, {}), 2);
    std::vector<float> tie = {1.0f, 4.0f, 4.0f};
    EXPECT_EQ(s.next(tie, {}), 1);
  }
}

TEST(Sampler, RejectsNonsense) {
  EXPECT_THROW(Sampler({.temperature = -0.5f}), tessera::Error);
  EXPECT_THROW(Sampler({.top_p = 1.5f}), tessera::Error);
  EXPECT_THROW(Sampler({.top_k = -1}), tessera::Error);
}

TEST(Sampler, PresenceAndFrequencyPenaltiesCountGeneratedTokensOnly) {
  // OpenAI: logit -= presence * (count > 0) + frequency * count.
  std::vector<float> l = {3.0f, 2.5f, 0.0f};
  const std::vector<int32_t> counts = {2, 0, 1};
  apply_presence_frequency_penalty(l, counts, 0.5f, 0.25f);
  EXPECT_EQ(l, (std::vector<float>{2.0f, 2.5f, -0.75f}));  // 3 - 0.5 - 0.5; untouched; 0 - 0.5 - 0.25

  // Greedy over fixed logits {3, 2.5, 0}; the prompt (history) holds token 0 but does not count.
  auto run = [](float presence, float frequency) {
    Sampler s({.presence_penalty = presence, .frequency_penalty = frequency});
    std::vector<int32_t> picked, history = {0, 0, 0};
    for (int i = 0; i < 5; ++i) {
      std::vector<float> step = {3.0f, 2.5f, 0.0f};
      picked.push_back(s.next(step, history));
      history.push_back(picked.back());
    }
    return picked;
  };
  // presence 0.6: token 0 drops to 2.4 once chosen (any count), token 1 to 1.9: 0 1 0 0 0.
  EXPECT_EQ(run(0.6f, 0.0f), (std::vector<int32_t>{0, 1, 0, 0, 0}));
  // frequency 0.3: 0 (3.0), 0 (2.7 > 2.5), 1 (2.4 < 2.5), 0 (2.4 > 2.2), 1 (2.1 < 2.2).
  EXPECT_EQ(run(0.0f, 0.3f), (std::vector<int32_t>{0, 0, 1, 0, 1}));
  EXPECT_EQ(run(0.0f, 0.0f), (std::vector<int32_t>{0, 0, 0, 0, 0}));
  EXPECT_THROW(Sampler({.presence_penalty = std::numeric_limits<float>::quiet_NaN()}), Error);
}
