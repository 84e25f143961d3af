// Writing a Hugging Face decoder checkpoint (llama, mistral, qwen2, qwen3 with a byte-level
// BPE tokenizer) as a GGUF file that llama.cpp loads: what its converter and then
// `llama-quantize --pure TYPE` would write (tessera-quantize).
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "tessera/core/dtype.hpp"

namespace tessera {

struct GgufExportOptions {
  DType type = DType::F32;  // F32, F16, BF16 or a quantized type (Q8_0, Q4_K, ...)
  std::function<void(size_t done, size_t total)> progress;  // called after each tensor
};

void export_gguf(const std::string& model_dir, const std::string& out_path, const GgufExportOptions& options);

}  // namespace tessera
