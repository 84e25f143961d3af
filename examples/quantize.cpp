// tessera-quantize: a Hugging Face decoder checkpoint → a GGUF file that llama.cpp (and
// tessera) load, every weight matrix quantized with ggml's reference quantizers.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "command_line.hpp"
#include "tessera/models/gguf_export.hpp"
#include "tessera/tessera.hpp"
#include "version_flag.hpp"

using namespace tessera;

int main(int argc, char** argv) {
  CLI::App app{"Write a Hugging Face decoder checkpoint (llama, mistral, mixtral, qwen2, qwen3, gemma) as a GGUF file, weight matrices\n"
               "quantized to TYPE: the bytes llama.cpp's converter followed by `llama-quantize --pure TYPE` writes.\n\n"
               "Example:\n  tessera-quantize models/pycode-6m pycode-6m-q4_k.gguf q4_k",
               "tessera-quantize"};
  std::string dir, out, type_name;
  app.add_option("MODEL_DIR", dir, "Hugging Face model directory (config.json, *.safetensors, tokenizer.json)")->required();
  app.add_option("OUT", out, "the GGUF file to write")->required();
  app.add_option("TYPE", type_name, "f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q2_k, q3_k, q4_k, q5_k, q6_k")->required();
  tessera::tools::add_version_flag(app, "tessera-quantize");
  TESSERA_PARSE_COMMAND_LINE(app, argc, argv);
  try {
    GgufExportOptions o;
    o.type = quant_type_from_name(type_name);
    const bool tty = isatty(2);
    o.progress = [tty](size_t done, size_t total) {
      if (tty) fmt::print(stderr, "\rtessera-quantize: {}/{} tensors", done, total);
    };
    export_gguf(dir, out, o);
    if (tty) fmt::print(stderr, "\n");
    fmt::print("wrote {} ({})\n", out, dtype_name(o.type));
  } catch (const std::exception& e) {
    fmt::print(stderr, "tessera-quantize: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
