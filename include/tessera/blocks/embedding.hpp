// Token (and learned position) embeddings: a [rows, dim] table in the checkpoint's dtype,
// rows gathered into f32 activations, optionally scaled (Gemma, Marian, T5-free).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "tessera/blocks/linear.hpp"

namespace tessera {

class Embedding {
 public:
  Embedding() = default;
  // A table [rows, dim] in F32, F16, BF16 or a ggml block type; `name` names it in errors.
  explicit Embedding(Tensor table, std::string name = "embedding") : table_(std::move(table)), name_(std::move(name)) {
    TESSERA_CHECK(table_.rank() == 2, "{}: an embedding table must be [rows, dim], found shape {}", name_,
                  shape_str(table_.shape()));
    TESSERA_CHECK(is_weight_dtype(table_.dtype()), "{}: embedding dtype {} is not supported", name_,
                  dtype_name(table_.dtype()));
  }

  int64_t rows() const { return table_.dim(0); }
  int64_t dim() const { return table_.dim(1); }
  const Tensor& table() const { return table_; }

  // out[dim] (+)= table[id] * scale. Out-of-range ids are an Error, never a wild read.
  void lookup(int64_t id, float* out, float scale = 1.0f, bool accumulate = false) const {
    if (id < 0 || id >= rows()) fail("{}: index {} out of range [0, {})", name_, id, rows());
    const int64_t d = dim();
    const auto* base = static_cast<const unsigned char*>(table_.raw()) + dtype_bytes(table_.dtype(), id * d);
    if (is_quantized(table_.dtype())) {  // a row is whole blocks: dequantize it, then scale
      if (!accumulate && scale == 1.0f) return kernels::dequantize_row(table_.dtype(), base, out, d);
      thread_local std::vector<float> row;
      row.resize(size_t(d));
      kernels::dequantize_row(table_.dtype(), base, row.data(), d);
      for (int64_t i = 0; i < d; ++i) out[i] = accumulate ? out[i] + row[size_t(i)] * scale : row[size_t(i)] * scale;
      return;
    }
    if (!accumulate && scale == 1.0f) {
      kernels::to_f32(base, table_.dtype(), out, d);
      return;
    }
    for (int64_t i = 0; i < d; ++i) {
      float v;
      kernels::to_f32(base + size_t(i) * dtype_size(table_.dtype()), table_.dtype(), &v, 1);
      out[i] = accumulate ? out[i] + v * scale : v * scale;
    }
  }

 private:
  Tensor table_;
  std::string name_;
};

}  // namespace tessera
