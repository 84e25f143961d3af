// The server's library pieces: OpenAI request bodies read into generation options (every bad
// field a RequestError naming it), and the slot pool (first come first served, a bounded
// queue, waiting requests that give up).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <limits>
#include <mutex>
#include <thread>

#include "tessera/serving/completion_request.hpp"
#include "tessera/serving/slot_pool.hpp"
#include "tessera/tessera.hpp"

using namespace tessera;
using nlohmann::json;

namespace {

const std::string kModel = std::string(TESSERA_MODELS_DIR) + "/pycode-6m";

CompletionRequest parse(const json& body, RequestKind kind = RequestKind::Completion) {
  GenerationOptions defaults;
  defaults.max_new_tokens = 128;
  return parse_completion_request(body, kind, defaults, RequestLimits{}, 42);
}

// The parameter a RequestError names, or "(no error)".
std::string error_param(const json& body, RequestKind kind = RequestKind::Completion) {
  try {
    parse(body, kind);
  } catch (const RequestError& e) {
    EXPECT_FALSE(std::string(e.what()).empty());
    return e.param().empty() ? "(body)" : e.param();
  }
  return "(no error)";
}

}  // namespace

TEST(CompletionRequest, ReadsOpenAIFields) {
  auto r = parse(json::parse(R"({"model": "m", "prompt": "hi", "max_tokens": 5, "temperature": 0.5, "top_p": 0.9,
    "top_k": 40, "min_p": 0.1, "seed": 9, "stop": ["a", "b"], "presence_penalty": 1.5, "frequency_penalty": -1,
    "repetition_penalty": 1.1, "ignore_eos": true, "logprobs": 2, "stream": true, "stream_options": {"include_usage": true}})"));
  EXPECT_EQ(r.prompt, "hi");
  EXPECT_EQ(r.model, "m");
  EXPECT_EQ(r.generation.max_new_tokens, 5);
  EXPECT_TRUE(r.generation.sampling.do_sample);
  EXPECT_FLOAT_EQ(r.generation.sampling.temperature, 0.5f);
  EXPECT_FLOAT_EQ(r.generation.sampling.top_p, 0.9f);
  EXPECT_EQ(r.generation.sampling.top_k, 40);
  EXPECT_FLOAT_EQ(r.generation.sampling.min_p, 0.1f);
  EXPECT_EQ(r.generation.sampling.seed, 9u);
  EXPECT_EQ(r.stop, (std::vector<std::string>{"a", "b"}));
  EXPECT_FLOAT_EQ(r.generation.sampling.presence_penalty, 1.5f);
  EXPECT_FLOAT_EQ(r.generation.sampling.frequency_penalty, -1.0f);
  EXPECT_FLOAT_EQ(r.generation.sampling.repetition_penalty, 1.1f);
  EXPECT_FALSE(r.generation.stop_at_eos);
  EXPECT_EQ(r.generation.top_logprobs, 2);
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
}

TEST(CompletionRequest, DefaultsTemperatureZeroAndPromptForms) {
  auto d = parse(json{{"prompt", "x"}});
  EXPECT_EQ(d.generation.max_new_tokens, -1);  // up to the context, as llama-server
  EXPECT_EQ(d.generation.sampling.seed, 42u);  // the server's default seed
  EXPECT_EQ(d.generation.top_logprobs, -1);
  EXPECT_TRUE(d.generation.stop_at_eos);
  auto g = parse(json{{"prompt", "x"}, {"temperature", 0}, {"top_k", 5}});
  EXPECT_FALSE(g.generation.sampling.do_sample);  // temperature 0 is greedy, whatever else is set
  auto ids = parse(json{{"prompt", {1, 2, 3}}});
  ASSERT_TRUE(ids.prompt_ids.has_value());
  EXPECT_EQ(*ids.prompt_ids, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(parse(json{{"prompt", {"only"}}}).prompt, "only");
  EXPECT_EQ(parse(json{{"prompt", "x"}, {"max_tokens", 3.0}}).generation.max_new_tokens, 3);  // 3.0 is an integer to JS
  EXPECT_EQ(parse(json{{"prompt", "x"}, {"stop", "s"}}).stop, (std::vector<std::string>{"s"}));
  auto chat = parse(json::parse(R"({"messages": [{"role": "system", "content": "be brief"},
    {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
    {"role": "assistant", "content": null}], "logprobs": true, "top_logprobs": 3, "max_completion_tokens": 7})"),
                    RequestKind::Chat);
  ASSERT_EQ(chat.messages.size(), 3u);
  EXPECT_EQ(chat.messages[1].content, "ab");
  EXPECT_EQ(chat.messages[2].content, "");
  EXPECT_EQ(chat.generation.top_logprobs, 3);
  EXPECT_EQ(chat.generation.max_new_tokens, 7);
}

TEST(CompletionRequest, HostileBodiesNameTheParameter) {
  EXPECT_EQ(error_param(json::array()), "(body)");
  EXPECT_EQ(error_param(json("text")), "(body)");
  EXPECT_EQ(error_param(json::object()), "prompt");
  EXPECT_EQ(error_param(json{{"prompt", 5}}), "prompt");
  EXPECT_EQ(error_param(json{{"prompt", {"a", "b"}}}), "prompt");       // several prompts
  EXPECT_EQ(error_param(json{{"prompt", {{1}, {2}}}}), "prompt");
  EXPECT_EQ(error_param(json{{"prompt", {1, -2}}}), "prompt");
  EXPECT_EQ(error_param(json{{"prompt", {1, 1e10}}}), "prompt");
  EXPECT_EQ(error_param(json{{"prompt", {1, 3000000000LL}}}), "prompt");
  const json bad_values[] = {
      {{"max_tokens", "5"}}, {{"max_tokens", -1}}, {{"max_tokens", 2.5}}, {{"max_tokens", 1e300}},
      {{"max_tokens", std::numeric_limits<uint64_t>::max()}}, {{"max_tokens", int64_t(1) << 40}},
      {{"temperature", "hot"}}, {{"temperature", -0.1}}, {{"temperature", 1e9}}, {{"top_p", 0}}, {{"top_p", 1.5}},
      {{"top_k", -1}}, {{"top_k", 0.5}}, {{"min_p", 2}}, {{"presence_penalty", 2.5}}, {{"frequency_penalty", -3}},
      {{"repetition_penalty", 0}}, {{"seed", "x"}}, {{"seed", 1.5}}, {{"stop", 3}}, {{"stop", {"a", 1}}},
      {{"stop", ""}}, {{"stop", json::array({"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17"})}},
      {{"logprobs", 21}}, {{"logprobs", true}}, {{"stream", 1}}, {{"ignore_eos", "yes"}}, {{"n", 2}}, {{"best_of", 3}},
      {{"echo", true}}, {{"suffix", "x"}}, {{"model", 3}}, {{"stream_options", {{"include_usage", true}}}}};
  for (json b : bad_values) {
    const std::string key = b.begin().key();
    b["prompt"] = "x";
    const std::string got = error_param(b);
    EXPECT_TRUE(got == key || got.rfind(key, 0) == 0) << b.dump() << " named " << got;
  }
  // Chat: messages are checked one by one.
  EXPECT_EQ(error_param(json{{"prompt", "x"}}, RequestKind::Chat), "messages");
  EXPECT_EQ(error_param(json{{"messages", "hi"}}, RequestKind::Chat), "messages");
  EXPECT_EQ(error_param(json{{"messages", json::array()}}, RequestKind::Chat), "messages");
  EXPECT_EQ(error_param(json{{"messages", {{{"content", "a"}}}}}, RequestKind::Chat), "messages[0].role");
  EXPECT_EQ(error_param(json{{"messages", {{{"role", "user"}, {"content", 5}}}}}, RequestKind::Chat), "messages[0].content");
  EXPECT_EQ(error_param(json::parse(R"({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]})"), RequestKind::Chat),
            "messages[0].content[0]");
  EXPECT_EQ(error_param(json::parse(R"({"messages": [{"role": "user", "content": "a"}], "top_logprobs": 2})"), RequestKind::Chat),
            "top_logprobs");  // needs logprobs: true
}

TEST(SlotPool, FirstComeFirstServedWithABoundedQueue) {
  auto model = load(kModel);
  SlotPool pool(*model, 1, 2, SessionOptions{.max_context = 64});
  EXPECT_EQ(pool.capacity(), 64);
  auto first = pool.acquire();
  ASSERT_TRUE(std::holds_alternative<SlotPool::Lease>(first));
  std::get<SlotPool::Lease>(first).session();  // usable

  // Two wait (in order), a third is refused at once.
  std::vector<int> order;
  std::mutex mu;
  auto waiter = [&](int id) {
    auto got = pool.acquire();
    ASSERT_TRUE(std::holds_alternative<SlotPool::Lease>(got));
    std::lock_guard<std::mutex> lock(mu);
    order.push_back(id);
  };
  std::thread a(waiter, 1);
  while (pool.waiting() < 1) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::thread b(waiter, 2);
  while (pool.waiting() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto refused = pool.acquire();
  ASSERT_TRUE(std::holds_alternative<SlotPool::Refusal>(refused));
  EXPECT_EQ(std::get<SlotPool::Refusal>(refused), SlotPool::Refusal::QueueFull);
  EXPECT_EQ(pool.busy(), 1);
  { auto release = std::move(std::get<SlotPool::Lease>(first)); }  // frees the slot
  a.join();
  b.join();
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_EQ(pool.busy(), 0);
  EXPECT_EQ(pool.waiting(), 0);
}

TEST(SlotPool, AWaitingRequestThatGivesUpLeavesTheQueue) {
  auto model = load(kModel);
  SlotPool pool(*model, 1, 4, SessionOptions{.max_context = 32});
  auto held = pool.acquire();
  ASSERT_TRUE(std::holds_alternative<SlotPool::Lease>(held));
  std::atomic<bool> gone{false};
  std::thread t([&] {
    auto got = pool.acquire([&] { return gone.load(); }, 5);
    ASSERT_TRUE(std::holds_alternative<SlotPool::Refusal>(got));
    EXPECT_EQ(std::get<SlotPool::Refusal>(got), SlotPool::Refusal::Cancelled);
  });
  while (pool.waiting() < 1) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  gone = true;
  t.join();
  EXPECT_EQ(pool.waiting(), 0);
  EXPECT_EQ(pool.busy(), 1);
  // A lease resets its session when returned: the next holder starts at position 0.
  Session& s = std::get<SlotPool::Lease>(held).session();
  Tensor logits;
  const std::vector<int32_t> ids = {1, 2, 3};
  model->decode(s, ids, logits, false);
  EXPECT_EQ(s.position(), 3);
  { auto release = std::move(std::get<SlotPool::Lease>(held)); }
  auto again = pool.acquire();
  ASSERT_TRUE(std::holds_alternative<SlotPool::Lease>(again));
  EXPECT_EQ(std::get<SlotPool::Lease>(again).session().position(), 0);
  EXPECT_THROW(SlotPool(*model, 0, 1, {}), Error);
}
