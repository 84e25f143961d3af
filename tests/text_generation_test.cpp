// generate_text: stop strings cut the text right after the first match (also when it spans
// tokens), streamed pieces concatenate to the result, and the plain run continues past it.
#include <gtest/gtest.h>

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
