// Elastic depth on a loaded checkpoint (SessionOptions::layers / loops, --layers / --loops):
// exiting after K layer runs must equal the checkpoint sliced to its first K layers on disk,
// and the layer list applied R times must equal the checkpoint with its layers repeated R
// times on disk, each loaded plainly — logits to 1e-4 × max(1, max |reference|) and greedy ids
// identical. On pycode-6m (bf16, tied) and the Llama and Qwen3 fixtures.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "fixture_util.hpp"
#include "tessera/models/load.hpp"

namespace tessera {
namespace {

namespace fs = std::filesystem;
using testing::bin;
using testing::compare;
using testing::data_dir;
using testing::Diff;
using testing::run_ok;

// stdout of a shell command that must succeed.
std::string output_of(const std::string& cmd, const std::string& file) {
  const int rc = std::system((cmd + " > " + file + " 2> " + file + ".err").c_str());
  EXPECT_EQ(rc, 0) << cmd << "\n" << read_text_file(file + ".err");
  return read_text_file(file);
}

const std::string kPycode = std::string(TESSERA_MODELS_DIR) + "/pycode-6m";

// A copy of the checkpoint at `src` with `layers` layers, layer j holding the source's layer
// j mod L ("model.layers.N." tensors; num_hidden_layers and layer_types rewritten). Tokenizer files are linked.
std::string rewrite_layers(const std::string& src, const std::string& name, int64_t layers) {
  const std::string dst = ::testing::TempDir() + "/elastic_" + name;
  fs::remove_all(dst);
  fs::create_directories(dst);
  nlohmann::json cfg = load_json_file(src + "/config.json");
  const int64_t source_layers = cfg.at("num_hidden_layers").get<int64_t>();
  cfg["num_hidden_layers"] = layers;
  if (cfg.contains("layer_types")) {  // per-layer attention kinds follow their layers
    nlohmann::json types = nlohmann::json::array();
    for (int64_t j = 0; j < layers; ++j) types.push_back(cfg["layer_types"].at(size_t(j % source_layers)));
    cfg["layer_types"] = types;
  }
  std::ofstream(dst + "/config.json") << cfg.dump(1);
  for (const char* f : {"tokenizer.json", "tokenizer_config.json", "generation_config.json"})
    if (fs::exists(src + "/" + f)) fs::create_symlink(fs::absolute(src + "/" + f), dst + "/" + f);

  const WeightStore store = WeightStore::open_dir(src);
  const std::string prefix = "model.layers.";
  std::map<std::string, Tensor> out;
  for (const std::string& n : store.names()) {
    if (n.rfind(prefix, 0) != 0) {
      out[n] = store.get(n);
      continue;
    }
    const size_t dot = n.find('.', prefix.size());
    const int64_t l = std::stoll(n.substr(prefix.size(), dot - prefix.size()));
    for (int64_t j = l; j < layers; j += source_layers) out[prefix + std::to_string(j) + n.substr(dot)] = store.get(n);
  }
  save_safetensors(dst + "/model.safetensors", out);
  return dst;
}

Tensor sample_ids(int64_t vocab, int64_t n) {
  std::vector<int32_t> ids;
  for (int64_t i = 0; i < n; ++i) ids.push_back(int32_t((i * 37 + 11) % vocab));
  return ids_tensor(ids);
}

void expect_same(const std::string& model, int64_t layers, int64_t loops, const std::string& plain_dir, const std::string& label) {
  auto elastic = load(model);
  auto plain = load(plain_dir);
  SessionOptions o;
  o.kv_type = DType::F32;
  const Tensor ids = sample_ids(elastic->info().vocab_size, 24);
  auto want = plain->forward_named({{"input_ids", ids}, {"prompt_ids", ids}}, 8, o);
  o.layers = layers;
  o.loops = loops;
  auto got = elastic->forward_named({{"input_ids", ids}, {"prompt_ids", ids}}, 8, o);
  Diff d = compare(got.at("logits"), want.at("logits"));
  EXPECT_LE(d.max_abs_diff, 1e-4 * std::max(1.0, d.max_abs_ref)) << label << ": max |diff| " << d.max_abs_diff;
  EXPECT_EQ(got.at("generated_ids").to_i64(), want.at("generated_ids").to_i64()) << label;
  // The check can fail: the full model differs from the sliced or repeated one.
  o.layers = 0;
  o.loops = 1;
  auto full = elastic->forward_named({{"input_ids", ids}}, -1, o);
  EXPECT_GT(compare(full.at("logits"), want.at("logits")).max_abs_diff, 1e-3) << label << ": the full model gave the same logits";
}

class ElasticDepth : public ::testing::TestWithParam<std::string> {};

std::string model_dir(const std::string& p) { return p == "pycode-6m" ? kPycode : data_dir() + "/hf/" + p; }

TEST_P(ElasticDepth, EarlyExitEqualsTheSlicedCheckpoint) {
  const std::string src = model_dir(GetParam());
  const int64_t layers = load_json_file(src + "/config.json").at("num_hidden_layers").get<int64_t>();
  for (int64_t k : {int64_t(1), layers - 1}) {
    if (k < 1) continue;
    const std::string label = GetParam() + " layers " + std::to_string(k);
    expect_same(src, k, 1, rewrite_layers(src, GetParam() + "_first" + std::to_string(k), k), label);
  }
}

TEST_P(ElasticDepth, LoopsEqualTheRepeatedCheckpoint) {
  const std::string src = model_dir(GetParam());
  const int64_t layers = load_json_file(src + "/config.json").at("num_hidden_layers").get<int64_t>();
  expect_same(src, 0, 2, rewrite_layers(src, GetParam() + "_loop2", 2 * layers), GetParam() + " loops 2");
  // Both at once: three loops cut after one layer more than the stack has.
  expect_same(src, layers + 1, 3, rewrite_layers(src, GetParam() + "_loop3_exit", layers + 1), GetParam() + " loops 3, layers L+1");
}

INSTANTIATE_TEST_SUITE_P(Models, ElasticDepth, ::testing::Values("pycode-6m", "llama", "qwen3"),
                         [](const auto& info) { return testing::test_name(info.param); });

// The tools take --layers and --loops: tessera-forward and tessera-generate on pycode-6m with
// --loops 2 / --layers 3 give what they give on the rewritten checkpoints.
TEST(ElasticDepthTools, ForwardAndGenerateTakeLayersAndLoops) {
  const std::string tmp = ::testing::TempDir();
  const std::string repeated = rewrite_layers(kPycode, "tool_loop2", 12), sliced = rewrite_layers(kPycode, "tool_first3", 3);
  save_safetensors(tmp + "/elastic_ids.safetensors", {{"input_ids", sample_ids(4096, 20)}});
  run_ok(bin("forward") + " " + kPycode + " " + tmp + "/elastic_ids.safetensors " + tmp + "/elastic_a.safetensors --loops 2 --kv-type f32");
  run_ok(bin("forward") + " " + repeated + " " + tmp + "/elastic_ids.safetensors " + tmp + "/elastic_b.safetensors --kv-type f32");
  Diff d = compare(SafetensorsFile::open(tmp + "/elastic_a.safetensors").get("logits"),
                   SafetensorsFile::open(tmp + "/elastic_b.safetensors").get("logits"));
  EXPECT_LE(d.max_abs_diff, 1e-4 * std::max(1.0, d.max_abs_ref)) << "max |diff| " << d.max_abs_diff;

  const std::string gen = " -p 'def add(a, b):' -n 16 --temperature 0 --ignore-eos --no-stats --kv-type f32";
  const std::string a = output_of(bin("generate") + " " + kPycode + gen + " --layers 3", tmp + "/elastic_gen_a.txt");
  const std::string b = output_of(bin("generate") + " " + sliced + gen, tmp + "/elastic_gen_b.txt");
  EXPECT_GT(a.size(), 16u);
  EXPECT_EQ(a, b);
}

TEST(ElasticDepthTools, EncodersRefuseElasticDepth) {
  auto bert = load(data_dir() + "/hf/bert");
  SessionOptions o;
  o.loops = 2;
  try {
    bert->new_session(o);
    FAIL() << "an encoder took loops = 2";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("(elastic depth) are for decoder-only models, not an encoder"), std::string::npos)
        << e.what();
  }
  auto llama = load(data_dir() + "/hf/llama");
  o.loops = 0;
  EXPECT_THROW(llama->new_session(o), Error);
  // More layers than the stack runs is refused, not clamped in silence.
  SessionOptions too_deep;
  too_deep.layers = int64_t(llama->info().num_layers) + 1;
  EXPECT_THROW(llama->new_session(too_deep), Error);
  too_deep.loops = 2;  // with two loops the same count is inside the run
  EXPECT_NO_THROW(llama->new_session(too_deep));
}

}  // namespace
}  // namespace tessera
