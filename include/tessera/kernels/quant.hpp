// ggml's block-quantized weight formats (the types GGUF files hold), bit for bit: the block
// layouts, dequantization, ggml's reference quantizers, and the GEMM over quantized weights.
// A quantized matrix W [N, K] is N rows of K / block_elems blocks, exactly as the file stores
// it, so weights are used in place from the mapped file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "tessera/core/dtype.hpp"

namespace tessera::kernels {

// The blocks, as ggml lays them out (ggml-common.h). `uint16_t d` fields are IEEE f16.
namespace blocks {
constexpr int kQK = 32;    // elements per block of the "legacy" types
constexpr int kQKK = 256;  // elements per super-block of the K-quants
constexpr int kScaleBytesK = 12;
#pragma pack(push, 1)
struct Q4_0 { uint16_t d; uint8_t qs[kQK / 2]; };
struct Q4_1 { uint16_t d, m; uint8_t qs[kQK / 2]; };
struct Q5_0 { uint16_t d; uint8_t qh[4]; uint8_t qs[kQK / 2]; };
struct Q5_1 { uint16_t d, m; uint8_t qh[4]; uint8_t qs[kQK / 2]; };
struct Q8_0 { uint16_t d; int8_t qs[kQK]; };
struct Q2_K { uint8_t scales[kQKK / 16]; uint8_t qs[kQKK / 4]; uint16_t d, dmin; };
struct Q3_K { uint8_t hmask[kQKK / 8]; uint8_t qs[kQKK / 4]; uint8_t scales[12]; uint16_t d; };
struct Q4_K { uint16_t d, dmin; uint8_t scales[kScaleBytesK]; uint8_t qs[kQKK / 2]; };
struct Q5_K { uint16_t d, dmin; uint8_t scales[kScaleBytesK]; uint8_t qh[kQKK / 8]; uint8_t qs[kQKK / 2]; };
struct Q6_K { uint8_t ql[kQKK / 2]; uint8_t qh[kQKK / 4]; int8_t scales[kQKK / 16]; uint16_t d; };
struct Q8_K { float d; int8_t qs[kQKK]; int16_t bsums[kQKK / 16]; };
#pragma pack(pop)
static_assert(sizeof(Q4_0) == dtype_block_bytes(DType::Q4_0) && sizeof(Q4_1) == dtype_block_bytes(DType::Q4_1) &&
              sizeof(Q5_0) == dtype_block_bytes(DType::Q5_0) && sizeof(Q5_1) == dtype_block_bytes(DType::Q5_1) &&
              sizeof(Q8_0) == dtype_block_bytes(DType::Q8_0) && sizeof(Q2_K) == dtype_block_bytes(DType::Q2_K) &&
              sizeof(Q3_K) == dtype_block_bytes(DType::Q3_K) && sizeof(Q4_K) == dtype_block_bytes(DType::Q4_K) &&
              sizeof(Q5_K) == dtype_block_bytes(DType::Q5_K) && sizeof(Q6_K) == dtype_block_bytes(DType::Q6_K) &&
              sizeof(Q8_K) == dtype_block_bytes(DType::Q8_K));
// The 6-bit scale and 6-bit min of sub-block j (0..7) of a Q4_K / Q5_K super-block's scales.
void k4_scale_min(int j, const uint8_t* s, uint8_t* scale, uint8_t* min);
}  // namespace blocks

// dst[0..n) = the n elements at src, for every float and quantized type (n a multiple of the
// block size). Bit-exact with ggml's dequantize_row_* (plain C, no ISA variants).
void dequantize_row(DType type, const void* src, float* dst, int64_t n);

// ggml's reference quantizers (quantize_row_*_ref, no importance matrix): the bytes
// `llama-quantize --pure` writes for a tensor of this type. n a multiple of the block size;
// dst holds dtype_bytes(type, n). Every quantized type (Q8_K included), and F32/F16/BF16.
void quantize_row(DType type, const float* src, void* dst, int64_t n);

// A quantized weight W [n, k]: row r is dtype_bytes(type, k) bytes at data + r * row_bytes.
// `keepalive` holds the bytes (the mapped file, or an owned copy). Q4_0, Q8_0, Q4_K and Q6_K
// are re-laid out once, here, into panels of 16 rows interleaved 4 bytes at a time (the same
// number of bytes, owned; quant_impl.inc says why): gemm_quant reads only the panels, and the
// rows are let go (data() is then null and `keepalive` released), so that one copy of the
// weights is held. The other types are used in place.
class QuantWeight {
 public:
  QuantWeight() = default;
  QuantWeight(const void* data, DType type, int64_t n, int64_t k, std::shared_ptr<const void> keepalive);
  bool empty() const { return data_ == nullptr && panels_ == nullptr; }
  int64_t n() const { return n_; }
  int64_t k() const { return k_; }
  DType dtype() const { return type_; }
  size_t row_bytes() const { return dtype_bytes(type_, k_); }
  size_t bytes() const { return row_bytes() * size_t(n_); }
  const void* data() const { return data_; }  // the rows; null once repacked
  const void* row(int64_t r) const { return static_cast<const unsigned char*>(data_) + size_t(r) * row_bytes(); }
  // The panel form (null for types used in place).
  const unsigned char* panels() const { return panels_.get(); }
  bool repacked() const { return panels_ != nullptr; }

  // One weight whose rows are the parts' in order ([q | k | v], [gate | up]), its panels the
  // parts' panels back to back: the parts must be repacked, of one type and K, and each but the
  // last a whole number of panels (N a multiple of 16); the result is bit-identical to running
  // the parts. Empty (repacked() false) when they cannot be joined.
  static QuantWeight concat(const std::vector<const QuantWeight*>& parts);

 private:
  static std::shared_ptr<const unsigned char> repack_panels(const void* data, DType type, int64_t n, int64_t k);

  const void* data_ = nullptr;
  std::shared_ptr<const void> keep_;
  std::shared_ptr<const unsigned char> panels_;
  DType type_ = DType::Q8_0;
  int64_t n_ = 0, k_ = 0;
};

// Y = X·Wᵀ (+ bias) (+ Y when accumulate) with W quantized; same contract as gemm_packed
// (x row stride ldx, y row stride ldy). The result does not depend on the thread count
// and each row's result does not depend on M (batch invariance).
void gemm_quant(const float* x, int64_t m, int64_t ldx, const QuantWeight& w, float* y, int64_t ldy,
                const float* bias = nullptr, bool accumulate = false);

}  // namespace tessera::kernels
