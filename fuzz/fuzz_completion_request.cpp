// tessera-server's request parsing on fuzzed bodies: the bytes as JSON (depth-bounded, as the
// server parses them), then as a completion and as a chat request, and their "messages". Any
// input must give a request or a tessera::Error (a RequestError naming the field).
#include <string>

#include "tessera/core/error.hpp"
#include "tessera/io/json.hpp"
#include "tessera/serving/completion_request.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlohmann::json body;
  try {
    body = tessera::parse_json(std::string(reinterpret_cast<const char*>(data), size), "fuzz request");
  } catch (const tessera::Error&) {
    return 0;
  }
  const tessera::GenerationOptions defaults;
  const tessera::RequestLimits limits;
  for (auto kind : {tessera::RequestKind::Completion, tessera::RequestKind::Chat}) {
    try {
      (void)tessera::parse_completion_request(body, kind, defaults, limits, 1);
    } catch (const tessera::Error&) {
    }
  }
  if (body.is_object() && body.contains("messages")) {
    try {
      (void)tessera::parse_chat_messages(body["messages"]);
    } catch (const tessera::Error&) {
    }
  }
  return 0;
}
