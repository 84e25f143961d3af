// Weights bound by scope: a Scope is a WeightStore plus a name prefix, so a family says
// `layer.pp("self_attn").linear("q_proj", d, q_width)` and the checkpoint's tensor
// "model.layers.3.self_attn.q_proj.weight" is read, shape-checked, dtype-checked, quantized
// when the store asks for it, and handed to the block's public constructor. Blocks do no file
// I/O; this is where file names meet blocks (as CTranslate2's scopes or candle's VarBuilder).
// Every error names the full tensor name and the file.
#pragma once

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "tessera/blocks/attention.hpp"
#include "tessera/blocks/embedding.hpp"
#include "tessera/blocks/mlp.hpp"
#include "tessera/blocks/norm.hpp"
#include "tessera/io/safetensors.hpp"

namespace tessera {

// Which of an attention's projections have a bias.
struct AttentionBiases {
  bool q = false, k = false, v = false, o = false;
  static AttentionBiases all(bool on) { return {on, on, on, on}; }
};
// The projections' module names under an attention scope.
struct AttentionNames {
  std::string q = "q_proj", k = "k_proj", v = "v_proj", o = "o_proj";
};
// A feed-forward block's module names: gated uses gate, up and down; dense uses up and down.
struct MLPNames {
  std::string gate = "gate_proj", up = "up_proj", down = "down_proj";
  static MLPNames dense(std::string up, std::string down) { return {"", std::move(up), std::move(down)}; }
};

class Scope {
 public:
  // The store must outlive the scope (and every scope made from it); a temporary store is refused.
  explicit Scope(const WeightStore& store, std::string prefix = "") : store_(&store), prefix_(std::move(prefix)) {}
  explicit Scope(WeightStore&&, std::string = "") = delete;

  // The scope of a child module: pp("layers").pp("3") is "<prefix>layers.3.".
  Scope pp(const std::string& name) const { return Scope(*store_, prefix_ + name + "."); }
  Scope pp(int64_t index) const { return pp(std::to_string(index)); }
  const std::string& prefix() const { return prefix_; }
  const WeightStore& store() const { return *store_; }
  // The full name of a tensor in this scope.
  std::string name(const std::string& leaf) const { return prefix_ + leaf; }
  bool has(const std::string& leaf) const { return store_->has(name(leaf)); }

  // A tensor with a shape check.
  Tensor tensor(const std::string& leaf, const Shape& shape) const { return store_->get(name(leaf), shape); }
  // A float tensor of n values as f32 (biases, norm scales).
  std::vector<float> vector(const std::string& leaf, int64_t n) const {
    const std::string full = name(leaf);
    Tensor t = store_->get(full, {n});
    if (!is_float(t.dtype()))
      fail("{}: tensor '{}': dtype {} is not supported here (expected F32, F16, BF16 or F64)", store_->file_of(full), full,
           dtype_name(t.dtype()));
    std::vector<float> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) v[size_t(i)] = t.get_f32(i);
    return v;
  }
  // A weight matrix (any shape) whose dtype the GEMM kernels read, else an Error naming it.
  Tensor weight(const std::string& leaf, const Shape& shape) const {
    const std::string full = name(leaf);
    Tensor t = store_->get(full, shape);
    if (!is_weight_dtype(t.dtype()))
      fail("{}: tensor '{}': dtype {} is not supported for weights (expected F32, F16, BF16 or a GGUF block type)",
           store_->file_of(full), full, dtype_name(t.dtype()));
    return t;
  }
  // Quantize at load (WeightStore::set_quantize): a float matrix [n, k] becomes the store's
  // target type, row by row with ggml's reference quantizer, the bytes `llama-quantize --pure`
  // would write. Anything else is returned as it is.
  Tensor quantized(Tensor w) const {
    if (!store_->quantize() || w.rank() != 2 || is_quantized(w.dtype()) || w.numel() == 0) return w;
    const int64_t n = w.dim(0), k = w.dim(1);
    const DType target = quantize_fallback(*store_->quantize(), k);
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

  // nn.Linear "<module>.weight" [out, in] and, when `bias`, "<module>.bias" [out].
  Linear linear(const std::string& module, int64_t in, int64_t out, bool bias = false) const {
    const std::string w = module + ".weight";
    Tensor file_w = weight(w, {out, in});
    Tensor q = quantized(file_w);
    const bool copied = q.raw() != file_w.raw();
    Linear l(std::move(q), bias ? vector(module + ".bias", out) : std::vector<float>{});
    // The packed panels (or the quantized copy) hold every byte the kernels read: let the
    // file's pages go, so that loading holds one copy of the weights, not two (they are
    // re-read if ever touched). Quantized weights from the file are read in place.
    if (l.is_packed() || copied) store_->release(name(w));
    return l;
  }
  // A weight whose output rows the file stores in another order (BLOOM's and Falcon's
  // head-interleaved query_key_value, GPT-J's interleaved rotary pairs): output i is row
  // rows[i] of the stored [stored_out, in] weight and bias, copied once into that order.
  Linear linear_rows(const std::string& module, int64_t in, int64_t stored_out, const std::vector<int64_t>& rows,
                     bool bias) const {
    const std::string wname = module + ".weight";
    Tensor src = weight(wname, {stored_out, in});
    std::vector<float> stored_bias = bias ? vector(module + ".bias", stored_out) : std::vector<float>{};
    Tensor w = Tensor::zeros(src.dtype(), {int64_t(rows.size()), in});
    std::vector<float> b;
    const size_t row_bytes = dtype_bytes(src.dtype(), in);
    for (size_t i = 0; i < rows.size(); ++i) {
      TESSERA_CHECK(rows[i] >= 0 && rows[i] < stored_out, "{}: row {} of '{}' is outside its {} rows",
                    store_->file_of(name(wname)), rows[i], name(wname), stored_out);
      std::memcpy(static_cast<unsigned char*>(w.raw()) + i * row_bytes,
                  static_cast<const unsigned char*>(src.raw()) + size_t(rows[i]) * row_bytes, row_bytes);
      if (bias) b.push_back(stored_bias[size_t(rows[i])]);
    }
    store_->release(name(wname));  // the copy holds every byte the kernels read
    return Linear(quantized(std::move(w)), std::move(b));
  }
  // GPT-2's Conv1D stores W as [in, out]: transposed once here into an owned [out, in]
  // (unless the store holds it as [out, in] already: GGUF files).
  Linear linear_transposed(const std::string& module, int64_t in, int64_t out, bool bias) const {
    if (store_->conv1d_transposed()) return linear(module, in, out, bias);
    Tensor src = weight(module + ".weight", {in, out});
    return Linear(quantized(src.transposed()), bias ? vector(module + ".bias", out) : std::vector<float>{});
  }

  // nn.LayerNorm "<module>.weight" (+ ".bias" when `bias`) over n features.
  Norm layer_norm(const std::string& module, int64_t n, float eps, bool bias = true) const {
    return Norm(NormKind::LayerNorm, n, eps, vector(module + ".weight", n), bias ? vector(module + ".bias", n) : std::vector<float>{});
  }
  // RMSNorm "<module>.weight"; plus_one: the checkpoint stores w and the scale is 1 + w (Gemma).
  Norm rms_norm(const std::string& module, int64_t n, float eps, bool plus_one = false) const {
    std::vector<float> w = vector(module + ".weight", n);
    if (plus_one)
      for (float& x : w) x = 1.0f + x;
    return Norm(NormKind::RMSNorm, n, eps, std::move(w));
  }
  // nn.Embedding "<module>.weight" [rows, dim].
  Embedding embedding(const std::string& module, int64_t rows, int64_t dim) const {
    const std::string w = module + ".weight";
    Tensor file_t = weight(w, {rows, dim});
    Tensor t = quantized(file_t);
    if (t.raw() != file_t.raw()) store_->release(name(w));
    return Embedding(std::move(t), name(w));
  }

  // Self- or cross-attention with separate projections named `names` in this scope, shaped
  // by `cfg` (q and o heads × head_dim, k and v kv_heads × head_dim).
  Attention attention(const AttentionConfig& cfg, AttentionBiases bias = {}, const AttentionNames& names = {}) const {
    const int64_t q = cfg.heads * cfg.head_dim, kv = cfg.kv_heads * cfg.head_dim;
    cfg_check(cfg);
    // One statement each: tensors are read (and their errors raised) in q, k, v, o order.
    Linear lq = linear(names.q, cfg.hidden, q, bias.q);
    Linear lk = linear(names.k, cfg.hidden, kv, bias.k);
    Linear lv = linear(names.v, cfg.hidden, kv, bias.v);
    Linear lo = linear(names.o, q, cfg.hidden, bias.o);
    return Attention(cfg, std::move(lq), std::move(lk), std::move(lv), std::move(lo));
  }
  // down(act(gate·x) ⊙ up·x).
  MLP gated_mlp(kernels::Activation act, int64_t hidden, int64_t ffn, bool bias = false, const MLPNames& names = {}) const {
    Linear gate = linear(names.gate, hidden, ffn, bias);
    Linear up = linear(names.up, hidden, ffn, bias);
    Linear down = linear(names.down, ffn, hidden, bias);
    return MLP::gated(act, std::move(gate), std::move(up), std::move(down));
  }
  // fc2(act(fc1·x)).
  MLP dense_mlp(kernels::Activation act, int64_t hidden, int64_t ffn, bool bias, const MLPNames& names) const {
    Linear up = linear(names.up, hidden, ffn, bias);
    Linear down = linear(names.down, ffn, hidden, bias);
    return MLP::dense(act, std::move(up), std::move(down));
  }

 private:
  static void cfg_check(const AttentionConfig& cfg) {
    Attention a;
    a.cfg = cfg;
    a.validate();  // before the shapes are computed from it
  }

  const WeightStore* store_;
  std::string prefix_;
};

}  // namespace tessera
