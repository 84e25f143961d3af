// The open registry of model types: config.json's model_type → the loader that builds the
// model. tessera::load consults it; the built-in families are registered from the start, and
// an application adds its own before loading, e.g.
//
//   tessera::register_model_type("my_llama", [](const JsonObject& cfg, const WeightStore& store,
//                                                const std::string& dir) { ... return model; });
//
// A loader reads config.json with the hf:: helpers (hf_config.hpp), binds weights through a
// Scope (scope.hpp) and composes blocks into a Stack (blocks/stack.hpp) inside a DecoderModel,
// EncoderModel or EncoderDecoderModel (or its own Model). The registry only grows: a type
// cannot be registered twice, so what a name means never changes while models load.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tessera/io/json.hpp"
#include "tessera/io/safetensors.hpp"
#include "tessera/models/model.hpp"

namespace tessera {

// Builds a model from config.json (`cfg`) and the checkpoint's tensors; `dir` names the model
// in messages. Errors are tessera::Error naming the field or tensor.
using ModelLoader = std::function<std::shared_ptr<const Model>(const JsonObject& cfg, const WeightStore& store,
                                                               const std::string& dir)>;

// Adds `model_type`. An empty name, an empty loader or a name already registered (built-in or
// not) is an Error. Safe to call from any thread.
void register_model_type(const std::string& model_type, ModelLoader loader);

// The registered model types, sorted.
std::vector<std::string> registered_model_types();

// The loader for cfg's model_type, or an Error listing the registered types.
ModelLoader find_model_loader(const JsonObject& cfg);

}  // namespace tessera
