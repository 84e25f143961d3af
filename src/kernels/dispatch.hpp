// The dispatch table: one set of plain function pointers per ISA, filled by each ISA's own
// translation unit. Only pointers and plain structs cross ISA boundaries (no inline code is
// shared between TUs built with different -m flags), which keeps the dispatch ODR-safe.
#pragma once

#include <memory>

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "tessera/core/dtype.hpp"
#include "tessera/kernels/kernels.hpp"

namespace tessera::kernels {

// One gemm_quant call, as the ISA kernels see it (already validated): the activation rows,
// already quantized by quantize_act (row i at act + i * act_stride), times W [n, k] quantized.
struct QuantGemmArgs {
  const unsigned char* act;
  size_t act_stride;
  int64_t m, k;
  const void* w;
  DType wtype;
  int64_t n;
  float* y;
  int64_t ldy;
  const float* bias;
  bool accumulate;
  const unsigned char* panels;  // W re-laid out in panels (QuantWeight::panels), or null
};

// Zeroed, 64-byte aligned storage for weight panels (kernels.cpp): large buffers get their own
// mapping, so that the parts freed after fusing go back to the system.
std::shared_ptr<void> alloc_panels(size_t bytes);

// Weight types gemm_quant reads from panels of kPanelCols rows side by side (QuantWeight
// re-lays them out at construction: quant_panels.cpp; quant_impl.inc says why).
constexpr int kPanelCols = 16;
constexpr bool has_panels(DType wtype) {
  return wtype == DType::Q4_0 || wtype == DType::Q4_1 || wtype == DType::Q5_0 || wtype == DType::Q5_1 ||
         wtype == DType::Q8_0 || wtype == DType::Q4_K || wtype == DType::Q5_K || wtype == DType::Q6_K;
}
// Bytes of one (super-)block of a panel. Q4_0: 16 f16 scales, 4 x 64 quant bytes (Q8_0: 8 x 64;
// Q5_0: Q4_0's and 64 fifth-bit bytes; Q4_1, Q5_1: Q4_0's, Q5_0's with 16 f16 minimums after
// the scales).
// Q4_K: 16 d
// and 16 dmin (f16), 8 x 16 scale and 8 x 16 min bytes, 32 x 64 quant bytes. Q6_K: 16 d, 16 x 16
// scale bytes, 32 x 64 low-nibble bytes, 16 x 64 high-bit bytes. Q5_K: Q4_K's, then 8 x 64
// fifth-bit bytes.
constexpr size_t panel_block_bytes(DType wtype) {
  return wtype == DType::Q4_0   ? 2 * kPanelCols + 256
         : wtype == DType::Q5_0 ? 2 * kPanelCols + 320
         : wtype == DType::Q4_1 ? 4 * kPanelCols + 256
         : wtype == DType::Q5_1 ? 4 * kPanelCols + 320
         : wtype == DType::Q8_0 ? 2 * kPanelCols + 512
         : wtype == DType::Q4_K ? 20 * kPanelCols + 2048
         : wtype == DType::Q5_K ? 20 * kPanelCols + 2560
         : wtype == DType::Q6_K ? 18 * kPanelCols + 3072
                                : 0;
}

// The activation format each weight type's dot product takes: Q8_K super-blocks for the
// K-quants, Q8_0 blocks otherwise.
constexpr bool quant_act_is_k(DType wtype) { return dtype_block_elems(wtype) == 256; }

// Bytes of one quantized activation row of k elements, in the layout quant_impl.inc reads:
// Q8_0 form: int8 q[k], float d[k/32], float s[k/32] (s = d·Σq), int32 sum[k/32] (Σq);
// Q8_K form: int8 q[k], float d[k/256], int16 bsums[k/16]; rounded up to 64 bytes.
constexpr size_t quant_act_bytes(DType wtype, int64_t k) {
  const size_t b = quant_act_is_k(wtype) ? size_t(k) + size_t(k / 256) * 4 + size_t(k / 16) * 2
                                         : size_t(k) + size_t(k / 32) * 12;
  return (b + 63) / 64 * 64;
}

struct KernelTable {
  // Pre-packed GEMM register tile (see PackedWeight): C[rows x 32] (+)= Ap·Bp over kc, with
  // Ap[k][packed_mr] (rows <= packed_mr used) and Bp[k][32] a panel slice in dtype `wt`; then
  // + bias[0..32) when bias is set. Each C element is one FMA chain in k order started from 0
  // (or from C when load_c), so cutting K into kc blocks never changes a result.
  void (*packed_tile)(int64_t rows, int64_t kc, const float* ap, const void* bp, DType wt, float* c,
                      int64_t ldc, bool load_c, const float* bias);
  // Decode variant (null: use packed_tile): the whole of K in one call (kc == K), rows <= 4,
  // free to split each element's sum into interleaved partial chains. Only used when the
  // whole gemm has M <= 4, so the choice never depends on the thread count.
  void (*packed_gemv)(int64_t rows, int64_t k, const float* ap, const void* bp, DType wt, float* c,
                      int64_t ldc, bool accumulate, const float* bias);
  // A micro-panel for packed_tile: dst[kk * packed_mr + r] = x[r * ldx + kk] for r < rows
  // (<= packed_mr), kk < kc; lanes r >= rows are left unspecified. Null: a scalar loop.
  void (*pack_a)(const float* x, int64_t ldx, int64_t rows, int64_t kc, float* dst);
  int64_t packed_mr;  // rows of the register tile
  int64_t packed_kc;  // K block that keeps a panel slice in L1

  // Attention for kv head g and query rows [i0, i1) over key slices [s0, s1) (see
  // attention_impl.inc); scratch holds attention_scratch_floats(a, i1 - i0) floats. part null:
  // writes the output; else stores each slice's softmax state (part_floats apart, at least
  // attention_part_floats(a, i1 - i0)) for attention_merge, which folds them in slice order.
  void (*attention_block)(const AttentionArgs& a, int64_t g, int64_t i0, int64_t i1, int64_t s0, int64_t s1,
                          float* part, int64_t part_floats, float* scratch);
  void (*attention_merge)(const AttentionArgs& a, int64_t g, int64_t i0, int64_t i1, const float* parts,
                          int64_t slices, int64_t part_floats, float* scratch);

  float (*dot)(const float* a, const float* b, int64_t n);
  void (*axpy)(float a, const float* x, float* y, int64_t n);
  void (*softmax)(float* x, int64_t n);
  void (*rms_norm)(const float* x, const float* w, float* y, int64_t n, float eps);
  void (*layer_norm)(const float* x, const float* g, const float* b, float* y, int64_t n,
                     float eps);
  void (*activate)(Activation act, float* x, int64_t n);
  void (*activate_mul)(Activation act, float* x, const float* y, int64_t n);
  // dtype is F32, F16 or BF16 (checked by the caller).
  void (*to_f32)(const void* src, DType type, float* dst, int64_t n);

  // Quantized weights (quant_impl.inc). quantize_act: one activation row of k floats into
  // quant_act_bytes(wtype, k) bytes (bit-exact with ggml's reference quantizers on every
  // ISA). quant_block: rows [m0, m1) x weight rows [n0, n1) of Y; each element's result is
  // independent of the bounds.
  void (*quantize_act)(DType wtype, const float* x, int64_t k, void* dst);
  void (*quant_block)(const QuantGemmArgs& a, int64_t m0, int64_t m1, int64_t n0, int64_t n1);
};

// Calls f(std::integral_constant<DType, T>{}) with T = wt, for the dtype-templated kernels of
// every ISA (one switch instead of one per entry point); wt is F32, F16 or BF16, checked by
// the caller.
template <typename F>
inline void with_weight_type(DType wt, F&& f) {
  switch (wt) {
    case DType::F16: return f(std::integral_constant<DType, DType::F16>{});
    case DType::BF16: return f(std::integral_constant<DType, DType::BF16>{});
    default: return f(std::integral_constant<DType, DType::F32>{});
  }
}

inline size_t attention_scratch_floats(const AttentionArgs& a, int64_t rows) {
  // K tile [hd][64], V tile [64][hdp], one converted key row [hdp], scores [units][64], two
  // softmax states [units][hdp + 2] (a slice's and the running total), key ranges [units][2]
  // in int64 (+ alignment); hdp is head_dim rounded up to 64, the widest chunk an ISA uses.
  const int64_t units = rows * (a.heads / a.kv_heads), hdp = (a.head_dim + 63) / 64 * 64;
  return size_t(a.head_dim * 64 + 64 * hdp + hdp + units * (64 + 2 * (hdp + 2) + 4) + 8);
}
// One stored slice state of `rows` query rows (the split path): [units][hdp] + max + sum.
inline int64_t attention_part_floats(const AttentionArgs& a, int64_t rows) {
  const int64_t units = rows * (a.heads / a.kv_heads), hdp = (a.head_dim + 63) / 64 * 64;
  return (units * (hdp + 2) + 15) / 16 * 16;  // 64-byte aligned states
}

// The active table (chosen once from CPUID / TESSERA_ISA; set_isa switches it).
const KernelTable& table();

// Each ISA's table; the gemm entries come from that ISA's gemm TU through fill_gemm.
namespace scalar {
KernelTable make_table();
void fill_quant(KernelTable& t);
}  // namespace scalar
namespace avx2 {
KernelTable make_table();
void fill_gemm(KernelTable& t);
void fill_quant(KernelTable& t);
}  // namespace avx2
namespace avx512 {
KernelTable make_table();
void fill_gemm(KernelTable& t);
void fill_quant(KernelTable& t);  // AVX512_VNNI: call only when cpu_has_avx512_vnni()
}  // namespace avx512

// CPUID says AVX512_VNNI (vpdpbusd / vpdpwssd, with VL for the 256-bit forms).
bool cpu_has_avx512_vnni();

}  // namespace tessera::kernels
