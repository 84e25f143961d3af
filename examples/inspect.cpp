// tessera-inspect: what a model (directory or GGUF file) holds — family, config, tensors,
// dtypes (GGUF block types included), sizes.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <map>

#include "command_line.hpp"
#include "model_options.hpp"
#include "tessera/io/gguf.hpp"
#include "tessera/io/json.hpp"
#include "tessera/io/mmap.hpp"
#include "tessera/tessera.hpp"
#include "version_flag.hpp"

using namespace tessera;

int main(int argc, char** argv) {
  CLI::App app{"Show what a model (a Hugging Face directory or a GGUF file) holds and whether tessera can run it.",
               "tessera-inspect"};
  tools::ModelOptions mo;
  std::string& dir = mo.path;
  bool tensors = false;
  tools::add_model_options(app, mo, "the model");
  app.add_flag("--tensors", tensors, "list every tensor with its dtype and shape");
  tessera::tools::add_version_flag(app, "tessera-inspect");
  TESSERA_PARSE_COMMAND_LINE(app, argc, argv);
  try {
    const bool gguf = is_gguf_file(dir);
    std::string source;
    size_t n_tensors = 0;
    std::map<std::string, int> types;  // tensor count per dtype
    if (gguf) {
      auto file = GgufFile::open(dir);
      source = fmt::format("{} (GGUF v{}, {} metadata keys)", dir, file.version(), file.keys().size());
      for (const auto& name : file.tensor_names()) {
        const auto& t = file.tensor_info(name);
        ++types[std::string(dtype_name(t.dtype))];
        if (tensors) fmt::print("  {:<60} {:<5} {}\n", name, dtype_name(t.dtype), shape_str(t.shape));
      }
      n_tensors = file.tensor_names().size();
    } else {
      auto store = WeightStore::open_dir(dir);
      for (const auto& name : store.names()) {
        Tensor t = store.get(name);
        ++types[std::string(dtype_name(t.dtype()))];
        if (tensors) fmt::print("  {:<60} {:<5} {}\n", name, dtype_name(t.dtype()), shape_str(t.shape()));
      }
      source = store.source();
      n_tensors = store.names().size();
    }
    auto model = tools::load_model(mo);
    const ModelInfo& i = model->info();
    const char* kind = i.kind == ModelKind::Decoder ? "decoder" : i.kind == ModelKind::Encoder ? "encoder" : "encoder-decoder";
    fmt::print("model:        {}\n", dir);
    fmt::print("family:       {} ({}, {})\n", i.family, i.architecture, kind);
    fmt::print("layers:       {}\nhidden size:  {}\nvocabulary:   {}\n", i.num_layers, i.hidden_size, i.vocab_size);
    if (i.max_positions) fmt::print("positions:    {}\n", i.max_positions);
    fmt::print("tensors:      {} in {}\n", n_tensors, source);
    std::string by_type;
    for (const auto& [t, n] : types) by_type += fmt::format("{}{} {}", by_type.empty() ? "" : ", ", n, t);
    fmt::print("tensor types: {}\n", by_type);
    fmt::print("parameters:   {} ({:.2f} M)\n", i.parameters, double(i.parameters) / 1e6);
    fmt::print("weights:      {} bytes ({:.1f} MiB), dtype {}\n", i.weight_bytes, double(i.weight_bytes) / (1 << 20), i.weight_dtype);
    if (i.kind != ModelKind::Encoder)
      fmt::print("KV cache:     {} bytes a position f16 (default), {} bf16, {} q8_0, {} f32\n",
                 model->kv_cache_bytes_per_position(DType::F16), model->kv_cache_bytes_per_position(DType::BF16),
                 model->kv_cache_bytes_per_position(DType::Q8_0), model->kv_cache_bytes_per_position(DType::F32));
    if (i.bos_token_id) fmt::print("bos id:       {}\n", *i.bos_token_id);
    if (!i.eos_token_ids.empty()) fmt::print("eos ids:      {}\n", fmt::join(i.eos_token_ids, ", "));
    if (gguf || file_exists(dir + "/tokenizer.json")) {
      auto tok = Tokenizer::from_file(dir);
      fmt::print("tokenizer:    {}, {} ids\n", gguf ? "GGUF metadata" : "tokenizer.json", tok.vocab_size());
    } else {
      fmt::print("tokenizer:    none (no tokenizer.json)\n");
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "tessera-inspect: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
