// An OpenAI-style completion or chat request body (POST /v1/completions, /v1/chat/completions)
// read into generation options, with every field checked: a wrong type or value is a
// RequestError naming the parameter, which a server answers with HTTP 400.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tessera/core/error.hpp"
#include "tessera/generation/generate.hpp"

namespace tessera {

// A client's mistake in a request: `param` names the field ("max_tokens", "messages[2].role"),
// empty when the body as a whole is wrong. OpenAI's error object carries both.
class RequestError : public Error {
 public:
  RequestError(const std::string& message, std::string param) : Error(message), param_(std::move(param)) {}
  const std::string& param() const { return param_; }

 private:
  std::string param_;
};

struct ChatMessage {
  std::string role;     // system, user, assistant, tool, developer
  std::string content;  // text parts joined (OpenAI's content may be a list of {type: text} parts)
};

struct CompletionRequest {
  // /v1/completions: the prompt as text, or as token ids when the client sent ids.
  std::string prompt;
  std::optional<std::vector<int32_t>> prompt_ids;
  // /v1/chat/completions: the conversation (rendered by the model's chat template).
  std::vector<ChatMessage> messages;

  GenerationOptions generation;   // max_tokens unset: up to the context (max_new_tokens = -1)
  std::vector<std::string> stop;  // left out of the returned text, as OpenAI does
  bool stream = false;
  bool include_usage = false;     // stream_options.include_usage: a last chunk with usage
  std::string model;              // echoed back; any name is accepted (one model is served)
};

struct RequestLimits {
  int64_t max_tokens = 1 << 20;  // largest max_tokens accepted
  int64_t max_stop = 16;         // stop strings
  int64_t max_top_logprobs = 20;
};

enum class RequestKind { Completion, Chat };

// Reads `body` (already parsed JSON) on top of `defaults` (the model's generation defaults).
// temperature 0 means greedy; the sampling seed defaults to `default_seed`.
CompletionRequest parse_completion_request(const nlohmann::json& body, RequestKind kind,
                                           const GenerationOptions& defaults, const RequestLimits& limits,
                                           uint64_t default_seed);

// Reads a "messages" array (also /apply-template's body).
std::vector<ChatMessage> parse_chat_messages(const nlohmann::json& messages);

}  // namespace tessera
