// tessera::load: config.json's model_type picks the family loader.
#include <map>

#include "families/families.hpp"
#include "tessera/io/mmap.hpp"
#include "tessera/models/load.hpp"

namespace tessera {

namespace {

families::Loader find_loader(const JsonObject& cfg) {
  static const std::map<std::string, families::Loader> loaders = {
      {"llama", families::load_llama},   {"mistral", families::load_llama}, {"qwen2", families::load_llama},
      {"qwen3", families::load_llama},   {"gemma", families::load_llama},   {"mixtral", families::load_llama},
      {"gpt2", families::load_gpt2},     {"gpt_neox", families::load_gpt_neox},
      {"t5", families::load_t5},         {"bart", families::load_bart},     {"marian", families::load_marian},
      {"whisper", families::load_whisper},
      {"bert", families::load_bert},     {"roberta", families::load_roberta}, {"vit", families::load_vit},
  };
  const std::string type = cfg.get_string("model_type");
  auto it = loaders.find(type);
  if (it == loaders.end()) {
    std::string known;
    for (const auto& [k, v] : loaders) known += (known.empty() ? "" : ", ") + k;
    fail("{}: model_type '{}' is not supported (supported: {})", cfg.where(), type, known);
  }
  return it->second;
}

}  // namespace

std::shared_ptr<const Model> load_from(const JsonObject& cfg, const WeightStore& store, const std::string& dir) {
  return find_loader(cfg)(cfg, store, dir);
}

std::shared_ptr<const Model> load(const std::string& dir) {
  const std::string config_path = dir + "/config.json";
  if (!file_exists(config_path)) fail("{}: no config.json (expected a Hugging Face model directory)", dir);
  JsonObject cfg(load_json_file(config_path), config_path);
  families::Loader loader = find_loader(cfg);  // an unknown family is reported before the weights are read
  return loader(cfg, WeightStore::open_dir(dir), dir);
}

}  // namespace tessera
