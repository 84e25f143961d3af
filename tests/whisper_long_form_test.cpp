// Long-form Whisper: the window plan, the stitching of windows (with and without timestamps)
// and the timestamp-token rules, replayed against tools/reference/whisper_long_form.py (a numpy
// re-implementation of Hugging Face's chunk_iter, _decode_asr, _find_longest_common_sequence and
// WhisperTimeStampLogitsProcessor) on synthetic token sequences, plus cases derived by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "fixture_util.hpp"
#include "tessera/generation/whisper_chunks.hpp"
#include "tessera/generation/whisper_timestamps.hpp"

using namespace tessera;
using namespace tessera::testing;

namespace {

const nlohmann::json& cases() {
  static const nlohmann::json j = load_json_file(data_dir() + "/whisper_long_form/cases.json");
  return j;
}

std::vector<int32_t> ints(const nlohmann::json& j) { return j.get<std::vector<int32_t>>(); }

TEST(WhisperLongForm, WindowPlanMatchesReference) {
  ASSERT_FALSE(cases()["plans"].empty());
  for (const auto& c : cases()["plans"]) {
    auto got = plan_audio_windows(c["n"], c["chunk"], c["left"], c["right"]);
    const auto& want = c["expected"];
    ASSERT_EQ(got.size(), want.size()) << c.dump();
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].begin, want[i][0]) << c.dump();
      EXPECT_EQ(got[i].end, want[i][1]) << c.dump();
      EXPECT_EQ(got[i].stride_left, want[i][2]) << c.dump();
      EXPECT_EQ(got[i].stride_right, want[i][3]) << c.dump();
      EXPECT_EQ(got[i].is_last, want[i][4].get<bool>()) << c.dump();
    }
  }
}

TEST(WhisperLongForm, WindowPlanForSeventySeconds) {
  // By hand: 30 s windows, 5 s strides at 16 kHz step by 20 s: [0, 30), [20, 50), [40, 70).
  auto w = plan_audio_windows(70 * 16000, 30 * 16000, 5 * 16000, 5 * 16000);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[1].begin, 20 * 16000);
  EXPECT_EQ(w[2].begin, 40 * 16000);
  EXPECT_EQ(w[2].end, 70 * 16000);
  EXPECT_TRUE(w[2].is_last);
  EXPECT_EQ(w[0].stride_left, 0);
  EXPECT_EQ(w[2].stride_right, 0);
  EXPECT_THROW(plan_audio_windows(100, 10, 5, 5), Error);  // no room between the strides
  EXPECT_THROW(plan_audio_windows(100, 10, -1, 0), Error);
}

TEST(WhisperLongForm, LongestCommonSequenceMatchesReference) {
  ASSERT_GT(cases()["lcs"].size(), 40u);
  for (const auto& c : cases()["lcs"]) {
    std::vector<std::vector<int32_t>> seqs;
    for (const auto& s : c["sequences"]) seqs.push_back(ints(s));
    EXPECT_EQ(find_longest_common_sequence(seqs), ints(c["expected"])) << c["sequences"].dump();
  }
}

TEST(WhisperLongForm, LongestCommonSequenceByHand) {
  // [1 2 3 4] and [3 4 5] overlap best on [3 4] (offset 2): the left keeps [1 2 3] (up to the
  // middle of the overlap), the right gives [4 5].
  EXPECT_EQ(find_longest_common_sequence({{1, 2, 3, 4}, {3, 4, 5}}), (std::vector<int32_t>{1, 2, 3, 4, 5}));
  // No alignment with two equal tokens: plain concatenation.
  EXPECT_EQ(find_longest_common_sequence({{1, 2}, {3, 4}}), (std::vector<int32_t>{1, 2, 3, 4}));
  EXPECT_TRUE(find_longest_common_sequence({}).empty());
}

TEST(WhisperLongForm, MergeMatchesReference) {
  ASSERT_GT(cases()["windows"].size(), 30u);
  for (const auto& c : cases()["windows"]) {
    WhisperTokenInfo info;
    info.timestamp_begin = c["timestamp_begin"];
    info.time_precision = c["time_precision"];
    info.special_ids = ints(c["special_ids"]);
    for (const auto& l : c["languages"]) info.languages.emplace_back(l[0].get<int32_t>(), l[1].get<std::string>());
    std::vector<WindowTokens> windows;
    for (const auto& w : c["windows"]) {
      WindowTokens t;
      t.tokens = ints(w["tokens"]);
      t.length = w["stride"][0], t.stride_left = w["stride"][1], t.stride_right = w["stride"][2];
      windows.push_back(std::move(t));
    }
    const std::string name = c["name"];
    auto got = merge_window_tokens(windows, info, c["return_timestamps"].get<bool>());
    const auto& want = c["expected"];
    ASSERT_EQ(got.size(), want.size()) << name;
    for (size_t i = 0; i < got.size(); ++i) {
      auto time_eq = [&](const std::optional<double>& g, const nlohmann::json& w, const char* what) {
        if (w.is_null()) {
          EXPECT_FALSE(g.has_value()) << name << " segment " << i << " " << what;
        } else {
          ASSERT_TRUE(g.has_value()) << name << " segment " << i << " " << what;
          EXPECT_EQ(*g, w.get<double>()) << name << " segment " << i << " " << what;  // both rounded to 0.01
        }
      };
      time_eq(got[i].start, want[i]["start"], "start");
      time_eq(got[i].end, want[i]["end"], "end");
      EXPECT_EQ(got[i].tokens, ints(want[i]["tokens"])) << name << " segment " << i;
      EXPECT_EQ(got[i].language, want[i]["language"].get<std::string>()) << name << " segment " << i;
    }
  }
}

TEST(WhisperLongForm, MergeByHand) {
  // Two windows of a 50 s clip, timestamps 0.02 s apart from id 100.
  // Window 1 (0–30 s; right stride from 25 s): [0.00] 1 2 [4.00] [20.00] 7 8 [24.00] [26.00] 3 4.
  //   Two segments close (0–4 s, 20–24 s). The last timestamp, 26 s, lies in the right stride:
  //   it is skipped (and with it the partner that opens window 2), and "3 4" stays pending.
  // Window 2 (20–50 s; offset 20 s, left stride up to 25 s = id 350):
  //   [0.00] 7 8 [4.00] [6.00] 3 4 5 [9.00]. [0.00] is the skipped partner; [4.00] (id 300 < 350)
  //   lies in the left stride while tokens are pending, so it is ignored; [6.00] opens at 26 s,
  //   [9.00] closes at 29 s. The pending runs [3 4] and [7 8 3 4 5] align on [3 4] (offset 4:
  //   2 matches / 4 + 0.0004 beats every other offset): the left keeps [3], the right gives [4 5],
  //   so the re-heard "7 8" of the left stride is dropped.
  WhisperTokenInfo info;
  info.timestamp_begin = 100;
  info.time_precision = 0.02;
  auto ts = [](double s) { return int32_t(100 + std::lround(s / 0.02)); };
  std::vector<WindowTokens> w(2);
  w[0].tokens = {ts(0), 1, 2, ts(4), ts(20), 7, 8, ts(24), ts(26), 3, 4};
  w[0].length = 30, w[0].stride_left = 0, w[0].stride_right = 5;
  w[1].tokens = {ts(0), 7, 8, ts(4), ts(6), 3, 4, 5, ts(9)};
  w[1].length = 30, w[1].stride_left = 5, w[1].stride_right = 0;
  auto got = merge_window_tokens(w, info, true);
  ASSERT_EQ(got.size(), 3u);
  const double starts[] = {0, 20, 26}, ends[] = {4, 24, 29};
  const std::vector<int32_t> tokens[] = {{1, 2}, {7, 8}, {3, 4, 5}};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(got[i].start, starts[i]) << i;
    EXPECT_EQ(got[i].end, ends[i]) << i;
    EXPECT_EQ(got[i].tokens, tokens[i]) << i;
  }
  // Not returning timestamps, HF still cuts at the timestamp tokens present; the times are dropped.
  auto plain = merge_window_tokens(w, info, false);
  ASSERT_EQ(plain.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_FALSE(plain[i].start.has_value() || plain[i].end.has_value()) << i;
    EXPECT_EQ(plain[i].tokens, tokens[i]) << i;
  }
}

TEST(WhisperTimestampRules, MatchReference) {
  ASSERT_GT(cases()["timestamp_rules"].size(), 50u);
  for (const auto& c : cases()["timestamp_rules"]) {
    WhisperTimestampRules r;
    r.no_timestamps_token_id = c["no_timestamps_token_id"];
    r.eos_token_id = c["eos_token_id"];
    r.begin_index = c["begin_index"];
    if (!c["max_initial_timestamp_index"].is_null()) r.max_initial_timestamp_index = c["max_initial_timestamp_index"];
    std::vector<float> scores = c["scores"].get<std::vector<float>>();
    r.apply(ints(c["sequence"]), scores);
    const auto& want = c["expected"];
    ASSERT_EQ(scores.size(), want.size());
    for (size_t i = 0; i < scores.size(); ++i) {
      if (want[i].is_null()) EXPECT_TRUE(std::isinf(scores[i]) && scores[i] < 0) << c["sequence"].dump() << " id " << i;
      else EXPECT_EQ(scores[i], want[i].get<float>()) << c["sequence"].dump() << " id " << i;
    }
  }
}

TEST(WhisperTimestampRules, ByHand) {
  // Vocabulary: text 0..3, <|endoftext|> 4, <|notimestamps|> 5, timestamps 6..9; prompt of 1.
  WhisperTimestampRules r;
  r.no_timestamps_token_id = 5, r.eos_token_id = 4, r.begin_index = 1;
  auto run = [&](std::vector<int32_t> seq, std::vector<float> s) {
    r.apply(seq, s);
    std::vector<int> allowed;
    for (size_t i = 0; i < s.size(); ++i)
      if (!std::isinf(s[i])) allowed.push_back(int(i));
    return allowed;
  };
  const std::vector<float> flat(10, 0.0f);
  // First token: a timestamp only (text and <|notimestamps|> masked); max_initial 1 → 6, 7.
  r.max_initial_timestamp_index = 1;
  EXPECT_EQ(run({0}, flat), (std::vector<int>{6, 7}));
  r.max_initial_timestamp_index.reset();
  // After a lone timestamp <|0.02|> (7) that follows text: no text (0..3 masked); EOS and the
  // timestamps from 7 on (an equal one may open the next segment) are left, and the timestamps'
  // mass (3/4 with equal scores) beats EOS (1/4), so only 7, 8, 9 remain.
  EXPECT_EQ(run({0, 6, 1, 7}, flat), (std::vector<int>{7, 8, 9}));
  // After a pair (7, 7): no timestamp at all; text and EOS remain (the masked timestamps have no mass).
  EXPECT_EQ(run({0, 6, 1, 7, 7}, flat), (std::vector<int>{0, 1, 2, 3, 4}));
  // After text: timestamps strictly after the last one (8, 9); their mass (2/7) beats any single
  // text token or EOS (1/7 each), so only timestamps remain.
  EXPECT_EQ(run({0, 6, 1, 7, 7, 2}, flat), (std::vector<int>{8, 9}));
  std::vector<float> bad(3, 0.0f);
  EXPECT_THROW(r.apply(std::vector<int32_t>{0}, bad), Error);  // vocabulary too small for the ids
}

}  // namespace
