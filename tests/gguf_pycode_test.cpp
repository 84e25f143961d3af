// Ring 3 for GGUF: pycode-6m as llama.cpp itself wrote it (its converter's F32 file and
// llama-quantize's Q4_K_M, tests/data/gguf), against llama.cpp's own figures on the same
// files (pycode-6m-llama.cpp.json: mean next-token NLL over the reference window and the 64
// greedy ids, computed by llama.cpp 34af94c on 1 thread) and Hugging Face's NLL.
// F32: NLL within 2e-3 of Hugging Face's and llama.cpp's greedy ids; quantized: NLL within
// 0.01 of llama.cpp's on the same file.
#include "fixture_util.hpp"
#include "tessera/generation/generate.hpp"
#include "tessera/models/model.hpp"
#include "tessera/text/tokenizer.hpp"

using namespace tessera;
using namespace tessera::testing;

namespace {

const std::string kModels = std::string(TESSERA_MODELS_DIR) + "/pycode-6m";

nlohmann::json reference() { return load_json_file(data_dir() + "/gguf/pycode-6m-llama.cpp.json"); }

std::vector<int32_t> ids_of(const std::string& tensor) {
  auto ref = SafetensorsFile::open(kModels + "/reference.safetensors");
  std::vector<int64_t> v = ref.get(tensor).to_i64();
  return std::vector<int32_t>(v.begin(), v.end());
}

double nll_of(const Model& model) {
  const std::vector<int32_t> ids = ids_of("eval_ids");
  auto session = model.new_session();
  Tensor logits;
  model.decode(*session, ids, logits, true);
  return mean_next_token_nll(logits, ids, model.info().vocab_size);
}

std::vector<int64_t> greedy_of(const Model& model, int64_t n) {
  GenerationOptions opt;
  opt.max_new_tokens = opt.min_new_tokens = n;
  auto session = model.new_session();
  auto result = generate(model, *session, ids_of("prompt_ids"), opt);
  return std::vector<int64_t>(result.tokens.begin(), result.tokens.end());
}

}  // namespace

TEST(GgufPycode, F32FileMatchesHuggingFaceAndLlamaCpp) {
  const nlohmann::json ref = reference();
  auto model = load(data_dir() + "/gguf/pycode-6m-f32.gguf");
  EXPECT_EQ(model->info().family, "llama");
  const double nll = nll_of(*model);
  EXPECT_NEAR(nll, ref["hf_nll"].get<double>(), 2e-3);
  EXPECT_NEAR(nll, ref["files"]["f32"]["nll"].get<double>(), 2e-3);
  const auto want = ref["files"]["f32"]["greedy"].get<std::vector<int64_t>>();
  EXPECT_EQ(greedy_of(*model, int64_t(want.size())), want);
}

TEST(GgufPycode, Q4KMFileMatchesLlamaCppNll) {
  const nlohmann::json ref = reference();
  auto model = load(data_dir() + "/gguf/pycode-6m-Q4_K_M.gguf");
  EXPECT_NE(model->info().weight_dtype.find("Q4_K"), std::string::npos) << model->info().weight_dtype;
  EXPECT_NEAR(nll_of(*model), ref["files"]["Q4_K_M"]["nll"].get<double>(), 0.01);
}

// The F32 file's logits equal the bf16 safetensors checkpoint's (the same weights, widened):
// the GGUF translation (names, q/k rows, config) changes nothing.
TEST(GgufPycode, F32FileEqualsTheSafetensorsCheckpoint) {
  const std::vector<int32_t> ids = ids_of("eval_ids");
  Tensor a, b;
  auto gguf = load(data_dir() + "/gguf/pycode-6m-f32.gguf");
  auto st = load(kModels);
  gguf->decode(*gguf->new_session(), ids, a, true);
  st->decode(*st->new_session(), ids, b, true);
  Diff d = compare(a, b);
  EXPECT_LE(d.max_abs_diff, 1e-4 * std::max(1.0, d.max_abs_ref));
}

// The tokenizer rebuilt from the GGUF metadata gives the ids of the model's tokenizer.json.
TEST(GgufPycode, TokenizerFromMetadataEqualsTokenizerJson) {
  auto a = Tokenizer::from_file(data_dir() + "/gguf/pycode-6m-Q4_K_M.gguf");
  auto b = Tokenizer::from_file(kModels);
  for (const char* text : {"def fibonacci(n):\n    return n", "  x = [1, 2, 3]  # ünïcødé\t\n\n", "class A(object): pass"})
    EXPECT_EQ(a.encode(text, false).ids, b.encode(text, false).ids) << text;
}
