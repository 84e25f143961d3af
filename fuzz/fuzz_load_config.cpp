// load_from with a fuzzed config.json and a fixed checkpoint (tests/data/hf/llama); a model
// that loads must also decode a few tokens within a small context.
#include <string>

#include <cstdlib>

#include "fuzz_util.hpp"
#include "tessera/io/json.hpp"
#include "tessera/models/load.hpp"
#include "tessera/models/model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const tessera::WeightStore store =
      tessera::WeightStore::from_file(tessera::fuzz::data_dir() + "/hf/llama/model.safetensors");
  try {
    tessera::JsonObject cfg(tessera::parse_json(std::string(reinterpret_cast<const char*>(data), size), "config.json"),
                            "config.json");
    auto model = tessera::load_from(cfg, store, "fuzz");
    // TESSERA_FUZZ_NO_DECODE=1 explores the loaders alone (e.g. while a kernel finding is open).
    static const bool decode = std::getenv("TESSERA_FUZZ_NO_DECODE") == nullptr;
    if (!decode) return 0;
    auto session = model->new_session({.max_context = 8});
    tessera::Tensor logits;
    const int32_t ids[] = {1, 2, 3};
    model->decode(*session, ids, logits, true);
  } catch (const tessera::Error&) {
  }
  return 0;
}
