// One Model and one Tokenizer shared by 8 threads: each thread owns its Sessions, and every
// request gives exactly (bit for bit) what the same request gives when run alone. Run under
// ThreadSanitizer by .ci/sanitize (build-tsan, -DTESSERA_SANITIZE=thread).
#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include "tessera/generation/generate.hpp"
#include "tessera/models/load.hpp"
#include "tessera/models/model.hpp"
#include "tessera/text/tokenizer.hpp"

using namespace tessera;

namespace {

constexpr int kThreads = 8;
const std::string kModel = std::string(TESSERA_MODELS_DIR) + "/pycode-6m";

struct Request {
  std::string prompt;
  SamplingOptions sampling;
};

struct Result {
  std::vector<int32_t> tokens;
  std::vector<float> last_logits;  // of the final decode step
};

std::vector<Request> requests() {
  const std::vector<std::string> prompts = {"def fibonacci(n):", "import os\n", "class Stack:\n    def __init__(self):",
                                            "for i in range(10):", "x = [1, 2, 3]\nprint(", "def add(a, b):\n    return"};
  std::vector<Request> out;
  for (size_t i = 0; i < prompts.size(); ++i) {
    Request greedy{prompts[i], {}};
    greedy.sampling.repetition_penalty = i % 2 ? 1.3f : 1.0f;
    out.push_back(greedy);
    Request sampled{prompts[i], {}};
    sampled.sampling.do_sample = true;
    sampled.sampling.temperature = 0.8f;
    sampled.sampling.top_k = int64_t(20 + i);
    sampled.sampling.top_p = 0.95f;
    sampled.sampling.seed = 1000 + i;
    out.push_back(sampled);
  }
  return out;
}

Result run(const Model& model, const Tokenizer& tok, const Request& r) {
  auto session = model.new_session({.max_context = 128});
  GenerationOptions g;
  g.max_new_tokens = 24;
  g.stop_at_eos = false;
  g.sampling = r.sampling;
  const auto prompt = tok.encode(r.prompt, false).ids;
  Result out;
  out.tokens = generate(model, *session, prompt, g).tokens;
  // One more decode step to compare raw logits, not only the argmax.
  Tensor logits;
  model.decode(*session, std::vector<int32_t>{out.tokens.back()}, logits, false);
  out.last_logits.assign(logits.data<float>(), logits.data<float>() + logits.numel());
  return out;
}

TEST(Concurrency, EightThreadsGenerateExactlyWhatOneThreadDoes) {
  auto model = load(kModel);
  const auto tok = Tokenizer::from_file(kModel);
  const auto reqs = requests();
  std::vector<Result> want;
  for (const auto& r : reqs) want.push_back(run(*model, tok, r));

  // Every thread runs every request (starting at a different one), all at once.
  std::vector<std::vector<Result>> got(kThreads, std::vector<Result>(reqs.size()));
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (size_t k = 0; k < reqs.size(); ++k) {
        const size_t i = (k + size_t(t)) % reqs.size();
        got[size_t(t)][i] = run(*model, tok, reqs[i]);
      }
    });
  for (auto& th : threads) th.join();

  for (int t = 0; t < kThreads; ++t)
    for (size_t i = 0; i < reqs.size(); ++i) {
      EXPECT_EQ(got[size_t(t)][i].tokens, want[i].tokens) << "thread " << t << ", request " << i;
      EXPECT_EQ(got[size_t(t)][i].last_logits, want[i].last_logits) << "thread " << t << ", request " << i;
    }
  // The sampled requests really sample (differ from greedy somewhere), so the seeds matter.
  bool differs = false;
  for (size_t i = 0; i + 1 < reqs.size(); i += 2) differs |= want[i].tokens != want[i + 1].tokens;
  EXPECT_TRUE(differs);
}

TEST(Concurrency, EightThreadsTokenizeExactlyWhatOneThreadDoes) {
  const auto tok = Tokenizer::from_file(kModel);
  std::vector<std::string> texts;
  for (int i = 0; i < 64; ++i)
    texts.push_back("def f" + std::to_string(i) + "(x):\n    return x ** " + std::to_string(i) +
                    "  # ünïcödé 東京 🙂 <|endoftext|>" + std::string(size_t(i % 7), ' '));
  std::vector<Encoding> want;
  std::vector<std::string> want_text;
  for (const auto& s : texts) {
    want.push_back(tok.encode(s));
    want_text.push_back(tok.decode(want.back().ids));
  }
  std::atomic<int> mismatches{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int rep = 0; rep < 4; ++rep)
        for (size_t k = 0; k < texts.size(); ++k) {
          const size_t i = (k * 7 + size_t(t)) % texts.size();
          const Encoding e = tok.encode(texts[i]);
          if (e.ids != want[i].ids || e.offsets != want[i].offsets) ++mismatches;
          if (tok.decode(e.ids) != want_text[i]) ++mismatches;
        }
      // The batch API uses the library's thread pool from inside a user thread.
      const auto batch = tok.encode_batch(texts);
      for (size_t i = 0; i < texts.size(); ++i)
        if (batch[i].ids != want[i].ids) ++mismatches;
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
