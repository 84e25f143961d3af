// Linear: y = x·Wᵀ + b with W [out, in] kept in the checkpoint's dtype (f32, f16, bf16, or a
// ggml block-quantized type from a GGUF file).
// Float W is re-laid out once, at construction, into kernels::PackedWeight panels (same dtype,
// so the same number of bytes as the file's tensor); every forward runs on the packed form and
// the original (usually a view of the mmapped file) is never read again after loading.
// Quantized W is used in place (rows of blocks, as the file stores them), or for the types
// the kernels read in panels (Q4_0, Q8_0, Q4_K, Q6_K) re-laid out once like float W:
// kernels::gemm_quant.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tessera/core/tensor.hpp"
#include "tessera/kernels/kernels.hpp"
#include "tessera/kernels/quant.hpp"

namespace tessera {

// The type llama-quantize gives a matrix whose rows of `k` do not fit `type`'s blocks
// (llama-quant.cpp, tensor_type_fallback): K-quants fall back to a 32-block type, and
// what still does not fit stays F16.
inline DType quantize_fallback(DType type, int64_t k) {
  if (k % dtype_block_elems(type) == 0) return type;
  switch (type) {
    case DType::Q2_K: case DType::Q3_K: type = DType::Q4_0; break;
    case DType::Q4_K: type = DType::Q5_0; break;
    case DType::Q5_K: type = DType::Q5_1; break;
    case DType::Q6_K: type = DType::Q8_0; break;
    default: break;
  }
  return k % dtype_block_elems(type) == 0 ? type : DType::F16;
}

// The weight types the GEMM kernels read: f32, f16, bf16 or a ggml block type.
inline bool is_weight_dtype(DType t) {
  return t == DType::F32 || t == DType::F16 || t == DType::BF16 || (is_quantized(t) && t != DType::Q8_K);
}

class Linear {
 public:
  Linear() = default;
  // W [out, in] in F32, F16, BF16 or a ggml block type (borrowed or owned: the Tensor keeps
  // its bytes alive), and an optional bias of `out` values. Float W is packed here.
  Linear(Tensor weight, std::vector<float> bias) : w_(std::move(weight)), b_(std::move(bias)) {
    TESSERA_CHECK(w_.rank() == 2, "Linear: the weight must be a matrix [out, in], found shape {}", shape_str(w_.shape()));
    TESSERA_CHECK(is_weight_dtype(w_.dtype()),
                  "Linear: weight dtype {} is not supported (expected F32, F16, BF16 or a GGUF block type)",
                  dtype_name(w_.dtype()));
    TESSERA_CHECK(b_.empty() || int64_t(b_.size()) == w_.dim(0), "Linear: {} bias values for {} outputs", b_.size(),
                  w_.dim(0));
    if (is_quantized(w_.dtype()) && w_.numel() > 0) {
      quant_ = kernels::QuantWeight(w_.raw(), w_.dtype(), w_.dim(0), w_.dim(1), w_.keepalive());
      if (quant_.repacked()) w_ = Tensor();  // the panels hold every byte (a copied W is freed)
    } else {  // an empty matrix packs to nothing whatever its dtype: Y is the bias
      packed_ = kernels::PackedWeight::pack(w_.raw(), w_.numel() > 0 ? w_.dtype() : DType::F32, w_.dim(0), w_.dim(1));
    }
  }

  // One Linear whose outputs are the parts' side by side, [y0 | y1 | ...] (q|k|v, gate|up):
  // decode then streams one weight instead of several and prefill packs (or quantizes) X once.
  // The result is bit-identical to running the parts (each output is the same chain of
  // operations over K). std::nullopt when the parts cannot share one layout (not packed or in
  // quantized panels, different dtypes or input sizes, or a part other than the last that is
  // not a whole number of panels).
  static std::optional<Linear> fuse(const std::vector<const Linear*>& parts) {
    if (parts.empty()) return std::nullopt;
    Linear f;
    if (!parts[0]->packed_.empty()) {
      std::vector<const kernels::PackedWeight*> packed;
      for (size_t i = 0; i < parts.size(); ++i) {
        const Linear& l = *parts[i];
        if (l.packed_.empty() || l.packed_.dtype() != parts[0]->packed_.dtype() ||
            l.in_features() != parts[0]->in_features())
          return std::nullopt;
        if (i + 1 < parts.size() && l.out_features() % kernels::PackedWeight::kPanel != 0) return std::nullopt;
        packed.push_back(&l.packed_);
      }
      f.packed_ = kernels::PackedWeight::concat(packed);
    } else {
      std::vector<const kernels::QuantWeight*> quant;
      for (const Linear* l : parts) quant.push_back(&l->quant_);
      f.quant_ = kernels::QuantWeight::concat(quant);
      if (!f.quant_.repacked()) return std::nullopt;
    }
    bool bias = false;
    for (const Linear* l : parts) bias = bias || l->has_bias();
    if (bias)  // a part without bias adds zeros
      for (const Linear* l : parts) {
        if (l->has_bias()) f.b_.insert(f.b_.end(), l->b_.begin(), l->b_.end());
        else f.b_.insert(f.b_.end(), size_t(l->out_features()), 0.0f);
      }
    return f;
  }

  int64_t in_features() const { return !packed_.empty() ? packed_.k() : !quant_.empty() ? quant_.k() : w_.dim(1); }
  int64_t out_features() const { return !packed_.empty() ? packed_.n() : !quant_.empty() ? quant_.n() : w_.dim(0); }
  // The weight's type as the kernels read it.
  DType weight_dtype() const { return !packed_.empty() ? packed_.dtype() : !quant_.empty() ? quant_.dtype() : w_.dtype(); }
  // The checkpoint's tensor; empty for a fused Linear or a quantized W in panels (only the
  // re-laid out form exists).
  const Tensor& weight() const { return w_; }
  bool has_bias() const { return !b_.empty(); }
  // Whether the kernels read a re-laid-out copy (packed panels, repacked quantized rows): the
  // checkpoint's bytes are then no longer needed.
  bool is_packed() const { return !packed_.empty() || quant_.repacked(); }

  // y[m, out] (row stride ldy) = x[m, in] (row stride ldx) · Wᵀ + b  (+ y when accumulate)
  void forward(const float* x, int64_t m, float* y, int64_t ldx = -1, int64_t ldy = -1, bool accumulate = false) const {
    if (!packed_.empty()) {
      kernels::gemm_packed(x, m, ldx < 0 ? in_features() : ldx, packed_, y, ldy < 0 ? out_features() : ldy,
                           b_.empty() ? nullptr : b_.data(), accumulate);
      return;
    }
    TESSERA_CHECK(!quant_.empty(), "Linear::forward: no weight (a default-constructed Linear)");
    kernels::gemm_quant(x, m, ldx < 0 ? in_features() : ldx, quant_, y, ldy < 0 ? out_features() : ldy,
                        b_.empty() ? nullptr : b_.data(), accumulate);
  }

 private:
  Tensor w_;
  kernels::PackedWeight packed_;
  kernels::QuantWeight quant_;
  std::vector<float> b_;
};

}  // namespace tessera
