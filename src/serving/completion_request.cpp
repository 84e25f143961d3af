#include "tessera/serving/completion_request.hpp"

#include <cmath>
#include <limits>

namespace tessera {
namespace {

using nlohmann::json;

const char* type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    case json::value_t::number_float: return "a number";
    case json::value_t::discarded: return "nothing";
    default: return "an integer";
  }
}

template <typename... Args>
[[noreturn]] void bad(const std::string& param, fmt::format_string<Args...> f, Args&&... args) {
  throw RequestError(fmt::format(f, std::forward<Args>(args)...), param);
}

// The body's field `key` when present and not null.
const json* field(const json& body, const char* key) {
  auto it = body.find(key);
  return it == body.end() || it->is_null() ? nullptr : &*it;
}

double number(const json& body, const char* key, double lo, double hi, bool lo_open = false) {
  const json& v = *field(body, key);
  if (!v.is_number()) bad(key, "'{}' must be a number, found {}", key, type_name(v));
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < lo || x > hi || (lo_open && x == lo))
    bad(key, "'{}' must be in {}{}, {}], found {}", key, lo_open ? "(" : "[", lo, hi, x);
  return x;
}

int64_t integer(const json& body, const char* key, int64_t lo, int64_t hi) {
  const json& v = *field(body, key);
  // 5.0 is an integer to JavaScript clients; 5.5 is not.
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15) {
      if (d < double(lo) || d > double(hi)) bad(key, "'{}' must be in [{}, {}], found {}", key, lo, hi, d);
      return int64_t(d);
    }
    bad(key, "'{}' must be an integer, found {}", key, d);
  }
  if (!v.is_number_integer()) bad(key, "'{}' must be an integer, found {}", key, type_name(v));
  if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
    bad(key, "'{}' must be in [{}, {}], found {}", key, lo, hi, v.get<uint64_t>());
  const int64_t x = v.get<int64_t>();
  if (x < lo || x > hi) bad(key, "'{}' must be in [{}, {}], found {}", key, lo, hi, x);
  return x;
}

bool boolean(const json& body, const char* key) {
  const json& v = *field(body, key);
  if (!v.is_boolean()) bad(key, "'{}' must be a boolean, found {}", key, type_name(v));
  return v.get<bool>();
}

std::vector<int32_t> token_ids(const json& arr, const std::string& param) {
  std::vector<int32_t> ids;
  ids.reserve(arr.size());
  for (size_t i = 0; i < arr.size(); ++i) {
    const json& t = arr[i];
    if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() > std::numeric_limits<int32_t>::max())
      bad(param, "'{}[{}]' must be a token id (an integer >= 0), found {}", param, i, t.dump());
    ids.push_back(int32_t(t.get<int64_t>()));
  }
  return ids;
}

void read_prompt(const json& body, CompletionRequest& r) {
  const json* p = field(body, "prompt");
  if (!p) bad("prompt", "'prompt' is required");
  if (p->is_string()) {
    r.prompt = p->get<std::string>();
    return;
  }
  if (p->is_array()) {
    // A list of one string, or a list of token ids; several prompts are several requests.
    if (p->size() == 1 && (*p)[0].is_string()) {
      r.prompt = (*p)[0].get<std::string>();
      return;
    }
    if (!p->empty() && (*p)[0].is_string())
      bad("prompt", "one prompt per request: 'prompt' holds {} strings (send them as separate requests)", p->size());
    if (!p->empty() && (*p)[0].is_array())
      bad("prompt", "one prompt per request: 'prompt' holds {} lists of token ids", p->size());
    r.prompt_ids = token_ids(*p, "prompt");
    return;
  }
  bad("prompt", "'prompt' must be a string or an array of token ids, found {}", type_name(*p));
}

}  // namespace

std::vector<ChatMessage> parse_chat_messages(const json& messages) {
  if (!messages.is_array()) bad("messages", "'messages' must be an array of messages, found {}", type_name(messages));
  if (messages.empty()) bad("messages", "'messages' is empty");
  std::vector<ChatMessage> out;
  for (size_t i = 0; i < messages.size(); ++i) {
    const json& m = messages[i];
    const std::string at = fmt::format("messages[{}]", i);
    if (!m.is_object()) bad(at, "'{}' must be an object with 'role' and 'content', found {}", at, type_name(m));
    ChatMessage msg;
    auto role = m.find("role");
    if (role == m.end() || !role->is_string()) bad(at + ".role", "'{}.role' must be a string", at);
    msg.role = role->get<std::string>();
    auto content = m.find("content");
    if (content == m.end() || content->is_null()) {
      // An assistant turn may carry only tool calls; the text is then empty.
    } else if (content->is_string()) {
      msg.content = content->get<std::string>();
    } else if (content->is_array()) {
      for (size_t k = 0; k < content->size(); ++k) {
        const json& part = (*content)[k];
        const std::string pat = fmt::format("{}.content[{}]", at, k);
        if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") || !part["text"].is_string())
          bad(pat, "'{}' must be {{\"type\": \"text\", \"text\": ...}} (only text parts are supported)", pat);
        msg.content += part["text"].get<std::string>();
      }
    } else {
      bad(at + ".content", "'{}.content' must be a string or an array of text parts, found {}", at, type_name(*content));
    }
    out.push_back(std::move(msg));
  }
  return out;
}

CompletionRequest parse_completion_request(const json& body, RequestKind kind, const GenerationOptions& defaults,
                                           const RequestLimits& limits, uint64_t default_seed) {
  if (!body.is_object()) bad("", "the request body must be a JSON object, found {}", type_name(body));
  CompletionRequest r;
  r.generation = defaults;
  r.generation.max_new_tokens = -1;
  r.generation.sampling.seed = default_seed;
  if (kind == RequestKind::Completion) read_prompt(body, r);
  else {
    const json* m = field(body, "messages");
    if (!m) bad("messages", "'messages' is required");
    r.messages = parse_chat_messages(*m);
  }
  if (const json* v = field(body, "model")) {
    if (!v->is_string()) bad("model", "'model' must be a string, found {}", type_name(*v));
    r.model = v->get<std::string>();
  }
  if (field(body, "n") && integer(body, "n", 1, 1) != 1) bad("n", "only n = 1 is supported");
  if (field(body, "best_of") && integer(body, "best_of", 1, 1) != 1) bad("best_of", "only best_of = 1 is supported");
  if (field(body, "echo") && boolean(body, "echo")) bad("echo", "echo is not supported");
  if (field(body, "suffix")) bad("suffix", "suffix is not supported");

  // max_completion_tokens is the chat API's newer name for max_tokens.
  for (const char* key : {"max_tokens", "max_completion_tokens"})
    if (field(body, key)) r.generation.max_new_tokens = integer(body, key, 0, limits.max_tokens);

  SamplingOptions& s = r.generation.sampling;
  bool filters = false;
  if (field(body, "top_p")) s.top_p = float(number(body, "top_p", 0.0, 1.0, true)), filters = true;
  if (field(body, "top_k")) s.top_k = integer(body, "top_k", 0, std::numeric_limits<int32_t>::max()), filters = true;
  if (field(body, "min_p")) s.min_p = float(number(body, "min_p", 0.0, 1.0)), filters = true;
  if (filters) s.do_sample = true;
  if (field(body, "temperature")) {
    const double t = number(body, "temperature", 0.0, 100.0);
    s.do_sample = t > 0;
    if (t > 0) s.temperature = float(t);
  }
  if (field(body, "seed")) {
    const json& v = *field(body, "seed");
    if (v.is_number_unsigned()) s.seed = v.get<uint64_t>();
    else s.seed = uint64_t(integer(body, "seed", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()));
  }
  if (field(body, "presence_penalty")) s.presence_penalty = float(number(body, "presence_penalty", -2.0, 2.0));
  if (field(body, "frequency_penalty")) s.frequency_penalty = float(number(body, "frequency_penalty", -2.0, 2.0));
  if (field(body, "repetition_penalty"))
    s.repetition_penalty = float(number(body, "repetition_penalty", 0.0, 100.0, true));
  if (field(body, "ignore_eos")) r.generation.stop_at_eos = !boolean(body, "ignore_eos");

  if (const json* v = field(body, "stop")) {
    if (v->is_string()) r.stop.push_back(v->get<std::string>());
    else if (v->is_array()) {
      if (int64_t(v->size()) > limits.max_stop)
        bad("stop", "'stop' holds {} strings; at most {} are accepted", v->size(), limits.max_stop);
      for (size_t i = 0; i < v->size(); ++i) {
        if (!(*v)[i].is_string()) bad("stop", "'stop[{}]' must be a string, found {}", i, type_name((*v)[i]));
        r.stop.push_back((*v)[i].get<std::string>());
      }
    } else {
      bad("stop", "'stop' must be a string or an array of strings, found {}", type_name(*v));
    }
    for (const auto& s_ : r.stop)
      if (s_.empty()) bad("stop", "a stop string is empty");
  }

  // Completions: logprobs is the number of alternatives (0..max). Chat: logprobs is a boolean
  // and top_logprobs the number of alternatives.
  if (kind == RequestKind::Completion) {
    if (field(body, "logprobs")) r.generation.top_logprobs = integer(body, "logprobs", 0, limits.max_top_logprobs);
  } else {
    const bool on = field(body, "logprobs") && boolean(body, "logprobs");
    if (field(body, "top_logprobs")) {
      const int64_t k = integer(body, "top_logprobs", 0, limits.max_top_logprobs);
      if (!on) bad("top_logprobs", "'top_logprobs' needs 'logprobs': true");
      r.generation.top_logprobs = k;
    } else if (on) {
      r.generation.top_logprobs = 0;
    }
  }

  if (field(body, "stream")) r.stream = boolean(body, "stream");
  if (const json* so = field(body, "stream_options")) {
    if (!so->is_object()) bad("stream_options", "'stream_options' must be an object, found {}", type_name(*so));
    if (!r.stream) bad("stream_options", "'stream_options' is only allowed with 'stream': true");
    if (field(*so, "include_usage")) {
      if (!(*so)["include_usage"].is_boolean()) bad("stream_options.include_usage", "'stream_options.include_usage' must be a boolean");
      r.include_usage = (*so)["include_usage"].get<bool>();
    }
  }
  return r;
}

}  // namespace tessera
