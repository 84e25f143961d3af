// The quantized GEMM's portable path: quant_impl.inc over a vocabulary of plain arrays and
// loops (baseline flags). It is the fallback on CPUs without AVX2, the `TESSERA_ISA=scalar`
// path, and the readable statement of the integer arithmetic the SIMD paths perform.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "dispatch.hpp"
#include "tessera/core/half.hpp"
#include "tessera/kernels/quant.hpp"

namespace tessera::kernels::scalar {
namespace {

// 32 bytes, read as i8 / u8 / i16 / i32 lanes by the operation (little-endian, as the SIMD
// registers are).
struct VI {
  alignas(32) unsigned char b[32];
};
struct VF {
  float v[8];
};

template <typename L>
inline L lane(const VI& x, int i) {
  L v;
  std::memcpy(&v, x.b + i * sizeof(L), sizeof(L));
  return v;
}
template <typename L>
inline void set_lane(VI& x, int i, L v) {
  std::memcpy(x.b + i * sizeof(L), &v, sizeof(L));
}

inline VI vi_load(const void* p) {
  VI r;
  std::memcpy(r.b, p, 32);
  return r;
}
inline VI vi_zero() { return VI{}; }
inline VI vi_set1_i8(int8_t v) {
  VI r;
  std::memset(r.b, static_cast<unsigned char>(v), 32);
  return r;
}
inline VI vi_and(VI a, const VI& b) {
  for (int i = 0; i < 32; ++i) a.b[i] &= b.b[i];
  return a;
}
inline VI vi_or(VI a, const VI& b) {
  for (int i = 0; i < 32; ++i) a.b[i] |= b.b[i];
  return a;
}
inline VI vi_srl16(const VI& a, int s) {
  VI r;
  for (int i = 0; i < 16; ++i) set_lane<uint16_t>(r, i, uint16_t(lane<uint16_t>(a, i) >> s));
  return r;
}
inline VI vi_sll16(const VI& a, int s) {
  VI r;
  for (int i = 0; i < 16; ++i) set_lane<uint16_t>(r, i, uint16_t(lane<uint16_t>(a, i) << s));
  return r;
}
inline VI vi_add_dot_us_scaled(const VI& acc, const VI& u, const VI& s, const VI& sc) {
  VI r;
  for (int i = 0; i < 8; ++i) {
    int32_t t = lane<int32_t>(acc, i);
    for (int h = 0; h < 2; ++h) {
      const int j = 4 * i + 2 * h;
      const int32_t pair = int32_t(u.b[j]) * int8_t(s.b[j]) + int32_t(u.b[j + 1]) * int8_t(s.b[j + 1]);
      t += pair * lane<int16_t>(sc, 2 * i + h);
    }
    set_lane<int32_t>(r, i, t);
  }
  return r;
}
inline VI vi_madd16(const VI& a, const VI& b) {
  VI r;
  for (int i = 0; i < 8; ++i)
    set_lane<int32_t>(r, i, int32_t(lane<int16_t>(a, 2 * i)) * lane<int16_t>(b, 2 * i) +
                                int32_t(lane<int16_t>(a, 2 * i + 1)) * lane<int16_t>(b, 2 * i + 1));
  return r;
}
inline VI vi_sub32(const VI& a, const VI& b) {
  VI r;
  for (int i = 0; i < 8; ++i) set_lane<int32_t>(r, i, lane<int32_t>(a, i) - lane<int32_t>(b, i));
  return r;
}
inline VI vi_sll32(const VI& a, int s) {
  VI r;
  for (int i = 0; i < 8; ++i) set_lane<uint32_t>(r, i, lane<uint32_t>(a, i) << s);
  return r;
}

struct Scales {
  int16_t s[16];
};
inline Scales scales_u8(uint64_t lo, uint64_t hi) {
  Scales r;
  for (int i = 0; i < 8; ++i) r.s[i] = int16_t((lo >> (8 * i)) & 0xFF), r.s[i + 8] = int16_t((hi >> (8 * i)) & 0xFF);
  return r;
}
inline Scales scales_i8(uint64_t lo, uint64_t hi) {
  Scales r;
  for (int i = 0; i < 8; ++i)
    r.s[i] = int8_t((lo >> (8 * i)) & 0xFF), r.s[i + 8] = int8_t((hi >> (8 * i)) & 0xFF);
  return r;
}
inline VI scales_all(const Scales& s) {
  VI r;
  std::memcpy(r.b, s.s, 32);
  return r;
}
inline VI scales_pair(const Scales& s, int g) {
  VI r;
  for (int i = 0; i < 8; ++i) set_lane<int16_t>(r, i, s.s[2 * g]), set_lane<int16_t>(r, i + 8, s.s[2 * g + 1]);
  return r;
}

inline VF vf_zero() { return VF{}; }
inline VF vf_set1(float x) {
  VF r;
  for (float& v : r.v) v = x;
  return r;
}
inline VF vf_cvt(const VI& a) {
  VF r;
  for (int i = 0; i < 8; ++i) r.v[i] = float(lane<int32_t>(a, i));
  return r;
}
// Multiply, then add (no fused rounding), as the scalar float kernels do.
inline VF vf_fma(const VF& a, const VF& b, VF c) {
  for (int i = 0; i < 8; ++i) c.v[i] = a.v[i] * b.v[i] + c.v[i];
  return c;
}
inline float vf_hsum(const VF& a) {
  return ((a.v[0] + a.v[4]) + (a.v[2] + a.v[6])) + ((a.v[1] + a.v[5]) + (a.v[3] + a.v[7]));
}
inline float h2f(uint16_t h) { return f16_to_f32(h); }
inline float f16_round(float x) { return f16_to_f32(f32_to_f16(x)); }

// The panel vocabulary: 16 lanes as arrays; a panel block's quants are read where they lie.
struct PI {
  int32_t v[kPanelCols];
};
struct PF {
  float v[kPanelCols];
};
template <int NC>
struct PW {
  const uint8_t* p;
};
template <int NC>
inline PW<NC> pw_nib(const uint8_t* chunks) {
  return PW<NC>{chunks};
}
template <int NC>
inline PI pi_dot_nib(const PW<NC>& w, bool high, const int8_t* x) {
  PI r;
  for (int c = 0; c < kPanelCols; ++c) {
    int32_t t = 0;
    for (int g = 0; g < NC; ++g)
      for (int e = 0; e < 4; ++e) {
        const uint8_t q = w.p[64 * g + 4 * c + e];
        t += int32_t(high ? q >> 4 : q & 0x0F) * x[4 * g + e];
      }
    r.v[c] = t;
  }
  return r;
}
inline PI pi_zero() { return PI{}; }
inline PI pi_set1(int32_t v) {
  PI r;
  for (int32_t& x : r.v) x = v;
  return r;
}
inline PI pi_add(PI a, const PI& b) {
  for (int c = 0; c < kPanelCols; ++c) a.v[c] += b.v[c];
  return a;
}
inline PI pi_mul_u8(PI a, const uint8_t* s) {
  for (int c = 0; c < kPanelCols; ++c) a.v[c] *= int32_t(s[c]);
  return a;
}
inline PI pi_mul_i8(PI a, const int8_t* s) {
  for (int c = 0; c < kPanelCols; ++c) a.v[c] *= int32_t(s[c]);
  return a;
}
using PW8 = const uint8_t*;
inline PW8 pw_q8(const uint8_t* chunks) { return chunks; }
inline PI pi_dot_q8(PW8 w, const int8_t* x, int32_t) {
  PI r;
  for (int c = 0; c < kPanelCols; ++c) {
    int32_t t = 0;
    for (int g = 0; g < 8; ++g)
      for (int e = 0; e < 4; ++e) t += int32_t(int8_t(w[64 * g + 4 * c + e] ^ 0x80)) * x[4 * g + e];
    r.v[c] = t;
  }
  return r;
}
struct PW6 {
  const uint8_t *nib, *hb;
  int shift;
};
inline PW6 pw_q6(const uint8_t* nib, const uint8_t* hb, int shift) { return PW6{nib, hb, shift}; }
// Chunks [t0, t0 + n) of nibbles with top bits from hb (`mask` wide; chunk t's at hb + t·stride,
// bit shift + t·per_chunk) dotted with x, per lane.
inline PI dot_top(const uint8_t* nib, const uint8_t* hb, int stride, bool high, int t0, int n, int shift, int per_chunk,
                  int mask, const int8_t* x) {
  PI r;
  for (int c = 0; c < kPanelCols; ++c) {
    int32_t s = 0;
    for (int t = t0; t < t0 + n; ++t)
      for (int e = 0; e < 4; ++e) {
        const uint8_t nb = nib[64 * t + 4 * c + e], hv = hb[stride * t + 4 * c + e];
        const int q = (high ? nb >> 4 : nb & 0x0F) | (((hv >> (shift + per_chunk * t)) & mask) << 4);
        s += q * x[4 * (t - t0) + e];
      }
    r.v[c] = s;
  }
  return r;
}
struct PW5 {
  const uint8_t *nib, *hb;
  int g;
};
inline PW5 pw_q5(const uint8_t* nib, const uint8_t* hb, int g) { return PW5{nib, hb, g}; }
inline PI pi_dot_q5(const PW5& w, bool high, const int8_t* x) {
  return dot_top(w.nib, w.hb, 64, high, 0, 8, w.g + (high ? 1 : 0), 0, 1, x);
}
struct PW50 {
  const uint8_t *nib, *hb;
};
inline PW50 pw_q5_0(const uint8_t* nib, const uint8_t* hb) { return PW50{nib, hb}; }
inline PI pi_dot_q5_0(const PW50& w, bool high, const int8_t* x) {
  return dot_top(w.nib, w.hb, 0, high, 0, 4, high ? 1 : 0, 2, 1, x);
}
inline PI pi_dot_q6(const PW6& w, bool high, int t0, const int8_t* x) {
  return dot_top(w.nib, w.hb, 64, high, t0, 4, w.shift + (high ? 2 : 0), 0, 3, x);
}
inline PI pi_sub(PI a, int32_t v) {
  for (int32_t& x : a.v) x -= v;
  return a;
}
inline PF pf_zero() { return PF{}; }
inline PF pf_set1(float v) {
  PF r;
  for (float& x : r.v) x = v;
  return r;
}
inline PF pf_h2f(const void* p) {
  PF r;
  uint16_t h[kPanelCols];
  std::memcpy(h, p, sizeof(h));
  for (int c = 0; c < kPanelCols; ++c) r.v[c] = f16_to_f32(h[c]);
  return r;
}
inline PF pf_cvt(const PI& a) {
  PF r;
  for (int c = 0; c < kPanelCols; ++c) r.v[c] = float(a.v[c]);
  return r;
}
inline PF pf_scale(PF a, float v) {
  for (float& x : a.v) x *= v;
  return a;
}
inline PF pf_fma(const PF& a, const PF& b, PF c) {  // multiply, then add, as vf_fma
  for (int i = 0; i < kPanelCols; ++i) c.v[i] = a.v[i] * b.v[i] + c.v[i];
  return c;
}
inline void pf_store(float* p, const PF& a) { std::memcpy(p, a.v, sizeof(a.v)); }

// Register tile: rows of X x weight rows per call.
constexpr int kQuantRows = 4;
constexpr int kQuantCols = 2;
constexpr int kQuantDecodeCols = 1;  // the tile for one activation row
constexpr int kPanelRows = 4;

#include "quant_impl.inc"

}  // namespace

void fill_quant(KernelTable& t) {
  t.quantize_act = quantize_act;
  t.quant_block = quant_block;
}

}  // namespace tessera::kernels::scalar
