// tessera::load: config.json's model_type picks the family loader from the registry.
#include <cctype>
#include <filesystem>
#include <map>
#include <mutex>

#include "families/families.hpp"
#include "tessera/io/gguf.hpp"
#include "tessera/io/mmap.hpp"
#include "tessera/models/load.hpp"
#include "tessera/models/registry.hpp"

namespace tessera {

namespace {

// The registry: built-in families first, then whatever applications add. Guarded by a mutex
// (registration may race with loading on other threads); entries are never removed.
struct Registry {
  std::mutex mutex;
  std::map<std::string, ModelLoader> loaders = {
      {"llama", families::load_llama},   {"mistral", families::load_llama}, {"qwen2", families::load_llama},
      {"qwen3", families::load_llama},   {"gemma", families::load_llama},   {"mixtral", families::load_llama},
      {"qwen2_moe", families::load_llama},
      {"gemma2", families::load_gemma2}, {"olmo2", families::load_olmo2},   {"phi3", families::load_phi3},
      {"opt", families::load_opt},       {"gptj", families::load_gptj},     {"gpt2", families::load_gpt2},
      {"gpt_neox", families::load_gpt_neox}, {"falcon", families::load_falcon}, {"bloom", families::load_bloom},
      {"t5", families::load_t5},         {"bart", families::load_bart},     {"marian", families::load_marian},
      {"mt5", families::load_mt5},       {"mbart", families::load_mbart},   {"pegasus", families::load_pegasus},
      {"whisper", families::load_whisper},
      {"bert", families::load_bert},     {"roberta", families::load_roberta}, {"vit", families::load_vit},
      {"xlm-roberta", families::load_xlm_roberta}, {"distilbert", families::load_distilbert},
      {"modernbert", families::load_modernbert}, {"dinov2_with_registers", families::load_dinov2_with_registers},
  };
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

void register_model_type(const std::string& model_type, ModelLoader loader) {
  if (model_type.empty()) fail("register_model_type: the model type is empty");
  if (!loader) fail("register_model_type: no loader given for model type '{}'", model_type);
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  if (!r.loaders.emplace(model_type, std::move(loader)).second)
    fail("register_model_type: model type '{}' is already registered", model_type);
}

std::vector<std::string> registered_model_types() {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  std::vector<std::string> types;
  for (const auto& [k, v] : r.loaders) types.push_back(k);
  return types;
}

ModelLoader find_model_loader(const JsonObject& cfg) {
  const std::string type = cfg.get_string("model_type");
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  auto it = r.loaders.find(type);
  if (it == r.loaders.end()) {
    std::string known;
    for (const auto& [k, v] : r.loaders) known += (known.empty() ? "" : ", ") + k;
    fail("{}: model_type '{}' is not supported (supported: {})", cfg.where(), type, known);
  }
  return it->second;
}

std::shared_ptr<const Model> load_from(const JsonObject& cfg, const WeightStore& store, const std::string& dir) {
  return find_model_loader(cfg)(cfg, store, dir);
}

std::shared_ptr<const Model> load(const std::string& path, const LoadOptions& options) {
  if (std::filesystem::is_regular_file(path)) {
    if (is_gguf_file(path)) return load_gguf(path, options);
    fail("{}: not a GGUF file (no GGUF magic) and not a Hugging Face model directory", path);
  }
  const std::string& dir = path;
  if (!std::filesystem::exists(path)) fail("{}: no such file or directory (expected a Hugging Face model directory or a .gguf file)", path);
  const std::string config_path = dir + "/config.json";
  if (!file_exists(config_path)) fail("{}: no config.json (expected a Hugging Face model directory or a .gguf file)", dir);
  JsonObject cfg(load_json_file(config_path), config_path);
  ModelLoader loader = find_model_loader(cfg);  // an unknown family is reported before the weights are read
  WeightStore store = WeightStore::open_dir(dir);
  store.set_quantize(options.quantize);
  return loader(cfg, store, dir);
}

DType quant_type_from_name(const std::string& name) {
  std::string upper;
  for (char c : name) upper += char(std::toupper(static_cast<unsigned char>(c)));
  for (DType t : {DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q2_K, DType::Q3_K, DType::Q4_K,
                  DType::Q5_K, DType::Q6_K, DType::F16, DType::BF16, DType::F32})
    if (dtype_name(t) == upper) return t;
  fail("unknown quantization type '{}' (expected one of q8_0, q4_0, q4_1, q5_0, q5_1, q2_k, q3_k, q4_k, q5_k, q6_k, f16, bf16, f32)",
       name);
}

DType kv_type_from_name(const std::string& name) {
  std::string upper;
  for (char c : name) upper += char(std::toupper(static_cast<unsigned char>(c)));
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q8_0})
    if (dtype_name(t) == upper) return t;
  fail("unknown KV cache type '{}' (expected one of f32, f16, bf16, q8_0)", name);
}

}  // namespace tessera
