// generate_text: stop strings cut the text just before the first match, which is left out
// (also when it spans tokens); streamed pieces concatenate to the result, and the plain run
// continues past it. The text is Hugging Face's greedy continuation from meta.json.
#include <gtest/gtest.h>

#include <cmath>

#include "tessera/generation/text_generation.hpp"
#include "tessera/io/json.hpp"

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
  const auto meta = load_json_file(kModel + "/meta.json").at("generation");
  ASSERT_EQ(meta.at("prompt").get<std::string>(), "def fibonacci(n):\n");
  const std::string hf = meta.at("continuation").get<std::string>();
  EXPECT_EQ(full.text, hf);
  // Hugging Face's continuation has a docstring: stop at its end.
  const std::string stop = "\"\"\"\n";
  const size_t first = hf.find(stop);
  ASSERT_NE(first, std::string::npos) << hf;

  auto s2 = model->new_session();
  std::string streamed;
  auto cut = generate_text(*model, *s2, tok, "def fibonacci(n):\n", opt, {"no such text", stop}, [&](std::string_view p) {
    streamed += p;
    return true;
  });
  EXPECT_TRUE(cut.stopped_by_string);
  EXPECT_EQ(cut.text, hf.substr(0, first));
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
