// tessera-forward: the parity tool. Reads inputs by Hugging Face argument names from a
// safetensors file, runs the model, writes outputs by Hugging Face output names (f32), so
// users can compare tessera with their own PyTorch runs tensor by tensor.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "command_line.hpp"
#include "model_options.hpp"
#include "tessera/tessera.hpp"
#include "version_flag.hpp"

using namespace tessera;

int main(int argc, char** argv) {
  CLI::App app{
      "Run a model on inputs given by Hugging Face argument names and write its outputs by Hugging Face\n"
      "output names (f32; ids as int64).\n\n"
      "Decoders:         input_ids [+ attention_mask] -> logits; prompt_ids -> generated_ids (--generate)\n"
      "Encoders:         input_ids [+ attention_mask, token_type_ids] or pixel_values\n"
      "                  -> last_hidden_state [+ pooler_output, logits]\n"
      "Encoder-decoders: input_ids or input_features, decoder_input_ids -> logits, encoder_last_hidden_state;\n"
      "                  --generate N: greedy from the decoder start token -> generated_ids\n"
      "Only right padding is supported in attention_mask; outputs at padded positions are zero.",
      "tessera-forward"};
  tools::ModelOptions mo;
  std::string inputs_path, outputs_path;
  int64_t generate_n = -1;
  int threads = 0;
  tools::add_model_options(app, mo, "the model");
  tools::add_kv_type_option(app, mo);
  tools::add_depth_options(app, mo);
  app.add_option("INPUTS", inputs_path, "safetensors file with the inputs")->required();
  app.add_option("OUTPUTS", outputs_path, "safetensors file to write")->required();
  app.add_option("--generate", generate_n, "also run greedy generation of N new tokens (EOS ignored) -> generated_ids");
  app.add_option("-t,--threads", threads, "threads (default: all cores)");
  tessera::tools::add_version_flag(app, "tessera-forward");
  TESSERA_PARSE_COMMAND_LINE(app, argc, argv);

  try {
    if (threads > 0) set_num_threads(threads);
    auto model = tools::load_model(mo);
    auto file = SafetensorsFile::open(inputs_path);
    std::map<std::string, Tensor> inputs;
    for (const auto& name : file.names()) inputs[name] = file.get(name);
    auto outputs = model->forward_named(inputs, generate_n, mo.session_options());
    if (outputs.empty())
      fail("{}: nothing to compute: the file has none of the inputs this {} model takes (see --help)", inputs_path,
           model->info().family);
    save_safetensors(outputs_path, outputs);
    for (const auto& [name, t] : outputs) fmt::print("{} {} {}\n", name, dtype_name(t.dtype()), shape_str(t.shape()));
  } catch (const std::exception& e) {
    fmt::print(stderr, "tessera-forward: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
