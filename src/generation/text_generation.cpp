#include "tessera/generation/text_generation.hpp"

#include <algorithm>

namespace tessera {

TextGenerationResult generate_text(const Model& model, Session& session, const Tokenizer& tokenizer, std::string_view prompt,
                                   const GenerationOptions& options, const std::vector<std::string>& stop_strings,
                                   const TextCallback& on_text) {
  std::vector<int32_t> ids = tokenizer.encode(prompt, false).ids;
  if (ids.empty()) {
    std::optional<int32_t> bos = tokenizer.bos_id();
    if (model.info().bos_token_id) bos = int32_t(*model.info().bos_token_id);
    if (!bos) fail("the prompt is empty and neither the model nor the tokenizer names a BOS token to start from");
    ids.push_back(*bos);
  }
  return generate_text(model, session, tokenizer, ids, options, stop_strings, on_text);
}

TextGenerationResult generate_text(const Model& model, Session& session, const Tokenizer& tokenizer,
                                   std::span<const int32_t> ids, const GenerationOptions& options,
                                   const std::vector<std::string>& stop_strings, const TextCallback& on_text) {
  TextGenerationResult r;
  auto stream = tokenizer.stream_decoder(true);
  size_t longest_stop = 0;
  for (const auto& s : stop_strings) longest_stop = std::max(longest_stop, s.size());

  // Emits the text from `emitted` up to `end`, through the callback.
  size_t emitted = 0;
  bool keep_going = true;
  auto emit_until = [&](size_t end) {
    if (end > emitted) {
      if (on_text && !on_text(std::string_view(r.text).substr(emitted, end - emitted))) keep_going = false;
      emitted = end;
    }
  };

  r.generation = generate(model, session, ids, options, [&](int32_t token) {
    const size_t before = r.text.size();
    r.text += stream.push(token);
    // A stop string may straddle pieces: search from where a match could begin.
    const size_t from = before >= longest_stop ? before - longest_stop + 1 : 0;
    // The first stop string to complete wins (the leftmost when several complete with this
    // token); it cannot begin before `emitted`, as any tail it could start was held back.
    size_t cut = std::string::npos;
    for (const auto& s : stop_strings) {
      if (s.empty()) continue;
      size_t at = r.text.find(s, from);
      if (at != std::string::npos) cut = std::min(cut, at);
    }
    if (cut != std::string::npos) {
      r.text.resize(cut);
      r.stopped_by_string = true;
      emit_until(cut);
      return false;
    }
    // Hold back a tail that could still become a stop string.
    size_t safe = r.text.size() >= longest_stop ? r.text.size() - (longest_stop > 0 ? longest_stop - 1 : 0) : 0;
    while (safe > emitted && safe < r.text.size() && (static_cast<unsigned char>(r.text[safe]) & 0xC0) == 0x80) --safe;
    emit_until(std::max(safe, emitted));
    return keep_going;
  });
  if (!r.stopped_by_string) {
    r.text += stream.flush();
    emit_until(r.text.size());
  }
  return r;
}

}  // namespace tessera
