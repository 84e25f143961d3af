// Ways to get a Model: from a checkpoint directory (tessera::load in model.hpp), from a config
// and weight store already in memory, or with random weights for benchmarking.
#pragma once

#include <memory>
#include <string>

#include "tessera/io/json.hpp"
#include "tessera/io/safetensors.hpp"
#include "tessera/models/model.hpp"

namespace tessera {

// The family loader for cfg's model_type applied to `store`; `dir` names the model in messages.
std::shared_ptr<const Model> load_from(const JsonObject& cfg, const WeightStore& store, const std::string& dir);

// A model from a GGUF file (llama.cpp's layout): its metadata becomes the family's config.
std::shared_ptr<const Model> load_gguf(const std::string& path, const LoadOptions& options = {});

// A random-weight model from a spec "FAMILY:key=value,...", e.g.
//   llama:hidden=768,layers=12,heads=12,ffn=3072,vocab=32000,dtype=f16
// Short keys: hidden, layers, heads, kv_heads, ffn, vocab, ctx (max positions), dtype
// (f32|f16|bf16), seed; any other key=value is copied into config.json as it is (numbers,
// true/false, or strings). Families: llama, mistral, qwen2, qwen3, gemma, mixtral, gpt2,
// gpt_neox, and any other whose config keys are given in full.
struct RandomModel {
  std::shared_ptr<const Model> model;
  size_t weight_bytes = 0;
  int64_t parameters = 0;
  std::string weight_dtype;  // as ModelInfo::weight_dtype, e.g. "F16+F32" (matrices F16, vectors F32)
};
RandomModel load_random(const std::string& spec);

}  // namespace tessera
