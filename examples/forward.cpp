// tessera-forward: the parity tool. Reads inputs by Hugging Face argument names from a
// safetensors file, runs the model, writes outputs by Hugging Face output names (f32), so
// users can compare tessera with their own PyTorch runs tensor by tensor.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <map>

#include "tessera/tessera.hpp"

using namespace tessera;

namespace {

// Rows of a [B, L] integer tensor, cut to the real tokens of a right-padded attention_mask.
std::vector<std::vector<int32_t>> rows_of(const Tensor& ids, const Tensor* mask, const std::string& name) {
  if (ids.rank() != 2) fail("input '{}': expected rank 2 [batch, length], found shape {}", name, shape_str(ids.shape()));
  const int64_t b = ids.dim(0), l = ids.dim(1);
  std::vector<int64_t> v = ids.to_i64(), m;
  if (mask) {
    if (mask->shape() != ids.shape())
      fail("input 'attention_mask': shape {} does not match '{}' {}", shape_str(mask->shape()), name, shape_str(ids.shape()));
    m = mask->to_i64();
  }
  std::vector<std::vector<int32_t>> rows(static_cast<size_t>(b));
  for (int64_t r = 0; r < b; ++r) {
    int64_t len = l;
    if (mask) {
      len = 0;
      while (len < l && m[size_t(r * l + len)] != 0) ++len;
      for (int64_t j = len; j < l; ++j)
        if (m[size_t(r * l + j)] != 0)
          fail("input 'attention_mask': row {} is not right-padded (1s after a 0); only right padding is supported", r);
    }
    for (int64_t j = 0; j < len; ++j) {
      int64_t id = v[size_t(r * l + j)];
      if (id < 0 || id > INT32_MAX) fail("input '{}': id {} at [{}, {}] is not a valid token id", name, id, r, j);
      rows[size_t(r)].push_back(int32_t(id));
    }
  }
  return rows;
}

Tensor ids_tensor(const std::vector<int32_t>& ids) {
  Tensor t = Tensor::zeros(DType::I64, {1, int64_t(ids.size())});
  for (size_t i = 0; i < ids.size(); ++i) t.data<int64_t>()[i] = ids[i];
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Run a model on inputs given by Hugging Face argument names and write its outputs by Hugging Face\n"
      "output names, in f32.\n\n"
      "Inputs read (when present): input_ids, attention_mask, prompt_ids.\n"
      "Outputs written: logits [batch, length, vocab] for decoders (positions past a right-padded\n"
      "attention_mask are zero); generated_ids with --generate.",
      "tessera-forward"};
  std::string model_dir, inputs_path, outputs_path;
  int64_t generate_n = -1;
  int threads = 0;
  app.add_option("MODEL_DIR", model_dir, "Hugging Face model directory (config.json + *.safetensors)")->required();
  app.add_option("INPUTS", inputs_path, "safetensors file with the inputs")->required();
  app.add_option("OUTPUTS", outputs_path, "safetensors file to write")->required();
  app.add_option("--generate", generate_n,
                 "also run greedy generation of N tokens from 'prompt_ids' (EOS ignored) and write 'generated_ids'");
  app.add_option("-t,--threads", threads, "threads (default: all cores)");
  CLI11_PARSE(app, argc, argv);

  try {
    if (threads > 0) set_num_threads(threads);
    auto model = load(model_dir);
    auto inputs = SafetensorsFile::open(inputs_path);
    std::map<std::string, Tensor> outputs;
    const ModelInfo& info = model->info();

    if (info.kind == ModelKind::Decoder && inputs.has("input_ids")) {
      Tensor ids = inputs.get("input_ids");
      Tensor mask;
      if (inputs.has("attention_mask")) mask = inputs.get("attention_mask");
      auto rows = rows_of(ids, mask.empty() ? nullptr : &mask, "input_ids");
      const int64_t b = ids.dim(0), l = ids.dim(1), v = info.vocab_size;
      Tensor out = Tensor::zeros(DType::F32, {b, l, v});
      for (int64_t r = 0; r < b; ++r) {
        if (rows[size_t(r)].empty()) continue;
        // Hugging Face runs any length a rotary model is given; so does the parity tool.
        auto session = model->new_session({std::max<int64_t>(l, info.max_positions)});
        Tensor logits;
        model->decode(*session, rows[size_t(r)], logits, true);
        std::memcpy(out.data<float>() + r * l * v, logits.data<float>(), logits.nbytes());
      }
      outputs["logits"] = out;
    }
    if (generate_n >= 0) {
      if (!inputs.has("prompt_ids")) fail("{}: --generate needs an input named 'prompt_ids'", inputs_path);
      auto rows = rows_of(inputs.get("prompt_ids"), nullptr, "prompt_ids");
      if (rows.size() != 1) fail("input 'prompt_ids': expected one row, found {}", rows.size());
      GenerationOptions opt;
      opt.max_new_tokens = generate_n;
      opt.stop_at_eos = false;
      auto session = model->new_session({std::max<int64_t>(int64_t(rows[0].size()) + generate_n, info.max_positions)});
      auto result = generate(*model, *session, rows[0], opt);
      std::vector<int32_t> all = rows[0];
      all.insert(all.end(), result.tokens.begin(), result.tokens.end());
      outputs["generated_ids"] = ids_tensor(all);
    }
    if (outputs.empty()) fail("{}: nothing to compute: no input this model takes (input_ids, prompt_ids with --generate)", inputs_path);
    save_safetensors(outputs_path, outputs);
    for (const auto& [name, t] : outputs) fmt::print("{} {} {}\n", name, dtype_name(t.dtype()), shape_str(t.shape()));
  } catch (const std::exception& e) {
    fmt::print(stderr, "tessera-forward: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
