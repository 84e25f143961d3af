// Chat templates: the Jinja templates of Hugging Face tokenizers (tokenizer_config.json's
// "chat_template", GGUF's tokenizer.chat_template) rendered exactly as transformers'
// apply_chat_template renders them with Python's jinja2 (ImmutableSandboxedEnvironment,
// trim_blocks, lstrip_blocks, loopcontrols; raise_exception, strftime_now, tojson).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tessera {

class Tokenizer;

// Bounds on one rendering, so that a hostile template ends in an Error instead of a hang or
// an exhausted machine. Ranges are also capped at 100000 items, as jinja2's sandbox does.
struct ChatTemplateLimits {
  size_t max_output_bytes = size_t(16) << 20;   // the rendered text, and any captured block
  size_t max_string_bytes = size_t(64) << 20;  // all strings and lists built while rendering
  int64_t max_steps = 5'000'000;               // expression evaluations and loop iterations
  int max_call_depth = 200;                     // nested macro calls
  int max_nesting = 200;                        // nested blocks and expressions in the source
};

// A parsed template, reusable and safe to render from many threads at once.
class ChatTemplate {
 public:
  // Throws Error "ORIGIN:LINE:COLUMN: syntax error: ..." (and for unknown filters or tests,
  // which jinja2 also refuses when it compiles the template).
  explicit ChatTemplate(std::string_view source, std::string origin = "chat template",
                        ChatTemplateLimits limits = {});
  ChatTemplate(ChatTemplate&&) noexcept;
  ChatTemplate& operator=(ChatTemplate&&) noexcept;
  ~ChatTemplate();

  // Renders with the variables of `context` (a JSON object: messages, add_generation_prompt,
  // bos_token, tools, ...). Keys keep their order, which tojson output shows. Errors of the
  // template (raise_exception, undefined values used, type errors, limits) are Errors that
  // name the origin, line and column; raise_exception's message is quoted verbatim.
  std::string render(const nlohmann::ordered_json& context) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The variables transformers passes: messages, add_generation_prompt, tools = None and
// documents = None unless given, then every key of extra_context (bos_token, eos_token,
// enable_thinking, date_string, tools, ...), which wins over the defaults.
nlohmann::ordered_json chat_template_context(const nlohmann::ordered_json& messages, bool add_generation_prompt,
                                             const nlohmann::ordered_json& extra_context = nlohmann::ordered_json::object());

// The tokenizer's special tokens as transformers passes them to templates: bos_token,
// eos_token and pad_token where the tokenizer has them (a missing one stays undefined).
nlohmann::ordered_json chat_template_special_tokens(const Tokenizer& tokenizer);

// Renders `template_source` for a conversation given as JSON text (a list of
// {"role": ..., "content": ...}); extra_context_json is a JSON object or empty.
std::string render_chat_template(std::string_view template_source, std::string_view messages_json,
                                 bool add_generation_prompt, std::string_view extra_context_json = {});

// The same with the tokenizer's own template (Error when it has none) and its special tokens
// as bos_token / eos_token / pad_token / unk_token (transformers passes its special tokens
// map; a token the tokenizer lacks stays undefined). extra_context wins over them.
std::string apply_chat_template(const Tokenizer& tokenizer, std::string_view messages_json,
                                bool add_generation_prompt, std::string_view extra_context_json = {});
// The same with parsed JSON (what a server holding the request as JSON calls).
std::string apply_chat_template_json(const Tokenizer& tokenizer, const nlohmann::ordered_json& messages,
                                     bool add_generation_prompt,
                                     const nlohmann::ordered_json& extra_context = nlohmann::ordered_json::object());

}  // namespace tessera
