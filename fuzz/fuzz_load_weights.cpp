// load_from with a fixed config (the tiny Llama of tests/data/hostile/models/ok) and fuzzed
// safetensors bytes as the checkpoint; a model that loads must also decode.
#include <cstdlib>

#include "fuzz_util.hpp"
#include "tessera/io/json.hpp"
#include "tessera/models/load.hpp"
#include "tessera/models/model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const tessera::JsonObject cfg(
      tessera::load_json_file(tessera::fuzz::data_dir() + "/hostile/models/ok/config.json"), "config.json");
  tessera::fuzz::MemFile file(data, size);
  try {
    auto store = tessera::WeightStore::from_file(file.path());
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
