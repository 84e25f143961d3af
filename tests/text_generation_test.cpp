// generate_text: stop strings cut the text just before the first match, which is left out
// (also when it spans tokens); streamed pieces concatenate to the result, and the plain run
// continues past it. The text is Hugging Face's greedy continuation from meta.json.
#include <gtest/gtest.h>

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
