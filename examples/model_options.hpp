// What every tool that loads a model shares: MODEL is a Hugging Face directory or a .gguf
// file, and --quantize TYPE quantizes float weights at load (ggml's reference quantizers);
// the tools that decode add --kv-type (the KV cache's dtype).
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "tessera/tessera.hpp"

namespace tessera::tools {

struct ModelOptions {
  std::string path;
  std::string quantize;
  std::string kv_type = "f16";
  LoadOptions load_options() const {
    LoadOptions o;
    if (!quantize.empty()) o.quantize = quant_type_from_name(quantize);
    return o;
  }
  SessionOptions session_options() const {
    SessionOptions o;
    o.kv_type = kv_type_from_name(kv_type);
    return o;
  }
};

// Adds MODEL (positional; `required` unless the tool has another way to get a model) and
// --quantize.
inline CLI::Option* add_model_options(CLI::App& app, ModelOptions& o, const std::string& what, bool required = true) {
  CLI::Option* m = app.add_option("MODEL", o.path, what + ": a Hugging Face directory or a .gguf file");
  if (required) m->required();
  app.add_option("--quantize", o.quantize,
                 "quantize float weights at load: q8_0, q4_0, q4_1, q5_0, q5_1, q2_k, q3_k, q4_k, q5_k, q6_k "
                 "(the bytes llama-quantize --pure writes; rows that do not fit a K-quant fall back as it does)");
  return m;
}

// Adds --kv-type, for the tools that decode.
inline void add_kv_type_option(CLI::App& app, ModelOptions& o) {
  app.add_option("--kv-type", o.kv_type,
                 "dtype of the KV cache: f16 (default), bf16, q8_0 (ggml's blocks of 32) or f32 (exact)")
      ->check(CLI::IsMember({"f32", "f16", "bf16", "q8_0"}, CLI::ignore_case));
}

}  // namespace tessera::tools
