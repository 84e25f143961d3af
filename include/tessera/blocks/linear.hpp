// Linear: y = x·Wᵀ + b with W [out, in] kept in the checkpoint's dtype (f32, f16, bf16, or a
// ggml block-quantized type from a GGUF file).
// Float W is re-laid out once, at construction, into kernels::PackedWeight panels (same dtype,
// so the same number of bytes as the file's tensor); every forward runs on the packed form and
// the original (usually a view of the mmapped file) is never read again after loading.
// Quantized W is used in place (rows of blocks, as the file stores them), or for the types
// the kernels read in panels (Q4_0, Q8_0, Q4_K, Q6_K) re-laid out once like float W:
// kernels::gemm_quant.
#pragma once

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "tessera/core/tensor.hpp"
#include "tessera/io/safetensors.hpp"
#include "tessera/kernels/kernels.hpp"
#include "tessera/kernels/quant.hpp"

namespace tessera {

// A small f32 vector (bias, norm scale) read from the store with a shape check.
inline std::vector<float> load_vector(const WeightStore& store, const std::string& name, int64_t n) {
  Tensor t = store.get(name, {n});
  if (!is_float(t.dtype()))
    fail("{}: tensor '{}': dtype {} is not supported here (expected F32, F16, BF16 or F64)", store.file_of(name), name,
         dtype_name(t.dtype()));
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[size_t(i)] = t.get_f32(i);
  return v;
}

// Weights usable by the GEMM kernels: f32, f16, bf16 or a ggml block type; anything else is
// an Error.
inline Tensor check_weight_dtype(const WeightStore& store, const std::string& name, Tensor t) {
  if (t.dtype() != DType::F32 && t.dtype() != DType::F16 && t.dtype() != DType::BF16 &&
      !(is_quantized(t.dtype()) && t.dtype() != DType::Q8_K))
    fail("{}: tensor '{}': dtype {} is not supported for weights (expected F32, F16, BF16 or a GGUF block type)",
         store.file_of(name), name, dtype_name(t.dtype()));
  return t;
}

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

// Quantize at load (WeightStore::set_quantize): a float matrix [n, k] becomes the store's
// target type, row by row with ggml's reference quantizer, the bytes `llama-quantize --pure`
// would write. Anything else is returned as it is.
inline Tensor quantize_for_store(const WeightStore& store, Tensor w) {
  if (!store.quantize() || w.rank() != 2 || is_quantized(w.dtype()) || w.numel() == 0) return w;
  const int64_t n = w.dim(0), k = w.dim(1);
  const DType target = quantize_fallback(*store.quantize(), k);
  if (target == w.dtype()) return w;
  Tensor q = Tensor::zeros(target, {n, k});
  std::vector<float> row(static_cast<size_t>(k));
  const size_t in_row = dtype_bytes(w.dtype(), k), out_row = dtype_bytes(target, k);
  for (int64_t r = 0; r < n; ++r) {
    kernels::to_f32(static_cast<const unsigned char*>(w.raw()) + size_t(r) * in_row, w.dtype(), row.data(), k);
    kernels::quantize_row(target, row.data(), static_cast<unsigned char*>(q.raw()) + size_t(r) * out_row, k);
  }
  return q;
}

class Linear {
 public:
  Linear() = default;
  Linear(Tensor weight, std::vector<float> bias) : w_(std::move(weight)), b_(std::move(bias)) {
    TESSERA_CHECK(w_.rank() == 2, "Linear: the weight must be a matrix [out, in], got rank {}", w_.rank());
    if (is_quantized(w_.dtype()) && w_.numel() > 0) {
      quant_ = kernels::QuantWeight(w_.raw(), w_.dtype(), w_.dim(0), w_.dim(1), w_.keepalive());
      if (quant_.repacked()) w_ = Tensor();  // the panels hold every byte (a copied W is freed)
    } else {  // an empty matrix packs to nothing whatever its dtype: Y is the bias
      packed_ = kernels::PackedWeight::pack(w_.raw(), w_.numel() > 0 ? w_.dtype() : DType::F32, w_.dim(0), w_.dim(1));
    }
  }

  // HF nn.Linear: "<prefix>.weight" [out, in] and, when `bias`, "<prefix>.bias" [out].
  static Linear load(const WeightStore& store, const std::string& prefix, int64_t in, int64_t out, bool bias) {
    Tensor file_w = check_weight_dtype(store, prefix + ".weight", store.get(prefix + ".weight", {out, in}));
    Tensor w = quantize_for_store(store, file_w);
    const bool copied = w.raw() != file_w.raw();
    Linear l(std::move(w), bias ? load_vector(store, prefix + ".bias", out) : std::vector<float>{});
    // The packed panels (or the quantized copy) hold every byte the kernels read: let the
    // file's pages go, so that loading holds one copy of the weights, not two (they are
    // re-read if ever touched). Other quantized weights from the file are read in place.
    if (!l.packed_.empty() || copied || l.quant_.repacked()) store.release(prefix + ".weight");
    return l;
  }

  // A weight whose output rows the file stores in another order (BLOOM's and Falcon's
  // head-interleaved query_key_value, GPT-J's interleaved rotary pairs): output i is row
  // rows[i] of the stored [stored_out, in] weight and bias, copied once into that order.
  static Linear load_rows(const WeightStore& store, const std::string& prefix, int64_t in, int64_t stored_out,
                          const std::vector<int64_t>& rows, bool bias) {
    Tensor src = check_weight_dtype(store, prefix + ".weight", store.get(prefix + ".weight", {stored_out, in}));
    std::vector<float> stored_bias = bias ? load_vector(store, prefix + ".bias", stored_out) : std::vector<float>{};
    Tensor w = Tensor::zeros(src.dtype(), {int64_t(rows.size()), in});
    std::vector<float> b;
    const size_t row_bytes = dtype_bytes(src.dtype(), in);
    for (size_t i = 0; i < rows.size(); ++i) {
      TESSERA_CHECK(rows[i] >= 0 && rows[i] < stored_out, "{}: row {} of '{}.weight' is outside its {} rows",
                    store.file_of(prefix + ".weight"), rows[i], prefix, stored_out);
      std::memcpy(static_cast<unsigned char*>(w.raw()) + i * row_bytes,
                  static_cast<const unsigned char*>(src.raw()) + size_t(rows[i]) * row_bytes, row_bytes);
      if (bias) b.push_back(stored_bias[size_t(rows[i])]);
    }
    store.release(prefix + ".weight");  // the copy holds every byte the kernels read
    return Linear(quantize_for_store(store, std::move(w)), std::move(b));
  }

  // GPT-2's Conv1D stores W as [in, out]: transposed once here into an owned [out, in]
  // (unless the store holds it as [out, in] already: GGUF files).
  static Linear load_transposed(const WeightStore& store, const std::string& prefix, int64_t in, int64_t out,
                                bool bias) {
    if (store.conv1d_transposed()) return load(store, prefix, in, out, bias);
    Tensor src = check_weight_dtype(store, prefix + ".weight", store.get(prefix + ".weight", {in, out}));
    return Linear(quantize_for_store(store, src.transposed()),
                  bias ? load_vector(store, prefix + ".bias", out) : std::vector<float>{});
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
