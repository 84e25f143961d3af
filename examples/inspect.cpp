// tessera-inspect: what a model directory holds — family, config, tensors, dtypes, sizes.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "tessera/io/json.hpp"
#include "tessera/io/mmap.hpp"
#include "tessera/tessera.hpp"

using namespace tessera;

int main(int argc, char** argv) {
  CLI::App app{"Show what a Hugging Face model directory holds and whether tessera can run it.", "tessera-inspect"};
  std::string dir;
  bool tensors = false;
  app.add_option("MODEL_DIR", dir, "model directory")->required();
  app.add_flag("--tensors", tensors, "list every tensor with its dtype and shape");
  CLI11_PARSE(app, argc, argv);
  try {
    auto store = WeightStore::open_dir(dir);
    if (tensors) {
      for (const auto& name : store.names()) {
        Tensor t = store.get(name);
        fmt::print("  {:<60} {:<5} {}\n", name, dtype_name(t.dtype()), shape_str(t.shape()));
      }
    }
    auto model = load(dir);
    const ModelInfo& i = model->info();
    const char* kind = i.kind == ModelKind::Decoder ? "decoder" : i.kind == ModelKind::Encoder ? "encoder" : "encoder-decoder";
    fmt::print("model:        {}\n", dir);
    fmt::print("family:       {} ({}, {})\n", i.family, i.architecture, kind);
    fmt::print("layers:       {}\nhidden size:  {}\nvocabulary:   {}\n", i.num_layers, i.hidden_size, i.vocab_size);
    if (i.max_positions) fmt::print("positions:    {}\n", i.max_positions);
    fmt::print("tensors:      {} in {}\n", store.names().size(), store.source());
    fmt::print("parameters:   {} ({:.2f} M)\n", i.parameters, double(i.parameters) / 1e6);
    fmt::print("weights:      {} bytes ({:.1f} MiB), dtype {}\n", i.weight_bytes, double(i.weight_bytes) / (1 << 20), i.weight_dtype);
    if (i.bos_token_id) fmt::print("bos id:       {}\n", *i.bos_token_id);
    if (!i.eos_token_ids.empty()) fmt::print("eos ids:      {}\n", fmt::join(i.eos_token_ids, ", "));
    if (file_exists(dir + "/tokenizer.json")) {
      auto tok = Tokenizer::from_file(dir);
      fmt::print("tokenizer:    tokenizer.json, {} ids\n", tok.vocab_size());
    } else {
      fmt::print("tokenizer:    none (no tokenizer.json)\n");
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "tessera-inspect: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
