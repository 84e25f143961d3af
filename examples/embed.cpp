// tessera-embed: sentence embeddings from a text encoder (BERT, RoBERTa, XLM-RoBERTa, DistilBERT, ModernBERT,
// sentence-transformers checkpoints): one line of text in, one vector out, mean or CLS pooled, optionally L2-normalised.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <fstream>
#include <iostream>

#include "command_line.hpp"
#include "tessera/io/json.hpp"
#include "tessera/io/mmap.hpp"
#include "tessera/models/embedding_pooling.hpp"
#include "embedding_options.hpp"
#include "model_options.hpp"
#include "tessera/tessera.hpp"
#include "version_flag.hpp"

using namespace tessera;

namespace {

void print_row(const float* v, int64_t n, bool tsv) {
  std::string line = tsv ? "" : "[";
  for (int64_t i = 0; i < n; ++i) {
    if (i) line += tsv ? "\t" : ", ";
    line += fmt::format("{}", v[i]);  // shortest text that reads back as the same float
  }
  if (!tsv) line += "]";
  line += "\n";
  std::fwrite(line.data(), 1, line.size(), stdout);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Embed lines of text with a text encoder (BERT, RoBERTa, XLM-RoBERTa, DistilBERT, ModernBERT): one vector per\n"
      "input line, in input order.\n\n"
      "Each line is tokenized with MODEL/tokenizer.json (special tokens added, truncated to the model's\n"
      "positions or sentence_bert_config.json's max_seq_length), encoded, and pooled: 'mean' averages every\n"
      "token vector of the line ([CLS]/[SEP] included, as sentence-transformers), 'cls' takes the first one.\n"
      "Defaults follow sentence-transformers files when present (1_Pooling/config.json; a Normalize module in\n"
      "modules.json turns on --normalize), else mean pooling without normalisation.\n"
      "Output: a JSON array per line (default) or tab-separated values (--format tsv).",
      "tessera-embed"};
  tools::ModelOptions mo;
  std::string& model_dir = mo.path;
  std::string input_path, pooling_name, format = "json";
  bool normalize = false, no_normalize = false;
  int64_t batch = 32, max_length = 0;
  int threads = 0;
  tools::add_model_options(app, mo, "the encoder (config.json, *.safetensors, tokenizer.json)");
  app.add_option("-i,--input", input_path, "read lines from FILE instead of standard input");
  app.add_option("--pooling", pooling_name, "mean or cls (default: the model's 1_Pooling config, else mean)")
      ->check(CLI::IsMember({"mean", "cls"}));
  app.add_flag("--normalize", normalize, "L2-normalise every embedding");
  app.add_flag("--no-normalize", no_normalize, "do not normalise even if modules.json asks for it");
  app.add_option("--format", format, "json or tsv")->check(CLI::IsMember({"json", "tsv"}));
  app.add_option("--batch", batch, "lines encoded together (default 32)")->check(CLI::PositiveNumber);
  app.add_option("--max-length", max_length, "truncate to this many tokens (default: what the model allows)")
      ->check(CLI::PositiveNumber);
  app.add_option("-t,--threads", threads, "threads (default: all cores)");
  tessera::tools::add_version_flag(app, "tessera-embed");
  TESSERA_PARSE_COMMAND_LINE(app, argc, argv);

  try {
    if (threads > 0) set_num_threads(threads);
    auto model = tools::load_model(mo);
    if (model->info().kind != ModelKind::Encoder)
      fail("{} is a {} model ({}); tessera-embed needs a text encoder such as BERT or RoBERTa", model_dir,
           model->info().family, model->info().architecture);
    Tokenizer tokenizer = Tokenizer::from_file(model_dir);
    const Pooling pooling = parse_pooling(pooling_name.empty() ? tools::pooling_from_model(model_dir).value_or("mean") : pooling_name);
    const bool do_normalize = !no_normalize && (normalize || tools::normalize_from_model(model_dir));

    // The model cannot see more positions than it has; the tokenizer must truncate to that
    // (with its own special tokens kept) rather than fail on long lines.
    int64_t limit = model->info().max_positions;
    if (max_length == 0) max_length = tools::max_length_from_model(model_dir);
    if (max_length > 0 && (limit <= 0 || max_length < limit)) limit = max_length;
    TruncationParams trunc = tokenizer.truncation().value_or(TruncationParams{});
    if (limit > 0 && (!tokenizer.truncation() || int64_t(trunc.max_length) > limit)) trunc.max_length = size_t(limit);
    tokenizer.set_truncation(trunc);
    tokenizer.set_padding(std::nullopt);  // sequences run packed; padding would be computed

    std::ifstream file;
    if (!input_path.empty()) {
      file.open(input_path);
      if (!file) fail("{}: cannot open for reading", input_path);
    }
    std::istream& in = input_path.empty() ? std::cin : file;
    std::vector<std::string> lines;
    auto flush = [&]() {
      if (lines.empty()) return;
      auto encodings = tokenizer.encode_batch(lines);
      std::vector<std::vector<int32_t>> ids;
      std::vector<int64_t> lengths;
      for (auto& e : encodings) {
        lengths.push_back(int64_t(e.ids.size()));
        ids.push_back(std::move(e.ids));
      }
      Tensor hidden = model->encode(ids);
      Tensor pooled = pool_embeddings(hidden, lengths, pooling, do_normalize);
      for (int64_t r = 0; r < pooled.dim(0); ++r)
        print_row(pooled.data<float>() + r * pooled.dim(1), pooled.dim(1), format == "tsv");
      lines.clear();
    };
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      lines.push_back(line);
      if (int64_t(lines.size()) >= batch) flush();
    }
    flush();
    std::fflush(stdout);
  } catch (const std::exception& e) {
    fmt::print(stderr, "tessera-embed: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
