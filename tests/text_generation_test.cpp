// generate_text: stop strings cut the text right after the first match (also when it spans
// tokens), streamed pieces concatenate to the result, and the plain run continues past it.
#include <gtest/gtest.h>

#include <cmath>

#include "tessera/generation/text_generation.hpp"

using namespace tessera;

namespace {
const std::string kModel = std::string(TESSERA_MODELS_DIR) + "/pycode-6m";
}

TEST(TextGeneration, StopStringsCutAndStreamingConcatenates) {
  auto model = load(kModel);
  auto tok = Tokenizer::from_file(kModel);
  GenerationOptions opt;
  opt.max_new_tokens = 64;
  opt.eos_token_ids = model->info().eos_token_ids;

  auto s1 = model->new_session();
  auto full = generate_text(*model, *s1, tok, "def fibonacci(n):\n", opt);
  ASSERT_FALSE(full.stopped_by_string);
  // The greedy continuation (pinned by the Pycode tests) has a docstring: stop at its end.
  const std::string stop = "\"\"\"\n";
  const size_t first = full.text.find(stop);
  ASSERT_NE(first, std::string::npos) << full.text;

  auto s2 = model->new_session();
  std::string streamed;
  auto cut = generate_text(*model, *s2, tok, "def fibonacci(n):\n", opt, {"no such text", stop}, [&](std::string_view p) {
    streamed += p;
    return true;
  });
  EXPECT_TRUE(cut.stopped_by_string);
  EXPECT_EQ(cut.text, full.text.substr(0, first + stop.size()));
  EXPECT_EQ(streamed, cut.text);
  EXPECT_LT(cut.generation.tokens.size(), full.generation.tokens.size());
}

TEST(TextGeneration, CallbackCanStop) {
  auto model = load(kModel);
  auto tok = Tokenizer::from_file(kModel);
  GenerationOptions opt;
  opt.max_new_tokens = 64;
  auto s = model->new_session();
  int calls = 0;
  auto r = generate_text(*model, *s, tok, "import os\n", opt, {}, [&](std::string_view) { return ++calls < 3; });
  EXPECT_EQ(r.generation.stop, GenerationResult::Stop::Callback);
  EXPECT_LE(r.generation.tokens.size(), 8u);
}

TEST(TextGeneration, StopStringCanBeLeftOut) {
  // OpenAI's API returns the text before the stop string; the pieces streamed say the same.
  auto model = load(kModel);
  auto tok = Tokenizer::from_file(kModel);
  GenerationOptions opt;
  opt.max_new_tokens = 64;
  auto s1 = model->new_session();
  const std::string full = generate_text(*model, *s1, tok, "def fibonacci(n):\n", opt).text;
  const std::string stop = "\"\"\"\n";
  const size_t first = full.find(stop);
  ASSERT_NE(first, std::string::npos) << full;
  auto s2 = model->new_session();
  std::string streamed;
  auto cut = generate_text(*model, *s2, tok, "def fibonacci(n):\n", opt, {stop}, [&](std::string_view p) {
    streamed += p;
    return true;
  }, /*keep_stop_string=*/false);
  EXPECT_TRUE(cut.stopped_by_string);
  EXPECT_EQ(cut.text, full.substr(0, first));
  EXPECT_EQ(streamed, cut.text);
}

TEST(TextGeneration, LogprobsOfGreedyTokensAreTheLargest) {
  // With top_logprobs k, every step reports k alternatives, most likely first; a greedy token
  // is its step's first alternative, and the alternatives' probabilities add up to at most 1.
  auto model = load(kModel);
  auto tok = Tokenizer::from_file(kModel);
  GenerationOptions opt;
  opt.max_new_tokens = 8;
  opt.top_logprobs = 5;
  auto s = model->new_session();
  auto r = generate_text(*model, *s, tok, "import os\n", opt);
  ASSERT_EQ(r.generation.logprobs.size(), r.generation.tokens.size());
  for (size_t i = 0; i < r.generation.logprobs.size(); ++i) {
    const TokenLogprobs& t = r.generation.logprobs[i];
    EXPECT_EQ(t.token, r.generation.tokens[i]);
    ASSERT_EQ(t.top.size(), 5u);
    EXPECT_EQ(t.top[0].first, t.token);
    EXPECT_EQ(t.top[0].second, t.logprob);
    double mass = 0;
    for (size_t k = 0; k < t.top.size(); ++k) {
      if (k) {
        EXPECT_GE(t.top[k - 1].second, t.top[k].second);
      }
      mass += std::exp(double(t.top[k].second));
    }
    EXPECT_LE(mass, 1.0 + 1e-6);
    EXPECT_LE(t.logprob, 0.0f);
  }
}
