// The built-in family loaders, registered under their model types (models/registry.hpp). Each reads
// its config fields and weight names and returns a ready model, or an Error saying why not.
#pragma once

#include <memory>
#include <string>

#include "tessera/io/json.hpp"
#include "tessera/io/safetensors.hpp"
#include "tessera/models/model.hpp"

namespace tessera::families {

// Llama and the families that share its layout: mistral, qwen2, qwen3, gemma, mixtral, qwen2_moe.
std::shared_ptr<const Model> load_llama(const JsonObject& cfg, const WeightStore& store, const std::string& dir);
std::shared_ptr<const Model> load_gemma2(const JsonObject& cfg, const WeightStore& store, const std::string& dir);
std::shared_ptr<const Model> load_phi3(const JsonObject& cfg, const WeightStore& store, const std::string& dir);
std::shared_ptr<const Model> load_opt(const JsonObject& cfg, const WeightStore& store, const std::string& dir);
std::shared_ptr<const Model> load_falcon(const JsonObject& cfg, const WeightStore& store, const std::string& dir);
std::shared_ptr<const Model> load_bloom(const JsonObject& cfg, const WeightStore& store, const std::string& dir);
std::shared_ptr<const Model> load_gptj(const JsonObject& cfg, const WeightStore& store, const std::string& dir);
std::shared_ptr<const Model> load_olmo2(const JsonObject& cfg, const WeightStore& store, const std::string& dir);
std::shared_ptr<const Model> load_gpt2(const JsonObject& cfg, const WeightStore& store, const std::string& dir);
std::shared_ptr<const Model> load_gpt_neox(const JsonObject& cfg, const WeightStore& store, const std::string& dir);

// Encoder-decoders (encoder_decoder.hpp).
std::shared_ptr<const Model> load_t5(const JsonObject& cfg, const WeightStore& store, const std::string& dir);
std::shared_ptr<const Model> load_mt5(const JsonObject& cfg, const WeightStore& store, const std::string& dir);
std::shared_ptr<const Model> load_bart(const JsonObject& cfg, const WeightStore& store, const std::string& dir);
std::shared_ptr<const Model> load_marian(const JsonObject& cfg, const WeightStore& store, const std::string& dir);
std::shared_ptr<const Model> load_mbart(const JsonObject& cfg, const WeightStore& store, const std::string& dir);
std::shared_ptr<const Model> load_pegasus(const JsonObject& cfg, const WeightStore& store, const std::string& dir);
std::shared_ptr<const Model> load_whisper(const JsonObject& cfg, const WeightStore& store, const std::string& dir);

// Encoders (encoder.hpp): BERT, RoBERTa, XLM-RoBERTa and DistilBERT share bert.cpp.
std::shared_ptr<const Model> load_bert(const JsonObject& cfg, const WeightStore& store, const std::string& dir);
std::shared_ptr<const Model> load_roberta(const JsonObject& cfg, const WeightStore& store, const std::string& dir);
std::shared_ptr<const Model> load_xlm_roberta(const JsonObject& cfg, const WeightStore& store, const std::string& dir);
std::shared_ptr<const Model> load_distilbert(const JsonObject& cfg, const WeightStore& store, const std::string& dir);
std::shared_ptr<const Model> load_modernbert(const JsonObject& cfg, const WeightStore& store, const std::string& dir);
// ViT and DINOv2 with registers share vit.cpp.
std::shared_ptr<const Model> load_vit(const JsonObject& cfg, const WeightStore& store, const std::string& dir);
std::shared_ptr<const Model> load_dinov2_with_registers(const JsonObject& cfg, const WeightStore& store,
                                                        const std::string& dir);

}  // namespace tessera::families
