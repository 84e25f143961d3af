// models/pycode-6m's byte-level BPE tokenizer on fuzzed text: invalid UTF-8 is an Error;
// valid text must round-trip exactly (decode(encode(text)) == text) with offsets in bounds.
#include <string>
#include <string_view>

#include "tessera/core/error.hpp"
#include "tessera/text/tokenizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const tessera::Tokenizer tok = tessera::Tokenizer::from_file(std::string(TESSERA_MODELS_DIR) + "/pycode-6m");
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  tessera::Encoding e;
  try {
    e = tok.encode(text, false);
  } catch (const tessera::Error&) {
    return 0;  // not UTF-8
  }
  for (const auto& [b, end] : e.offsets)
    if (b > end || end > size) __builtin_trap();
  if (tok.decode(e.ids, false) != text) __builtin_trap();
  auto stream = tok.stream_decoder(/*skip_special_tokens=*/false);
  std::string streamed;
  for (int32_t id : e.ids) streamed += stream.push(id);
  streamed += stream.flush();  // a text ending in U+FFFD is held back until flushed, as in tokenizers
  if (streamed != text) __builtin_trap();
  return 0;
}
