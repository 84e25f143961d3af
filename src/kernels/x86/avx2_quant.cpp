// The quantized GEMM on AVX2: quant_impl.inc over 256-bit integer and float registers
// (-mavx2 -mfma -mf16c). u8·s8 products go through vpmaddubsw (pairs to i16) and vpmaddwd
// (pairs of those, times 1 or a scale, to i32), as ggml's CPU kernels do. Only the table's
// function pointers leave this TU.
//
// avx512_quant.cpp compiles this same file with TESSERA_QUANT_VNNI for AVX-512 machines with
// VNNI: still 256-bit registers, but four u8·s8 products summed into i32 by one vpdpbusd, and
// the scaled i16 pairs added by vpdpwssd. ggml's operand ranges never saturate vpmaddubsw's
// i16 pairs (at most 2·128·127), so both forms compute the same integers: the results are
// bit-identical to the AVX2 ones.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "../dispatch.hpp"
#include "tessera/kernels/quant.hpp"

#ifdef TESSERA_QUANT_VNNI
namespace tessera::kernels::avx512 {
#else
namespace tessera::kernels::avx2 {
#endif
namespace {

using VI = __m256i;
using VF = __m256;

inline VI vi_load(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
inline VI vi_zero() { return _mm256_setzero_si256(); }
inline VI vi_set1_i8(int8_t v) { return _mm256_set1_epi8(v); }
inline VI vi_and(VI a, VI b) { return _mm256_and_si256(a, b); }
inline VI vi_or(VI a, VI b) { return _mm256_or_si256(a, b); }
inline VI vi_srl16(VI a, int s) { return _mm256_srli_epi16(a, s); }
inline VI vi_sll16(VI a, int s) { return _mm256_slli_epi16(a, s); }
#ifdef TESSERA_QUANT_VNNI
inline VI vi_add_dot_us_scaled(VI acc, VI u, VI s, VI sc) {
  return _mm256_dpwssd_epi32(acc, _mm256_maddubs_epi16(u, s), sc);
}
#else
inline VI vi_add_dot_us_scaled(VI acc, VI u, VI s, VI sc) {
  return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), sc));
}
#endif
inline VI vi_madd16(VI a, VI b) { return _mm256_madd_epi16(a, b); }
inline VI vi_sub32(VI a, VI b) { return _mm256_sub_epi32(a, b); }
inline VI vi_sll32(VI a, int s) { return _mm256_slli_epi32(a, s); }

// The 16 scales as i16 (all), and scales 0..7 / 8..15 repeated in both 128-bit halves (lo, hi),
// from which one in-lane byte shuffle picks the pair a group of 32 needs.
struct Scales {
  __m256i all, lo, hi;
};
inline Scales make_scales(__m128i b, bool is_signed) {
  auto widen = [&](__m128i x) { return is_signed ? _mm256_cvtepi8_epi16(x) : _mm256_cvtepu8_epi16(x); };
  return Scales{widen(b), widen(_mm_unpacklo_epi64(b, b)), widen(_mm_unpackhi_epi64(b, b))};
}
inline Scales scales_u8(uint64_t lo, uint64_t hi) {
  return make_scales(_mm_set_epi64x(int64_t(hi), int64_t(lo)), false);
}
inline Scales scales_i8(uint64_t lo, uint64_t hi) {
  return make_scales(_mm_set_epi64x(int64_t(hi), int64_t(lo)), true);
}
inline VI scales_all(const Scales& s) { return s.all; }
inline VI scales_pair(const Scales& s, int g) {
  // Low half: i16 lane 2(g%4) repeated; high half: lane 2(g%4)+1 repeated.
  const int e = 4 * (g & 3);
  const __m256i idx = _mm256_setr_epi8(char(e), char(e + 1), char(e), char(e + 1), char(e), char(e + 1), char(e),
                                       char(e + 1), char(e), char(e + 1), char(e), char(e + 1), char(e), char(e + 1),
                                       char(e), char(e + 1), char(e + 2), char(e + 3), char(e + 2), char(e + 3),
                                       char(e + 2), char(e + 3), char(e + 2), char(e + 3), char(e + 2), char(e + 3),
                                       char(e + 2), char(e + 3), char(e + 2), char(e + 3), char(e + 2), char(e + 3));
  return _mm256_shuffle_epi8(g < 4 ? s.lo : s.hi, idx);
}

inline VF vf_zero() { return _mm256_setzero_ps(); }
inline VF vf_set1(float x) { return _mm256_set1_ps(x); }
inline VF vf_cvt(VI a) { return _mm256_cvtepi32_ps(a); }
inline VF vf_fma(VF a, VF b, VF c) { return _mm256_fmadd_ps(a, b, c); }
inline float vf_hsum(VF v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
inline float h2f(uint16_t h) { return _cvtsh_ss(h); }
inline float f16_round(float x) { return _cvtsh_ss(_cvtss_sh(x, _MM_FROUND_TO_NEAREST_INT)); }

// The panel vocabulary (16 lanes). With VNNI (the AVX-512 build): one 512-bit register per 16
// lanes, a panel block's nibbles unpacked once into registers that each row's vpdpbusd chain
// reads. AVX2: two 256-bit halves (rows 0..7, 8..15); registers are too few to hold the
// unpacked chunks, so each row unpacks as it goes, and the u8·s8 pairs are summed as i16
// across up to 8 chunks before one vpmaddwd: a pair is at most 2·15·127, eight 30480, in i16.
#ifdef TESSERA_QUANT_VNNI
using PI = __m512i;
using PF = __m512;
template <int NC>
struct PW {
  __m512i lo[NC], hi[NC];
};
template <int NC>
inline PW<NC> pw_nib(const uint8_t* c) {
  const __m512i m = _mm512_set1_epi8(0x0F);
  PW<NC> w;
  for (int t = 0; t < NC; ++t) {
    const __m512i v = _mm512_loadu_si512(c + 64 * t);
    w.lo[t] = _mm512_and_si512(v, m);
    w.hi[t] = _mm512_and_si512(_mm512_srli_epi16(v, 4), m);
  }
  return w;
}
inline int32_t load_i32(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
template <int NC>
inline PI pi_dot_nib(const PW<NC>& w, bool high, const int8_t* x) {
  // Two chains, added: the integer sums are exact in any order.
  const __m512i* q = high ? w.hi : w.lo;
  __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
  for (int t = 0; t < NC; t += 2) {
    s0 = _mm512_dpbusd_epi32(s0, q[t], _mm512_set1_epi32(load_i32(x + 4 * t)));
    s1 = _mm512_dpbusd_epi32(s1, q[t + 1], _mm512_set1_epi32(load_i32(x + 4 * t + 4)));
  }
  return _mm512_add_epi32(s0, s1);
}
inline PI pi_zero() { return _mm512_setzero_si512(); }
inline PI pi_set1(int32_t v) { return _mm512_set1_epi32(v); }
inline PI pi_add(PI a, PI b) { return _mm512_add_epi32(a, b); }
inline PI pi_mul_u8(PI a, const uint8_t* s) {
  return _mm512_mullo_epi32(a, _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s))));
}
inline PI pi_mul_i8(PI a, const int8_t* s) {
  return _mm512_mullo_epi32(a, _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s))));
}
struct PW8 {
  __m512i q[8];
};
inline PW8 pw_q8(const uint8_t* c) {
  PW8 w;
  for (int t = 0; t < 8; ++t) w.q[t] = _mm512_loadu_si512(c + 64 * t);
  return w;
}
// The bytes are q + 128 (unsigned, as vpdpbusd takes them): Σ(q + 128)·x − 128·Σx.
inline PI pi_dot_q8(const PW8& w, const int8_t* x, int32_t xsum) {
  __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
  for (int t = 0; t < 8; t += 2) {
    s0 = _mm512_dpbusd_epi32(s0, w.q[t], _mm512_set1_epi32(load_i32(x + 4 * t)));
    s1 = _mm512_dpbusd_epi32(s1, w.q[t + 1], _mm512_set1_epi32(load_i32(x + 4 * t + 4)));
  }
  return _mm512_sub_epi32(_mm512_add_epi32(s0, s1), _mm512_set1_epi32(128 * xsum));
}
// Q6_K, Q5_K and Q5_0: nibbles with top bits from hb (`mask` wide; chunk t's at hb + t·stride,
// at bit shift + t·per_chunk for the low nibbles and step bits above for the high ones),
// unpacked once into registers.
template <int NC>
inline PW<NC> pw_nib_top(const uint8_t* nib, const uint8_t* hb, int stride, int shift, int per_chunk, int step, int mask) {
  const __m512i m4 = _mm512_set1_epi8(0x0F), mt = _mm512_set1_epi8(char(mask));
  PW<NC> w;
  for (int t = 0; t < NC; ++t) {
    const __m512i v = _mm512_loadu_si512(nib + 64 * t), h = _mm512_loadu_si512(hb + stride * t);
    const int sh = shift + per_chunk * t;
    const __m512i hl = _mm512_and_si512(_mm512_srl_epi16(h, _mm_cvtsi32_si128(sh)), mt);
    const __m512i hh = _mm512_and_si512(_mm512_srl_epi16(h, _mm_cvtsi32_si128(sh + step)), mt);
    w.lo[t] = _mm512_or_si512(_mm512_and_si512(v, m4), _mm512_slli_epi16(hl, 4));
    w.hi[t] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(v, 4), m4), _mm512_slli_epi16(hh, 4));
  }
  return w;
}
using PW6 = PW<8>;
inline PW6 pw_q6(const uint8_t* nib, const uint8_t* hb, int shift) { return pw_nib_top<8>(nib, hb, 64, shift, 0, 2, 3); }
inline PI pi_dot_q6(const PW6& w, bool high, int t0, const int8_t* x) {
  const __m512i* q = (high ? w.hi : w.lo) + t0;
  __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
  s0 = _mm512_dpbusd_epi32(s0, q[0], _mm512_set1_epi32(load_i32(x)));
  s1 = _mm512_dpbusd_epi32(s1, q[1], _mm512_set1_epi32(load_i32(x + 4)));
  s0 = _mm512_dpbusd_epi32(s0, q[2], _mm512_set1_epi32(load_i32(x + 8)));
  s1 = _mm512_dpbusd_epi32(s1, q[3], _mm512_set1_epi32(load_i32(x + 12)));
  return _mm512_add_epi32(s0, s1);
}
using PW5 = PW<8>;
inline PW5 pw_q5(const uint8_t* nib, const uint8_t* hb, int g) { return pw_nib_top<8>(nib, hb, 64, g, 0, 1, 1); }
inline PI pi_dot_q5(const PW5& w, bool high, const int8_t* x) { return pi_dot_nib(w, high, x); }
using PW50 = PW<4>;
inline PW50 pw_q5_0(const uint8_t* nib, const uint8_t* hb) { return pw_nib_top<4>(nib, hb, 0, 0, 2, 1, 1); }
inline PI pi_dot_q5_0(const PW50& w, bool high, const int8_t* x) { return pi_dot_nib(w, high, x); }
inline PI pi_sub(PI a, int32_t v) { return _mm512_sub_epi32(a, _mm512_set1_epi32(v)); }
inline PF pf_zero() { return _mm512_setzero_ps(); }
inline PF pf_set1(float v) { return _mm512_set1_ps(v); }
inline PF pf_h2f(const void* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(static_cast<const __m256i*>(p))); }
inline PF pf_cvt(PI a) { return _mm512_cvtepi32_ps(a); }
inline PF pf_scale(PF a, float v) { return _mm512_mul_ps(a, _mm512_set1_ps(v)); }
inline PF pf_fma(PF a, PF b, PF c) { return _mm512_fmadd_ps(a, b, c); }
inline void pf_store(float* p, PF a) { _mm512_storeu_ps(p, a); }
#else
struct PI {
  __m256i lo, hi;
};
struct PF {
  __m256 lo, hi;
};
template <int NC>
struct PW {
  const uint8_t* p;
};
template <int NC>
inline PW<NC> pw_nib(const uint8_t* c) {
  return PW<NC>{c};
}
template <int NC>
inline __m256i half_dot_nib(const uint8_t* c, bool high, const int8_t* x) {
  const __m256i m = _mm256_set1_epi8(0x0F);
  __m256i s = _mm256_setzero_si256();
  for (int t = 0; t < NC; ++t) {
    int32_t x4;
    std::memcpy(&x4, x + 4 * t, 4);
    __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + 64 * t));
    if (high) v = _mm256_srli_epi16(v, 4);
    s = _mm256_add_epi16(s, _mm256_maddubs_epi16(_mm256_and_si256(v, m), _mm256_set1_epi32(x4)));
  }
  return _mm256_madd_epi16(s, _mm256_set1_epi16(1));
}
template <int NC>
inline PI pi_dot_nib(const PW<NC>& w, bool high, const int8_t* x) {
  return PI{half_dot_nib<NC>(w.p, high, x), half_dot_nib<NC>(w.p + 32, high, x)};
}
inline PI pi_zero() { return PI{_mm256_setzero_si256(), _mm256_setzero_si256()}; }
inline PI pi_set1(int32_t v) { return PI{_mm256_set1_epi32(v), _mm256_set1_epi32(v)}; }
inline PI pi_add(const PI& a, const PI& b) { return PI{_mm256_add_epi32(a.lo, b.lo), _mm256_add_epi32(a.hi, b.hi)}; }
inline PI pi_mul_u8(const PI& a, const uint8_t* s) {
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
  return PI{_mm256_mullo_epi32(a.lo, _mm256_cvtepu8_epi32(b)), _mm256_mullo_epi32(a.hi, _mm256_cvtepu8_epi32(_mm_srli_si128(b, 8)))};
}
inline PI pi_mul_i8(const PI& a, const int8_t* s) {
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
  return PI{_mm256_mullo_epi32(a.lo, _mm256_cvtepi8_epi32(b)), _mm256_mullo_epi32(a.hi, _mm256_cvtepi8_epi32(_mm_srli_si128(b, 8)))};
}
using PW8 = const uint8_t*;
inline PW8 pw_q8(const uint8_t* c) { return c; }
// (q + 128) ^ 0x80 = q; then |q|·(x with q's sign) per pair, at most 2·128·127, and one
// vpmaddwd per chunk (two pairs would overflow i16).
inline __m256i half_dot_q8(const uint8_t* c, const int8_t* x) {
  const __m256i flip = _mm256_set1_epi8(char(0x80)), one = _mm256_set1_epi16(1);
  __m256i s = _mm256_setzero_si256();
  for (int t = 0; t < 8; ++t) {
    int32_t x4;
    std::memcpy(&x4, x + 4 * t, 4);
    const __m256i q = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + 64 * t)), flip);
    const __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(q, q), _mm256_sign_epi8(_mm256_set1_epi32(x4), q));
    s = _mm256_add_epi32(s, _mm256_madd_epi16(p, one));
  }
  return s;
}
inline PI pi_dot_q8(PW8 w, const int8_t* x, int32_t) { return PI{half_dot_q8(w, x), half_dot_q8(w + 32, x)}; }
struct PW6 {
  const uint8_t *nib, *hb;
  int shift;
};
inline PW6 pw_q6(const uint8_t* nib, const uint8_t* hb, int shift) { return PW6{nib, hb, shift}; }
// Chunks [t0, t0 + N) of nibbles with top bits from hb (`mask` wide; chunk u's at
// hb + u·stride, bit shift + u·per_chunk) dotted with x, G chunks summed in i16 before
// widening: a u8·s8 pair of 6-bit values reaches 2·63·127 = 16002 (two pairs share an i16
// lane), of 5-bit values 7874 (four pairs).
template <int N, int G>
inline __m256i half_dot_top(const uint8_t* nib, const uint8_t* hb, int stride, int off, bool high, int t0, int shift,
                            int per_chunk, int mask, const int8_t* x) {
  const __m256i m4 = _mm256_set1_epi8(0x0F), mt = _mm256_set1_epi8(char(mask)), one = _mm256_set1_epi16(1);
  __m256i s32 = _mm256_setzero_si256();
  for (int t = t0; t < t0 + N; t += G) {
    __m256i s16 = _mm256_setzero_si256();
    for (int u = t; u < t + G; ++u) {
      __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(nib + 64 * u + off));
      if (high) v = _mm256_srli_epi16(v, 4);
      const __m128i sh = _mm_cvtsi32_si128(shift + per_chunk * u);
      const __m256i h = _mm256_and_si256(_mm256_srl_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(hb + stride * u + off)), sh), mt);
      const __m256i q = _mm256_or_si256(_mm256_and_si256(v, m4), _mm256_slli_epi16(h, 4));
      int32_t x4;
      std::memcpy(&x4, x + 4 * (u - t0), 4);
      s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(q, _mm256_set1_epi32(x4)));
    }
    s32 = _mm256_add_epi32(s32, _mm256_madd_epi16(s16, one));
  }
  return s32;
}
inline __m256i half_dot_q6(const PW6& w, int off, bool high, int t0, const int8_t* x) {
  return half_dot_top<4, 2>(w.nib, w.hb, 64, off, high, t0, w.shift + (high ? 2 : 0), 0, 3, x);
}
inline PI pi_dot_q6(const PW6& w, bool high, int t0, const int8_t* x) {
  return PI{half_dot_q6(w, 0, high, t0, x), half_dot_q6(w, 32, high, t0, x)};
}
struct PW5 {
  const uint8_t *nib, *hb;
  int g;
};
inline PW5 pw_q5(const uint8_t* nib, const uint8_t* hb, int g) { return PW5{nib, hb, g}; }
inline __m256i half_dot_q5(const PW5& w, int off, bool high, const int8_t* x) {
  return half_dot_top<8, 4>(w.nib, w.hb, 64, off, high, 0, w.g + (high ? 1 : 0), 0, 1, x);
}
inline PI pi_dot_q5(const PW5& w, bool high, const int8_t* x) {
  return PI{half_dot_q5(w, 0, high, x), half_dot_q5(w, 32, high, x)};
}
struct PW50 {
  const uint8_t *nib, *hb;
};
inline PW50 pw_q5_0(const uint8_t* nib, const uint8_t* hb) { return PW50{nib, hb}; }
inline PI pi_dot_q5_0(const PW50& w, bool high, const int8_t* x) {
  return PI{half_dot_top<4, 4>(w.nib, w.hb, 0, 0, high, 0, high ? 1 : 0, 2, 1, x),
            half_dot_top<4, 4>(w.nib, w.hb, 0, 32, high, 0, high ? 1 : 0, 2, 1, x)};
}
inline PI pi_sub(PI a, int32_t v) {
  const __m256i b = _mm256_set1_epi32(v);
  return PI{_mm256_sub_epi32(a.lo, b), _mm256_sub_epi32(a.hi, b)};
}
inline PF pf_zero() { return PF{_mm256_setzero_ps(), _mm256_setzero_ps()}; }
inline PF pf_set1(float v) { return PF{_mm256_set1_ps(v), _mm256_set1_ps(v)}; }
inline PF pf_h2f(const void* p) {
  const auto* h = static_cast<const __m128i*>(p);
  return PF{_mm256_cvtph_ps(_mm_loadu_si128(h)), _mm256_cvtph_ps(_mm_loadu_si128(h + 1))};
}
inline PF pf_cvt(const PI& a) { return PF{_mm256_cvtepi32_ps(a.lo), _mm256_cvtepi32_ps(a.hi)}; }
inline PF pf_scale(const PF& a, float v) {
  const __m256 b = _mm256_set1_ps(v);
  return PF{_mm256_mul_ps(a.lo, b), _mm256_mul_ps(a.hi, b)};
}
inline PF pf_fma(const PF& a, const PF& b, const PF& c) {
  return PF{_mm256_fmadd_ps(a.lo, b.lo, c.lo), _mm256_fmadd_ps(a.hi, b.hi, c.hi)};
}
inline void pf_store(float* p, const PF& a) {
  _mm256_storeu_ps(p, a.lo);
  _mm256_storeu_ps(p + 8, a.hi);
}
#endif

constexpr int kQuantRows = 4;
constexpr int kQuantCols = 2;
constexpr int kQuantDecodeCols = 1;  // the tile for one activation row
constexpr int kPanelRows = 4;

#include "../quant_impl.inc"

}  // namespace

void fill_quant(KernelTable& t) {
  t.quantize_act = quantize_act;
  t.quant_block = quant_block;
}

}  // namespace tessera::kernels::avx2 (avx512 with TESSERA_QUANT_VNNI)
