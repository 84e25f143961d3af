// Sentence embeddings from an encoder's packed output (Model::encode): mean or CLS pooling
// per sequence and L2 normalisation, as sentence-transformers' Pooling and Normalize modules.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "tessera/core/error.hpp"
#include "tessera/core/tensor.hpp"

namespace tessera {

enum class Pooling {
  Mean,  // average of the sequence's token vectors (special tokens included, as sentence-transformers)
  Cls,   // the first token's vector
};

// "mean" / "cls" → Pooling, or an Error listing the choices.
inline Pooling parse_pooling(const std::string& name) {
  if (name == "mean") return Pooling::Mean;
  if (name == "cls") return Pooling::Cls;
  fail("pooling '{}' is not supported (supported: mean, cls)", name);
}

// v ← v / max(‖v‖₂, 1e-12), as torch.nn.functional.normalize.
inline void l2_normalize(float* v, int64_t n) {
  double sq = 0;
  for (int64_t i = 0; i < n; ++i) sq += double(v[i]) * double(v[i]);
  const float inv = float(1.0 / std::max(std::sqrt(sq), 1e-12));
  for (int64_t i = 0; i < n; ++i) v[i] *= inv;
}

// hidden [sum(lengths), H] packed in sequence order → [lengths.size(), H]. An empty
// sequence pools to zeros.
inline Tensor pool_embeddings(const Tensor& hidden, const std::vector<int64_t>& lengths, Pooling pooling,
                              bool normalize = false) {
  if (hidden.rank() != 2 || hidden.dtype() != DType::F32)
    fail("pool_embeddings: expected f32 hidden states [tokens, hidden], found {} {}", dtype_name(hidden.dtype()),
         shape_str(hidden.shape()));
  const int64_t h = hidden.dim(1), b = int64_t(lengths.size());
  int64_t total = 0;
  for (int64_t len : lengths) {
    if (len < 0) fail("pool_embeddings: negative sequence length {}", len);
    total += len;
  }
  if (total != hidden.dim(0))
    fail("pool_embeddings: the sequence lengths add up to {} tokens, the hidden states hold {}", total, hidden.dim(0));
  Tensor out = Tensor::zeros(DType::F32, {b, h});
  const float* x = hidden.data<float>();
  int64_t offset = 0;
  for (int64_t r = 0; r < b; ++r) {
    const int64_t len = lengths[size_t(r)];
    float* y = out.data<float>() + r * h;
    if (len > 0) {
      if (pooling == Pooling::Cls) {
        std::memcpy(y, x + offset * h, size_t(h) * sizeof(float));
      } else {
        // Sum in double so long sequences do not lose the small components.
        std::vector<double> acc(size_t(h), 0.0);
        for (int64_t t = 0; t < len; ++t)
          for (int64_t i = 0; i < h; ++i) acc[size_t(i)] += x[(offset + t) * h + i];
        for (int64_t i = 0; i < h; ++i) y[i] = float(acc[size_t(i)] / double(len));
      }
      if (normalize) l2_normalize(y, h);
    }
    offset += len;
  }
  return out;
}

}  // namespace tessera
