// tessera::ChatTemplate over the Jinja engine in src/text/jinja, and the transformers-style
// context (messages, add_generation_prompt, tools, documents, special tokens).
#include "tessera/text/chat_template.hpp"

#include "tessera/core/error.hpp"
#include "tessera/io/json.hpp"
#include "tessera/text/tokenizer.hpp"
#include "jinja/interpreter.hpp"
#include "jinja/parser.hpp"

namespace tessera {

struct ChatTemplate::Impl {
  std::string origin;
  jinja::Limits limits;
  jinja::Template tpl;
};

ChatTemplate::ChatTemplate(std::string_view source, std::string origin, ChatTemplateLimits limits)
    : impl_(std::make_unique<Impl>()) {
  impl_->origin = std::move(origin);
  impl_->limits = jinja::Limits{limits.max_output_bytes, limits.max_string_bytes, limits.max_steps,
                                limits.max_call_depth, limits.max_nesting};
  impl_->tpl = jinja::parse_template(source, impl_->origin, limits.max_nesting);
}

ChatTemplate::ChatTemplate(ChatTemplate&&) noexcept = default;
ChatTemplate& ChatTemplate::operator=(ChatTemplate&&) noexcept = default;
ChatTemplate::~ChatTemplate() = default;

std::string ChatTemplate::render(const nlohmann::ordered_json& context) const {
  if (!context.is_object()) fail("{}: the template context must be a JSON object, found {}", impl_->origin, context.type_name());
  const jinja::Value ctx = jinja::from_json(context);
  jinja::Interpreter in(impl_->tpl, impl_->origin, impl_->limits);
  return in.render(ctx.dict());
}

nlohmann::ordered_json chat_template_context(const nlohmann::ordered_json& messages, bool add_generation_prompt,
                                             const nlohmann::ordered_json& extra) {
  if (!extra.is_object()) fail("chat template: the extra context must be a JSON object, found {}", extra.type_name());
  nlohmann::ordered_json ctx = nlohmann::ordered_json::object();
  ctx["messages"] = messages;
  ctx["tools"] = nullptr;
  ctx["documents"] = nullptr;
  ctx["add_generation_prompt"] = add_generation_prompt;
  for (auto it = extra.begin(); it != extra.end(); ++it) ctx[it.key()] = it.value();
  return ctx;
}

namespace {

nlohmann::ordered_json parse_messages(std::string_view text) {
  auto j = parse_ordered_json(std::string(text), "chat messages");
  if (!j.is_array()) fail("chat messages: expected a JSON list of messages, found {}", j.type_name());
  return j;
}

nlohmann::ordered_json parse_extra(std::string_view text) {
  if (text.empty()) return nlohmann::ordered_json::object();
  auto j = parse_ordered_json(std::string(text), "chat template extra context");
  if (!j.is_object()) fail("chat template extra context: expected a JSON object, found {}", j.type_name());
  return j;
}

}  // namespace

std::string render_chat_template(std::string_view template_source, std::string_view messages_json,
                                 bool add_generation_prompt, std::string_view extra_context_json) {
  const ChatTemplate tpl(template_source);
  return tpl.render(chat_template_context(parse_messages(messages_json), add_generation_prompt, parse_extra(extra_context_json)));
}

nlohmann::ordered_json chat_template_special_tokens(const Tokenizer& tokenizer) {
  nlohmann::ordered_json specials = nlohmann::ordered_json::object();
  auto add = [&](const char* key, std::optional<int32_t> id) {
    if (id) specials[key] = tokenizer.id_to_token(*id);
  };
  add("bos_token", tokenizer.bos_id());
  add("eos_token", tokenizer.eos_id());
  add("pad_token", tokenizer.pad_id());
  return specials;
}

std::string apply_chat_template_json(const Tokenizer& tokenizer, const nlohmann::ordered_json& messages,
                                     bool add_generation_prompt, const nlohmann::ordered_json& extra) {
  const auto& source = tokenizer.chat_template();
  if (!source) fail("the tokenizer has no chat template (tokenizer_config.json has no \"chat_template\")");
  nlohmann::ordered_json specials = chat_template_special_tokens(tokenizer);
  if (!extra.is_object()) fail("chat template: the extra context must be a JSON object, found {}", extra.type_name());
  for (auto it = extra.begin(); it != extra.end(); ++it) specials[it.key()] = it.value();
  const ChatTemplate tpl(*source, "tokenizer chat template");
  return tpl.render(chat_template_context(messages, add_generation_prompt, specials));
}

std::string apply_chat_template(const Tokenizer& tokenizer, std::string_view messages_json, bool add_generation_prompt,
                                std::string_view extra_context_json) {
  return apply_chat_template_json(tokenizer, parse_messages(messages_json), add_generation_prompt,
                                  parse_extra(extra_context_json));
}

}  // namespace tessera
