// tessera-translate: text to text with an encoder-decoder checkpoint (Marian, BART, mBART, Pegasus, T5, mT5) and
// beam search, with the generation settings of the model's generation_config.json.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "command_line.hpp"
#include "tessera/generation/beam_search.hpp"
#include "tessera/io/mmap.hpp"
#include "model_options.hpp"
#include "tessera/tessera.hpp"
#include "version_flag.hpp"

using namespace tessera;

int main(int argc, char** argv) {
  CLI::App app{
      "Translate (or summarise, or any text-to-text task) with a Hugging Face encoder-decoder model\n"
      "directory (config.json + *.safetensors + tokenizer.json): Marian, BART, mBART, Pegasus, T5, mT5.\n"
      "Beam search follows the model's generation_config.json unless overridden (mBART-50's target\n"
      "language is its forced_bos_token_id). T5 expects its task prefix in the text,\n"
      "e.g. \"translate English to German: ...\".",
      "tessera-translate"};
  tools::ModelOptions mo;
  std::string& model_dir = mo.path;
  std::string text;
  int64_t beams = 0, max_new = 0, n_best = 1;
  float length_penalty = NAN;
  int threads = 0;
  bool print_ids = false;
  tools::add_model_options(app, mo, "the encoder-decoder model");
  app.add_option("--text", text, "the source text")->required();
  app.add_option("--beams", beams, "beam width (default: num_beams of generation_config.json, else 4)")->check(CLI::Range(1, 64));
  app.add_option("--max-new-tokens", max_new, "limit on generated tokens");
  app.add_option("--length-penalty", length_penalty, "exponent of the length normalisation");
  app.add_option("--n-best", n_best, "print this many hypotheses with their scores")->check(CLI::Range(1, 64));
  app.add_flag("--ids", print_ids, "also print the token ids");
  app.add_option("-t,--threads", threads, "threads (default: all cores)");
  tessera::tools::add_version_flag(app, "tessera-translate");
  TESSERA_PARSE_COMMAND_LINE(app, argc, argv);

  try {
    if (threads > 0) set_num_threads(threads);
    auto model = tools::load_model(mo);
    if (model->info().kind != ModelKind::EncoderDecoder)
      fail("{}: an encoder-decoder model is needed, this is a {} model", model_dir, model->info().family);
    if (!file_exists(model_dir + "/tokenizer.json"))
      fail("{}: no tokenizer.json (convert the model's tokenizer with Hugging Face tokenizers first)", model_dir);
    Tokenizer tok = Tokenizer::from_file(model_dir + "/tokenizer.json");
    Encoding enc = tok.encode(text, /*add_special_tokens=*/true);
    if (enc.ids.empty()) fail("the text encodes to no tokens");

    BeamSearchOptions opt = BeamSearchOptions::for_model(*model);
    if (beams > 0) opt.num_beams = beams;
    else if (opt.num_beams < 2) opt.num_beams = 4;
    if (!std::isnan(length_penalty)) opt.length_penalty = length_penalty;
    opt.num_return_sequences = std::min(n_best, opt.num_beams);

    auto session = model->new_session();
    model->set_source(*session, enc.ids);
    std::vector<int32_t> prompt{int32_t(*model->info().decoder_start_token_id)};
    const int64_t room = session->capacity();
    if (max_new > 0) opt.max_new_tokens = max_new;
    opt.max_new_tokens = std::min(opt.max_new_tokens, room);
    auto result = beam_search(*model, *session, prompt, opt);
    for (const auto& h : result.hypotheses) {
      std::string line = tok.decode(h.tokens, /*skip_special_tokens=*/true);
      if (opt.num_return_sequences > 1) line = fmt::format("{:.4f}\t{}", h.score, line);
      if (print_ids) {
        std::string s;
        for (int32_t id : h.tokens) s += (s.empty() ? "" : " ") + std::to_string(id);
        line += "\t[" + s + "]";
      }
      fmt::print("{}\n", line);
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "tessera-translate: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
