// load_random: a config.json made from a short spec, weights from WeightStore::random.
#include <map>

#include "tessera/models/load.hpp"

namespace tessera {
namespace {

// Short spec keys → each family's config.json names.
const std::map<std::string, std::map<std::string, std::string>>& key_names() {
  static const std::map<std::string, std::string> llama = {
      {"hidden", "hidden_size"},       {"layers", "num_hidden_layers"}, {"heads", "num_attention_heads"},
      {"kv_heads", "num_key_value_heads"}, {"ffn", "intermediate_size"}, {"vocab", "vocab_size"},
      {"ctx", "max_position_embeddings"}};
  static const std::map<std::string, std::map<std::string, std::string>> names = {
      {"llama", llama}, {"mistral", llama}, {"qwen2", llama}, {"qwen3", llama}, {"gemma", llama}, {"mixtral", llama},
      {"bert", llama}, {"roberta", llama},
      {"gpt2", {{"hidden", "n_embd"}, {"layers", "n_layer"}, {"heads", "n_head"}, {"ffn", "n_inner"},
                {"vocab", "vocab_size"}, {"ctx", "n_positions"}}},
      {"gpt_neox", {{"hidden", "hidden_size"}, {"layers", "num_hidden_layers"}, {"heads", "num_attention_heads"},
                    {"ffn", "intermediate_size"}, {"vocab", "vocab_size"}, {"ctx", "max_position_embeddings"}}},
  };
  return names;
}

nlohmann::json parse_value(const std::string& v) {
  if (v == "true") return true;
  if (v == "false") return false;
  try {
    size_t used = 0;
    long long i = std::stoll(v, &used);
    if (used == v.size()) return i;
    double d = std::stod(v, &used);
    if (used == v.size()) return d;
  } catch (const std::exception&) {
  }
  return v;
}

}  // namespace

RandomModel load_random(const std::string& spec) {
  const auto colon = spec.find(':');
  const std::string family = spec.substr(0, colon);
  TESSERA_CHECK(!family.empty(), "random model spec '{}': expected FAMILY:key=value,...", spec);
  nlohmann::json cfg = {{"model_type", family}, {"architectures", {"random " + family}}};
  if (family != "gpt2") cfg["max_position_embeddings"] = 4096;
  else cfg["n_positions"] = 4096;
  DType dtype = DType::F32;
  uint64_t seed = 0;
  const auto& names = key_names();
  auto fam = names.find(family);
  std::string rest = colon == std::string::npos ? "" : spec.substr(colon + 1);
  size_t pos = 0;
  while (pos < rest.size()) {
    size_t comma = rest.find(',', pos);
    std::string item = rest.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    pos = comma == std::string::npos ? rest.size() : comma + 1;
    if (item.empty()) continue;
    auto eq = item.find('=');
    if (eq == std::string::npos) fail("random model spec '{}': '{}' is not key=value", spec, item);
    std::string key = item.substr(0, eq), value = item.substr(eq + 1);
    if (key == "dtype") {
      if (value == "f32") dtype = DType::F32;
      else if (value == "f16") dtype = DType::F16;
      else if (value == "bf16") dtype = DType::BF16;
      else fail("random model spec: dtype '{}' (expected f32, f16 or bf16)", value);
      continue;
    }
    if (key == "seed") {
      seed = std::stoull(value);
      continue;
    }
    if (fam != names.end() && fam->second.count(key)) key = fam->second.at(key);
    cfg[key] = parse_value(value);
  }
  if (family == "mixtral") {
    if (!cfg.contains("num_local_experts")) cfg["num_local_experts"] = 8;
    if (!cfg.contains("num_experts_per_tok")) cfg["num_experts_per_tok"] = 2;
  }
  WeightStore store = WeightStore::random(dtype, seed);
  RandomModel r;
  r.model = load_from(JsonObject(cfg, "random model '" + spec + "'"), store, "random:" + spec);
  r.weight_bytes = store.total_bytes();
  r.parameters = store.total_parameters();
  // Matrices come in the spec's dtype, vectors (norms, biases) in F32: WeightStore::random.
  // Named as fill_info names a checkpoint's dtypes (sorted, joined by '+').
  r.weight_dtype = dtype == DType::F32 ? "F32" : std::string(dtype_name(dtype)) + "+F32";
  return r;
}

}  // namespace tessera
