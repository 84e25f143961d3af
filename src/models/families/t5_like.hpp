// Internal to the T5 and mT5 loaders: t5.cpp builds both. mT5 differs only in its config
// defaults (feed_forward_proj "gated-gelu") and in never rescaling the decoder output by
// d_model^-0.5 before the head.
#pragma once

#include <memory>
#include <string>

#include "tessera/io/json.hpp"
#include "tessera/io/safetensors.hpp"
#include "tessera/models/model.hpp"

namespace tessera::families {

std::shared_ptr<const Model> load_t5_like(const JsonObject& cfg, const WeightStore& store, const std::string& dir,
                                          bool mt5);

}  // namespace tessera::families
