// The hot loops, as plain functions on raw row-major buffers. Each dispatches at run time to
// the scalar, AVX2 or AVX-512 version (see cpu.hpp); tests/kernel_reference.hpp holds the simple
// double-accumulating oracles the tests compare them with. Nothing here knows what a model is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "tessera/core/dtype.hpp"
#include "tessera/kernels/cpu.hpp"

namespace tessera::kernels {

// W [N, K] rearranged once (at load) for gemm_packed: panels of kPanel = 32 output columns,
// each panel [K][32] contiguous, in W's own dtype (F32, F16 or BF16: an f16 checkpoint
// stays 2 bytes per weight), N padded to a multiple of 32 with zeros. The same bytes serve
// every M: decode streams whole panels front to back, prefill feeds them to the register
// tile without per-call repacking. Immutable and cheap to copy (shared storage).
class PackedWeight {
 public:
  static constexpr int64_t kPanel = 32;
  PackedWeight() = default;
  // w: [n, k] row-major, dtype F32, F16 or BF16.
  static PackedWeight pack(const void* w, DType type, int64_t n, int64_t k);
  // The packing of the parts' weights stacked along N ([W0; W1; ...]), made by copying their
  // panels: all of one dtype and K, every part but the last a whole number of panels (a
  // multiple of kPanel rows; the last part's padding becomes the result's).
  static PackedWeight concat(const std::vector<const PackedWeight*>& parts);
  bool empty() const { return data_ == nullptr; }
  int64_t n() const { return n_; }
  int64_t k() const { return k_; }
  DType dtype() const { return type_; }
  int64_t panels() const { return (n_ + kPanel - 1) / kPanel; }
  size_t bytes() const { return size_t(panels() * kPanel * k_) * dtype_size(type_); }
  const void* data() const { return data_.get(); }

 private:
  std::shared_ptr<void> data_;
  DType type_ = DType::F32;
  int64_t n_ = 0, k_ = 0;
};

// Y[m, n] = sum_k X[m, k] * W[n, k]  (+ bias[n])  (+ Y[m, n] when accumulate): the one GEMM
// engine, with W packed once (a weight used once is packed on the fly: PackedWeight::pack,
// then this). X: f32 [M, K] with row stride ldx; Y: f32 [M, N] with row stride ldy. Threads
// over N (and M for large M) on the pool; every output element is one FMA chain in K order,
// so the result does not depend on the thread count.
void gemm_packed(const float* x, int64_t m, int64_t ldx, const PackedWeight& w, float* y, int64_t ldy,
                 const float* bias = nullptr, bool accumulate = false);

// Fused multi-head attention (flash-style: key tiles with an online softmax, never an L×L
// score matrix; scratch is O(tile)). Query row i (position q_pos0 + i) holds `heads` heads of
// head_dim values at q + i*ldq. Key/value row j (position j) is kv_stride bytes after row j-1
// (k, v and kv_stride 4-byte aligned for F32, 2-byte for the others) and holds kv_heads heads of kv_head_bytes(kv_type, head_dim) bytes each, in kv_type: F32,
// F16, BF16, or Q8_0 (each head ceil(head_dim / 32) of ggml's blocks, zero-padded past
// head_dim). The kernel converts keys and values tile by tile as it reads them. Query head h
// reads kv head h / (heads / kv_heads) (GQA/MQA without copies). Causal: query at p sees keys
// j <= p; with window > 0 also j > p - window. Bidirectional: every key, or with window > 0
// those with |j - p| < window (ModernBERT's local layers). score = scale * q·k (soft-capped
// when softcap > 0) (+ bias(ctx, h, qpos, j) when bias is set) (+ ALiBi when alibi is set:
// alibi_scale · (alibi[h]·j − alibi[h]·p) for the query at p, each product in float and, with
// alibi_bf16, rounded to bf16 as Falcon's build_alibi_tensor rounds slope·j. Hugging Face adds
// only slope·j; the query's own term is a constant per row, which softmax ignores, and
// subtracting it keeps the scores near the diagonal small instead of growing with the
// position); out row i: heads × head_dim at out + i*ldo. A query with no visible key gets zeros.
//
// The keys are cut into fixed slices of kAttentionSlice positions; each slice's softmax state
// (max, sum, weighted values) is computed on its own and the states are merged in slice order.
// Decode steps with a long context give the slices of one query row to different threads
// (flash-decoding); since the slices and the merge order never change, the result is bitwise
// the same for every thread count, and a row's result does not depend on the other rows.
using AttentionBiasFn = float (*)(const void* ctx, int64_t head, int64_t qpos, int64_t kpos);
constexpr int64_t kAttentionSlice = 256;
// Bytes of one head of head_dim values in a KV cache of dtype t (F32, F16, BF16, Q8_0).
constexpr int64_t kv_head_bytes(DType t, int64_t head_dim) {
  return t == DType::Q8_0 ? (head_dim + 31) / 32 * int64_t(dtype_block_bytes(t)) : head_dim * int64_t(dtype_size(t));
}
// The dtypes a KV cache (and kernels::attention) can hold.
constexpr bool is_kv_type(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16 || t == DType::Q8_0; }
struct AttentionArgs {
  const float* q = nullptr;
  int64_t ldq = 0;
  const void* k = nullptr;
  const void* v = nullptr;
  DType kv_type = DType::F32;
  int64_t kv_stride = 0;  // bytes
  float* out = nullptr;
  int64_t ldo = 0;
  int64_t m = 0, n_keys = 0, heads = 0, kv_heads = 0, head_dim = 0;
  int64_t q_pos0 = 0;
  bool causal = true;
  int64_t window = 0;
  float scale = 1.0f;
  float softcap = 0.0f;  // > 0: scores become softcap·tanh(scores / softcap) (Gemma 2)
  AttentionBiasFn bias = nullptr;
  const void* bias_ctx = nullptr;
  const float* alibi = nullptr;  // ALiBi: one slope per query head (heads of them), or null
  float alibi_scale = 1.0f;
  bool alibi_bf16 = false;
};
void attention(const AttentionArgs& a);

// Dot product of two f32 vectors.
float dot(const float* a, const float* b, int64_t n);
// y += a * x
void axpy(float a, const float* x, float* y, int64_t n);

// In-place numerically stable softmax over one row of n values (-inf allowed; an all -inf
// row becomes all zeros).
void softmax(float* x, int64_t n);

// y = x / sqrt(mean(x^2) + eps) * w   (w may be null: no scale). x and y may alias.
void rms_norm(const float* x, const float* w, float* y, int64_t n, float eps);
// y = (x - mean) / sqrt(var + eps) * g + b   (g, b may be null). x and y may alias.
void layer_norm(const float* x, const float* g, const float* b, float* y, int64_t n, float eps);

// In-place activations over n values.
void silu(float* x, int64_t n);
void gelu(float* x, int64_t n);       // exact, erf-based
void gelu_tanh(float* x, int64_t n);  // tanh approximation
void relu(float* x, int64_t n);
// x[i] = silu(x[i]) * y[i]  and  x[i] = gelu_tanh(x[i]) * y[i] etc. for gated MLPs.
enum class Activation { Silu, Gelu, GeluTanh, Relu, Identity };
void activate(Activation act, float* x, int64_t n);
void activate_mul(Activation act, float* x, const float* y, int64_t n);

// Convert n weights of dtype `type` to f32.
void to_f32(const void* src, DType type, float* dst, int64_t n);

}  // namespace tessera::kernels
