// The AVX-512 vector vocabulary the single-source kernels are written in (elementwise_impl.inc,
// the GEMM tiles): one zmm of 16 floats, __mmask16 lane masks. Included only by TUs built with
// the AVX-512 flags, and everything stays in this TU's anonymous namespace (see dispatch.hpp).
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "../dispatch.hpp"

namespace tessera::kernels::avx512 {
namespace {

using Vec = __m512;
using Mask = __mmask16;
constexpr int64_t kVec = 16;

inline Vec v_load(const float* p) { return _mm512_loadu_ps(p); }
inline void v_store(float* p, Vec v) { _mm512_storeu_ps(p, v); }
inline Vec v_set1(float x) { return _mm512_set1_ps(x); }
inline Vec v_zero() { return _mm512_setzero_ps(); }
inline Vec v_add(Vec a, Vec b) { return _mm512_add_ps(a, b); }
inline Vec v_sub(Vec a, Vec b) { return _mm512_sub_ps(a, b); }
inline Vec v_mul(Vec a, Vec b) { return _mm512_mul_ps(a, b); }
inline Vec v_div(Vec a, Vec b) { return _mm512_div_ps(a, b); }
inline Vec v_min(Vec a, Vec b) { return _mm512_min_ps(a, b); }
inline Vec v_max(Vec a, Vec b) { return _mm512_max_ps(a, b); }
inline Vec v_abs(Vec a) { return _mm512_abs_ps(a); }
inline Vec v_fma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }    // a·b + c, one rounding
inline Vec v_fnma(Vec a, Vec b, Vec c) { return _mm512_fnmadd_ps(a, b, c); }  // c - a·b
inline Vec v_fms(Vec a, Vec b, Vec c) { return _mm512_fmsub_ps(a, b, c); }    // a·b - c
inline Vec v_round(Vec a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
// p·2^n for integral n: scalef gets overflow, underflow and subnormals right in one rounding.
inline Vec v_ldexp(Vec p, Vec n) { return _mm512_scalef_ps(p, n); }
inline Mask v_ge(Vec a, Vec b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
inline Mask v_le(Vec a, Vec b) { return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ); }
inline Vec v_select(Mask m, Vec t, Vec f) { return _mm512_mask_blend_ps(m, f, t); }
inline float v_hsum(Vec v) { return _mm512_reduce_add_ps(v); }
inline float v_hmax(Vec v) { return _mm512_reduce_max_ps(v); }

// Tails: the first r (0 < r < kVec) lanes; loads never touch memory past them.
inline Mask tail_mask(int64_t r) {
  return r >= 16 ? Mask(0xffff) : r <= 0 ? Mask(0) : Mask((1u << r) - 1u);
}
inline Vec v_load_tail(const float* p, int64_t r) { return _mm512_maskz_loadu_ps(tail_mask(r), p); }
inline Vec v_load_tail_or(const float* p, int64_t r, float fill) {
  return _mm512_mask_loadu_ps(_mm512_set1_ps(fill), tail_mask(r), p);
}
inline void v_store_tail(float* p, int64_t r, Vec v) { _mm512_mask_storeu_ps(p, tail_mask(r), v); }
inline Vec v_keep(Vec v, int64_t r) { return _mm512_maskz_mov_ps(tail_mask(r), v); }  // zero past r

// kVec weights of dtype T (F32, F16, BF16) from w + i elements, as f32.
inline Vec half_to_f32(__m256i h, bool f16) {
  return f16 ? _mm512_cvtph_ps(h) : _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}
template <DType T>
Vec v_load_w(const void* w, int64_t i) {
  if constexpr (T == DType::F32) return _mm512_loadu_ps(static_cast<const float*>(w) + i);
  else
    return half_to_f32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(w) + i)),
                       T == DType::F16);
}
template <DType T>
Vec v_load_w_tail(const void* w, int64_t i, int64_t r) {
  if constexpr (T == DType::F32) return v_load_tail(static_cast<const float*>(w) + i, r);
  else return half_to_f32(_mm256_maskz_loadu_epi16(tail_mask(r), static_cast<const uint16_t*>(w) + i), T == DType::F16);
}

}  // namespace
}  // namespace tessera::kernels::avx512
