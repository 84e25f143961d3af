// Tokenizer::from_json on fuzzed tokenizer.json text; a tokenizer that loads must encode and
// decode a fixed text.
#include <string_view>

#include "tessera/core/error.hpp"
#include "tessera/text/tokenizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto tok = tessera::Tokenizer::from_json(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.json");
    auto e = tok.encode("Hello, wörld! ab ba  \t123 <s> [CLS] 東京 🙂", true);
    auto p = tok.encode_pair("ab", "ba", true);
    (void)tok.decode(e.ids, false);
    (void)tok.decode(p.ids, true);
    auto stream = tok.stream_decoder();
    for (int32_t id : e.ids) (void)stream.push(id);
  } catch (const tessera::Error&) {
  }
  return 0;
}
