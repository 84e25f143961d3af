// The AVX2 (+FMA, F16C) vector vocabulary the single-source kernels are written in
// (elementwise_impl.inc, the GEMM tiles): one ymm of 8 floats; masks are ymm lanes of all ones
// or zeros. Included only by TUs built with the AVX2 flags, and everything stays in this TU's
// anonymous namespace (see dispatch.hpp).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "../dispatch.hpp"

namespace tessera::kernels::avx2 {
namespace {

using Vec = __m256;
using Mask = __m256;
constexpr int64_t kVec = 8;

inline Vec v_load(const float* p) { return _mm256_loadu_ps(p); }
inline void v_store(float* p, Vec v) { _mm256_storeu_ps(p, v); }
inline Vec v_set1(float x) { return _mm256_set1_ps(x); }
inline Vec v_zero() { return _mm256_setzero_ps(); }
inline Vec v_add(Vec a, Vec b) { return _mm256_add_ps(a, b); }
inline Vec v_sub(Vec a, Vec b) { return _mm256_sub_ps(a, b); }
inline Vec v_mul(Vec a, Vec b) { return _mm256_mul_ps(a, b); }
inline Vec v_div(Vec a, Vec b) { return _mm256_div_ps(a, b); }
inline Vec v_min(Vec a, Vec b) { return _mm256_min_ps(a, b); }
inline Vec v_max(Vec a, Vec b) { return _mm256_max_ps(a, b); }
inline Vec v_abs(Vec a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
inline Vec v_fma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }    // a·b + c, one rounding
inline Vec v_fnma(Vec a, Vec b, Vec c) { return _mm256_fnmadd_ps(a, b, c); }  // c - a·b
inline Vec v_fms(Vec a, Vec b, Vec c) { return _mm256_fmsub_ps(a, b, c); }    // a·b - c
inline Vec v_round(Vec a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
// p·2^n for integral n in [-150, 129]: 2^n as two factors so each stays a normal float; the
// product then overflows to inf or underflows through the subnormals as it should.
inline Vec v_ldexp(Vec p, Vec n) {
  const __m256i ni = _mm256_cvtps_epi32(n);
  const __m256i h = _mm256_srai_epi32(ni, 1);
  const __m256i l = _mm256_sub_epi32(ni, h);
  const __m256i bias = _mm256_set1_epi32(127);
  const __m256 a = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(h, bias), 23));
  const __m256 b = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(l, bias), 23));
  return _mm256_mul_ps(p, _mm256_mul_ps(a, b));
}
inline Mask v_ge(Vec a, Vec b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
inline Mask v_le(Vec a, Vec b) { return _mm256_cmp_ps(a, b, _CMP_LE_OQ); }
inline Vec v_select(Mask m, Vec t, Vec f) { return _mm256_blendv_ps(f, t, m); }
inline float v_hsum(Vec v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
inline float v_hmax(Vec v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Tails: the first r (0 < r < kVec) lanes; loads never touch memory past them.
inline __m256i tail_mask(int64_t r) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(r < 0 ? 0 : r > 8 ? 8 : r)), idx);
}
inline Vec v_load_tail(const float* p, int64_t r) { return _mm256_maskload_ps(p, tail_mask(r)); }
inline Vec v_load_tail_or(const float* p, int64_t r, float fill) {
  return _mm256_blendv_ps(_mm256_set1_ps(fill), v_load_tail(p, r), _mm256_castsi256_ps(tail_mask(r)));
}
inline void v_store_tail(float* p, int64_t r, Vec v) { _mm256_maskstore_ps(p, tail_mask(r), v); }
inline Vec v_keep(Vec v, int64_t r) { return _mm256_and_ps(v, _mm256_castsi256_ps(tail_mask(r))); }  // zero past r

// kVec weights of dtype T (F32, F16, BF16) from w + i elements, as f32.
template <DType T>
Vec half_to_f32(__m128i h) {
  if constexpr (T == DType::F16) return _mm256_cvtph_ps(h);
  else return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}
template <DType T>
Vec v_load_w(const void* w, int64_t i) {
  if constexpr (T == DType::F32) return _mm256_loadu_ps(static_cast<const float*>(w) + i);
  else return half_to_f32<T>(_mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(w) + i)));
}
template <DType T>
Vec v_load_w_tail(const void* w, int64_t i, int64_t r) {
  if constexpr (T == DType::F32) {
    return v_load_tail(static_cast<const float*>(w) + i, r);
  } else {
    uint16_t buf[8] = {};
    std::memcpy(buf, static_cast<const uint16_t*>(w) + i, size_t(r) * 2);
    return half_to_f32<T>(_mm_loadu_si128(reinterpret_cast<const __m128i*>(buf)));
  }
}

}  // namespace
}  // namespace tessera::kernels::avx2
