// Models from GGUF files.
// - The decoder fixtures written as GGUF by tessera-quantize (llama.cpp's names, q/k rows
//   permuted for its interleaved RoPE, Gemma's norms as 1 + w, experts stacked) and read back
//   through tessera-forward: the same logits as Hugging Face (1e-4 × max(1, max |ref|)) and
//   the same greedy ids. The reader's half of that layout is checked independently on the
//   files llama.cpp itself wrote (gguf_pycode_test.cpp).
#include "fixture_util.hpp"
#include "tessera/generation/generate.hpp"
#include "tessera/models/load.hpp"
#include "tessera/models/model.hpp"

using namespace tessera;
using namespace tessera::testing;

namespace {

// Decoder fixtures whose family and RoPE a GGUF file can hold.
std::vector<std::string> exportable_fixtures() {
  std::vector<std::string> out;
  for (const auto& f : fixture_dirs("decoder")) {
    const std::string n = test_name(f);
    const bool family = n.starts_with("hf_llama") || n.starts_with("hf_mistral") || n.starts_with("hf_mixtral") ||
                        n.starts_with("hf_qwen") || n == "hf_gemma" || n.starts_with("torch_llama") ||
                        n.starts_with("torch_mistral") || n.starts_with("torch_mixtral") ||
                        (n.starts_with("torch_qwen") && !n.starts_with("torch_qwen2_moe")) /* GGUF export has no qwen2moe */ ||
                        n.starts_with("torch_gemma_") /* not gemma2 */ || n == "hf_gpt2" || n == "hf_gpt_neox" ||
                        n == "torch_gpt_neox_rot25_sequential_v4cfg";
    const bool rope = n.find("dynamic") == std::string::npos && n.find("yarn") == std::string::npos;
    if (family && rope) out.push_back(f);
  }
  return out;
}

}  // namespace

class GgufFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(GgufFixture, RoundTripMatchesReference) {
  const std::string dir = data_dir() + "/" + GetParam();
  const std::string gguf = ::testing::TempDir() + "/" + test_name(GetParam()) + ".gguf";
  const std::string out = ::testing::TempDir() + "/" + test_name(GetParam()) + ".gguf.out.safetensors";
  run_ok(bin("quantize") + " " + dir + " " + gguf + " f32");
  if (HasFatalFailure()) return;
  check_decoder_against_reference(gguf, dir, out, GetParam());
  std::filesystem::remove(gguf);
}

INSTANTIATE_TEST_SUITE_P(All, GgufFixture, ::testing::ValuesIn(exportable_fixtures()),
                         [](const auto& info) { return test_name(info.param); });

// What llama.cpp's format has no words for (RoPE scalings, GPT-2's other activations and
// attention scalings, GPT-NeoX's other activations, encoders) is refused by name, not
// written wrongly.
TEST(GgufExport, RefusesWhatGgufCannotHold) {
  const std::string gguf = ::testing::TempDir() + "/refused.gguf";
  for (const char* f : {"torch/llama-dynamic-v4cfg", "torch/llama-yarn-bias-v5cfg", "torch/gpt2-gelu-inner-invlayer",
                        "torch/gpt2-relu-defaultinner", "torch/gpt_neox-rot50-parallel-v5cfg", "hf/bert"}) {
    const std::string cmd = bin("quantize") + " " + data_dir() + "/" + f + " " + gguf + " f32 > " + gguf + ".log 2>&1";
    EXPECT_NE(std::system(cmd.c_str()), 0) << f;
    const std::string log = read_text_file(gguf + ".log");
    EXPECT_NE(log.find("cannot be written to GGUF"), std::string::npos) << f << ": " << log;
  }
}

// GPT-2 and GPT-NeoX files written by tessera-quantize and run by llama.cpp itself
// (tests/data/gguf/architectures.json): tessera on the same files gives llama.cpp's NLL within
// 0.01 and its greedy ids (which are Hugging Face's).
TEST(GgufArchitectures, Gpt2AndGptNeoxAgreeWithLlamaCpp) {
  const nlohmann::json ref = load_json_file(data_dir() + "/gguf/architectures.json");
  ASSERT_EQ(ref["files"].size(), 2u);
  for (const auto& f : ref["files"]) {
    const std::string file = f["file"];
    auto model = load(data_dir() + "/gguf/" + file);
    EXPECT_EQ(model->info().family, f["fixture"] == "hf/gpt2" ? "gpt2" : "gpt_neox") << file;
    const auto eval = f["eval_ids"].get<std::vector<int32_t>>();
    Tensor logits;
    model->decode(*model->new_session(), eval, logits, true);
    EXPECT_NEAR(mean_next_token_nll(logits, eval, model->info().vocab_size), f["nll"].get<double>(), 0.01) << file;
    GenerationOptions opt;
    const auto want = f["greedy"].get<std::vector<int64_t>>();
    opt.max_new_tokens = opt.min_new_tokens = int64_t(want.size());
    auto session = model->new_session();
    const auto got = generate(*model, *session, f["prompt_ids"].get<std::vector<int32_t>>(), opt).tokens;
    EXPECT_EQ(std::vector<int64_t>(got.begin(), got.end()), want) << file;
  }
}
