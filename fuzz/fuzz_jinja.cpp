// ChatTemplate on fuzzed template text: parse, then render for a fixed conversation (system,
// user, assistant with a tool call, tool result) with tools and special tokens. Any input must
// end in text or a tessera::Error, within the (reduced) limits below.
#include <string_view>

#include "tessera/core/error.hpp"
#include "tessera/text/chat_template.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const nlohmann::ordered_json context = tessera::chat_template_context(
      nlohmann::ordered_json::parse(R"([
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": "Hi \"there\" — 🙂\n  "},
        {"role": "assistant", "content": "", "tool_calls": [{"id": "call00001", "type": "function",
          "function": {"name": "f", "arguments": {"x": 1.5, "y": [true, null]}}}]},
        {"role": "tool", "content": "{\"ok\": 1}"},
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "what?"}]}])"),
      true,
      nlohmann::ordered_json::parse(R"({"bos_token": "<s>", "eos_token": "</s>", "enable_thinking": false,
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]})"));
  tessera::ChatTemplateLimits limits;
  limits.max_output_bytes = 1 << 20;
  limits.max_string_bytes = 8 << 20;
  limits.max_steps = 200000;
  try {
    const tessera::ChatTemplate tpl(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.jinja", limits);
    (void)tpl.render(context);
  } catch (const tessera::Error&) {
  }
  return 0;
}
