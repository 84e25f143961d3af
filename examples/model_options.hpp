// What every tool that loads a model shares: MODEL is a Hugging Face directory or a .gguf
// file, --quantize TYPE quantizes float weights at load (ggml's reference quantizers), and a
// progress line on a terminal while it loads; the tools that decode add --kv-type (the KV
// cache's dtype) and --layers / --loops (elastic depth).
#pragma once

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "tessera/tessera.hpp"

namespace tessera::tools {

struct ModelOptions {
  std::string path;
  std::string quantize;
  std::string kv_type = "f16";
  int64_t layers = 0, loops = 1;
  LoadOptions load_options() const {
    LoadOptions o;
    if (!quantize.empty()) o.quantize = quant_type_from_name(quantize);
    return o;
  }
  SessionOptions session_options() const {
    SessionOptions o;
    o.kv_type = kv_type_from_name(kv_type);
    o.layers = layers;
    o.loops = loops;
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

// Adds --layers and --loops (elastic depth, decoders), for the tools that decode.
inline void add_depth_options(CLI::App& app, ModelOptions& o) {
  app.add_option("--layers", o.layers,
                 "run only the first K layers (of the layer list applied --loops times), then the final norm and the "
                 "head: early exit (decoders; 0: all)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--loops", o.loops, "apply the layer list R times (looped depth; decoders)")->check(CLI::PositiveNumber);
}

// Bytes of the weights at `path`: the .gguf file, a directory's model.safetensors, or its
// shards (model-*.safetensors); 0 when there is nothing to measure (the loader then says
// what is missing). Only for the progress line: other *.safetensors files are not weights.
inline uintmax_t weight_file_bytes(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) return fs::file_size(path, ec);
  if (!fs::is_directory(path, ec)) return 0;
  if (fs::is_regular_file(path + "/model.safetensors", ec)) return fs::file_size(path + "/model.safetensors", ec);
  uintmax_t total = 0;
  for (const auto& e : fs::directory_iterator(path, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("model-", 0) == 0 && e.path().extension() == ".safetensors" && e.is_regular_file(ec))
      total += e.file_size(ec);
  }
  return total;
}

// tessera::load with a progress line on stderr when it is a terminal ("loading MODEL
// (N MB)... loaded in X s"): mapping and checking a 7B model takes seconds, and silence
// looks like a hang. Pipes and files get nothing, so logs and tests stay clean.
inline std::shared_ptr<const Model> load_model(const ModelOptions& o) {
  const bool tty = isatty(STDERR_FILENO) == 1;
  if (!tty) return load(o.path, o.load_options());
  const uintmax_t bytes = weight_file_bytes(o.path);
  if (bytes > 0) fmt::print(stderr, "loading {} ({} MB)... ", o.path, (bytes + 999'999) / 1'000'000);
  else fmt::print(stderr, "loading {}... ", o.path);
  std::fflush(stderr);
  const auto t0 = std::chrono::steady_clock::now();
  try {
    auto model = load(o.path, o.load_options());
    fmt::print(stderr, "loaded in {:.1f} s\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    return model;
  } catch (...) {
    fmt::print(stderr, "\n");  // the error message starts on a line of its own
    throw;
  }
}

}  // namespace tessera::tools
