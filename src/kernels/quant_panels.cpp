// QuantWeight's panel form: the weight types gemm_quant reads as panels of kPanelCols rows
// side by side (has_panels in dispatch.hpp), re-laid out once at construction. quant_impl.inc
// says why; this file says where each byte goes. Rows past n in the last panel are zeros
// (scale 0). Built with baseline flags.
#include <cstring>
#include <type_traits>

#include "dispatch.hpp"
#include "tessera/core/error.hpp"
#include "tessera/kernels/quant.hpp"

namespace tessera::kernels {

using namespace blocks;

namespace {

// Q4_0: block b of panel p is the 16 rows' f16 scales, then chunk t = 0..3 of 64 bytes holding
// bytes 4t..4t+3 of each row's qs in row order. A qs byte j carries element j (low nibble) and
// element j + 16 (high nibble), so chunk t's low nibbles are elements 4t..4t+3 of all 16 rows
// and its high nibbles elements 16+4t..16+4t+3. Q4_1: the same with the 16 f16 minimums
// between the scales and the chunks.
// Q5_0 (Q5_1): Q4_0's (Q4_1's) layout with the low 4 bits of each 5-bit value in the nibbles,
// then 64 bytes of fifth bits: byte 4c+e has, for each chunk t, the bit of element 4t+e (the low
// nibble's) at 2t and of element 16+4t+e (the high nibble's) at 2t+1.
template <class B>
void repack_legacy(const B& blk, int c, unsigned char* dst) {
  constexpr bool has_min = std::is_same_v<B, Q4_1> || std::is_same_v<B, Q5_1>;
  constexpr bool five = std::is_same_v<B, Q5_0> || std::is_same_v<B, Q5_1>;
  std::memcpy(dst + 2 * c, &blk.d, 2);
  if constexpr (has_min) std::memcpy(dst + 2 * kPanelCols + 2 * c, &blk.m, 2);
  unsigned char* q = dst + (has_min ? 4 : 2) * kPanelCols;
  for (int t = 0; t < 4; ++t) std::memcpy(q + 64 * t + 4 * c, blk.qs + 4 * t, 4);
  if constexpr (five) {
    uint32_t qh;
    std::memcpy(&qh, blk.qh, 4);
    for (int e = 0; e < 4; ++e) {
      unsigned v = 0;
      for (int t = 0; t < 4; ++t) v |= ((qh >> (4 * t + e)) & 1u) << (2 * t) | ((qh >> (16 + 4 * t + e)) & 1u) << (2 * t + 1);
      q[256 + 4 * c + e] = static_cast<unsigned char>(v);
    }
  }
}

// Q8_0: block b of panel p is the 16 rows' f16 scales, then chunk t = 0..7 of 64 bytes holding
// elements 4t..4t+3 of each row, stored as unsigned bytes q + 128 (vpdpbusd's unsigned operand).
void repack_q8_0(const Q8_0& blk, int c, unsigned char* dst) {
  std::memcpy(dst + 2 * c, &blk.d, 2);
  for (int t = 0; t < 8; ++t)
    for (int e = 0; e < 4; ++e)
      dst[2 * kPanelCols + 64 * t + 4 * c + e] = static_cast<unsigned char>(blk.qs[4 * t + e] ^ 0x80);
}

// Q4_K: super-block b of panel p is d[16] and dmin[16] (f16), the 6-bit scales unpacked to
// bytes sc[8 groups][16 rows] and mins mn[8][16], then chunks (j = 0..3, t = 0..7) of 64 bytes
// holding bytes 32j+4t..+3 of each row's qs: low nibbles are elements 64j+4t..+3 (group 2j),
// high nibbles elements 64j+32+4t..+3 (group 2j+1).
void repack_q4_k(const Q4_K& blk, int c, unsigned char* dst) {
  std::memcpy(dst + 2 * c, &blk.d, 2);
  std::memcpy(dst + 2 * kPanelCols + 2 * c, &blk.dmin, 2);
  for (int g = 0; g < 8; ++g)
    k4_scale_min(g, blk.scales, dst + 4 * kPanelCols + kPanelCols * g + c, dst + 12 * kPanelCols + kPanelCols * g + c);
  unsigned char* q = dst + 20 * kPanelCols;
  for (int j = 0; j < 4; ++j)
    for (int t = 0; t < 8; ++t) std::memcpy(q + 64 * (8 * j + t) + 4 * c, blk.qs + 32 * j + 4 * t, 4);
}

// Q5_K: Q4_K's layout (the low 4 bits of each 5-bit value in its nibbles), then 8 chunks
// (t = 0..7) of 64 bytes holding bytes 4t..4t+3 of each row's qh: bit g of byte 4c+e is the
// fifth bit of element 32g + 4t + e (ggml's layout, so the bytes are copied as they are).
void repack_q5_k(const Q5_K& blk, int c, unsigned char* dst) {
  Q4_K low;
  std::memcpy(&low.d, &blk.d, 2);
  std::memcpy(&low.dmin, &blk.dmin, 2);
  std::memcpy(low.scales, blk.scales, sizeof(low.scales));
  std::memcpy(low.qs, blk.qs, sizeof(low.qs));
  repack_q4_k(low, c, dst);
  unsigned char* hb = dst + 20 * kPanelCols + 2048;
  for (int t = 0; t < 8; ++t) std::memcpy(hb + 64 * t + 4 * c, blk.qh + 4 * t, 4);
}

// Q6_K: super-block b of panel p is d[16] (f16), the 16 signed scales as bytes sc[16 sub-blocks]
// [16 rows], then 32 nibble chunks laid out as Q4_K's (the low 4 bits of each 6-bit value:
// chunk (j, t) low nibbles = elements 64j+4t..+3, high nibbles 64j+32+4t..+3), then 16 chunks
// (u = 0..1, t = 0..7) of the top 2 bits: bits 2k'..2k'+1 of byte 4c+e belong to element
// 128u + 32k' + 4t + e.
int q6_value(const Q6_K& blk, int e) {  // the unsigned 6-bit value of element e (ggml's layout)
  const int n = e / 128, k = (e % 128) / 32, l = e % 32;
  const uint8_t lo = blk.ql[64 * n + l + (k & 1) * 32];
  const int low = k < 2 ? lo & 0x0F : lo >> 4;
  return low | (((blk.qh[32 * n + l] >> (2 * k)) & 3) << 4);
}

void repack_q6_k(const Q6_K& blk, int c, unsigned char* dst) {
  std::memcpy(dst + 2 * c, &blk.d, 2);
  for (int s = 0; s < 16; ++s) dst[2 * kPanelCols + kPanelCols * s + c] = static_cast<unsigned char>(blk.scales[s]);
  unsigned char* nib = dst + 18 * kPanelCols;
  unsigned char* hb = nib + 2048;
  for (int j = 0; j < 4; ++j)
    for (int t = 0; t < 8; ++t)
      for (int e = 0; e < 4; ++e)
        nib[64 * (8 * j + t) + 4 * c + e] = uint8_t((q6_value(blk, 64 * j + 4 * t + e) & 0x0F) |
                                                    ((q6_value(blk, 64 * j + 32 + 4 * t + e) & 0x0F) << 4));
  for (int u = 0; u < 2; ++u)
    for (int t = 0; t < 8; ++t)
      for (int e = 0; e < 4; ++e) {
        int v = 0;
        for (int k = 0; k < 4; ++k) v |= (q6_value(blk, 128 * u + 32 * k + 4 * t + e) >> 4) << (2 * k);
        hb[64 * (8 * u + t) + 4 * c + e] = uint8_t(v);
      }
}

}  // namespace

std::shared_ptr<const unsigned char> QuantWeight::repack_panels(const void* data, DType type, int64_t n, int64_t k) {
  const int64_t nb = k / dtype_block_elems(type), np = (n + kPanelCols - 1) / kPanelCols;
  const size_t pb = panel_block_bytes(type), bytes = size_t(np * nb) * pb, alloc = (bytes + 63) / 64 * 64;
  std::shared_ptr<void> mem = alloc_panels(alloc);  // zeroed: rows past n have scale 0
  auto* out = static_cast<unsigned char*>(mem.get());
  const auto* rows = static_cast<const unsigned char*>(data);
  const size_t bb = dtype_block_bytes(type);
  for (int64_t r = 0; r < n; ++r) {
    const int64_t p = r / kPanelCols;
    const int c = int(r % kPanelCols);
    for (int64_t b = 0; b < nb; ++b) {
      const unsigned char* src = rows + size_t(r * nb + b) * bb;
      unsigned char* dst = out + size_t(p * nb + b) * pb;
      if (type == DType::Q4_0) repack_legacy(*reinterpret_cast<const Q4_0*>(src), c, dst);
      else if (type == DType::Q4_1) repack_legacy(*reinterpret_cast<const Q4_1*>(src), c, dst);
      else if (type == DType::Q5_0) repack_legacy(*reinterpret_cast<const Q5_0*>(src), c, dst);
      else if (type == DType::Q5_1) repack_legacy(*reinterpret_cast<const Q5_1*>(src), c, dst);
      else if (type == DType::Q8_0) repack_q8_0(*reinterpret_cast<const Q8_0*>(src), c, dst);
      else if (type == DType::Q4_K) repack_q4_k(*reinterpret_cast<const Q4_K*>(src), c, dst);
      else if (type == DType::Q5_K) repack_q5_k(*reinterpret_cast<const Q5_K*>(src), c, dst);
      else repack_q6_k(*reinterpret_cast<const Q6_K*>(src), c, dst);
    }
  }
  return std::static_pointer_cast<const unsigned char>(mem);
}

QuantWeight QuantWeight::concat(const std::vector<const QuantWeight*>& parts) {
  QuantWeight f;
  if (parts.empty()) return f;
  const QuantWeight& p0 = *parts[0];
  size_t bytes = 0;
  int64_t n = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    const QuantWeight& p = *parts[i];
    if (!p.repacked() || p.type_ != p0.type_ || p.k_ != p0.k_) return f;
    if (i + 1 < parts.size() && p.n_ % kPanelCols != 0) return f;
    bytes += size_t((p.n_ + kPanelCols - 1) / kPanelCols * (p.k_ / dtype_block_elems(p.type_))) * panel_block_bytes(p.type_);
    n += p.n_;
  }
  std::shared_ptr<void> mem = alloc_panels(bytes);
  auto* out = static_cast<unsigned char*>(mem.get());
  size_t at = 0;
  for (const QuantWeight* p : parts) {
    const size_t b = size_t((p->n_ + kPanelCols - 1) / kPanelCols * (p->k_ / dtype_block_elems(p->type_))) *
                     panel_block_bytes(p->type_);
    std::memcpy(out + at, p->panels_.get(), b);
    at += b;
  }
  f.panels_ = std::static_pointer_cast<const unsigned char>(mem);
  f.type_ = p0.type_;
  f.n_ = n;
  f.k_ = p0.k_;
  return f;
}

}  // namespace tessera::kernels
