// Text in, text out: the token loop of generate.hpp plus a tokenizer, streaming decoded
// pieces that never split a UTF-8 character, and stop strings matched on the decoded text.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/generation/generate.hpp"
#include "tessera/text/tokenizer.hpp"

namespace tessera {

struct TextGenerationResult {
  std::string text;  // the generated text, cut just before the first stop string when one matched
                     // (the stop string itself is neither in text nor passed to the callback)
  GenerationResult generation;
  bool stopped_by_string = false;
};

// Called with each newly decoded piece of text (the pieces concatenate to result.text);
// return false to stop.
using TextCallback = std::function<bool(std::string_view piece)>;

// Encodes `prompt` (without special tokens; an empty prompt starts from the model's BOS),
// generates, and stops at EOS, max_new_tokens, a stop string (left out of the text, as
// OpenAI's API does) or the callback.
TextGenerationResult generate_text(const Model& model, Session& session, const Tokenizer& tokenizer, std::string_view prompt,
                                   const GenerationOptions& options, const std::vector<std::string>& stop_strings = {},
                                   const TextCallback& on_text = {});
// The same from token ids (the server's /tokenize ids, or a prompt it already counted).
TextGenerationResult generate_text(const Model& model, Session& session, const Tokenizer& tokenizer,
                                   std::span<const int32_t> prompt_ids, const GenerationOptions& options,
                                   const std::vector<std::string>& stop_strings = {}, const TextCallback& on_text = {});

}  // namespace tessera
