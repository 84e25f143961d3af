// AVX-512 element-wise kernels: dot, axpy, softmax, norms, activations, dtype conversion.
// Built with -mavx512*; every helper stays in an anonymous namespace and only the table's
// plain function pointers leave this TU (see DESIGN.md, "Lessons").
// GCC 12's AVX-512 headers trip -W(maybe-)uninitialized on their own _mm512_undefined_ps
// (GCC PR 105593, fixed in 13); the warning is about the header, not this code.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "../dispatch.hpp"

namespace tessera::kernels::avx512 {
namespace {

constexpr int64_t W = 16;

__mmask16 tail_mask(int64_t r) { return __mmask16((1u << r) - 1u); }

// Cephes expf: round to the nearest multiple of ln 2, a degree-6 polynomial on the rest
// (under 2 ulp), and scalef for 2^n, which gets overflow, underflow and subnormals right.
__m512 exp_ps(__m512 x) {
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-104.0f)), _mm512_set1_ps(89.0f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r);
  p = _mm512_add_ps(p, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, n);
}

// erfc(a) for a >= 0 (Numerical Recipes' erfcc, relative error < 1.2e-7 everywhere).
// a*a is split into hi + lo with an FMA so the exponent keeps full precision for large a.
__m512 erfc_pos(__m512 a) {
  // erfc(a > 10) is below the smallest subnormal: return 0 there (a huge |x| times the
  // clamped value would not be), and clamp so a*a's rounding error (lo) stays finite.
  const __m512 big = _mm512_set1_ps(10.0f);
  const __mmask16 keep = _mm512_cmp_ps_mask(a, big, _CMP_LE_OQ);
  a = _mm512_min_ps(a, big);
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512 t = _mm512_div_ps(one, _mm512_fmadd_ps(_mm512_set1_ps(0.5f), a, one));
  __m512 p = _mm512_set1_ps(0.17087277f);
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-0.82215223f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.48851587f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-1.13520398f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.27886807f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-0.18628806f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.09678418f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.37409196f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.00002368f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-1.26551223f));
  const __m512 hi = _mm512_mul_ps(a, a);
  const __m512 lo = _mm512_fmsub_ps(a, a, hi);
  // -hi goes to exp on its own: folded into one argument near -70 it would lose ~4e-6 of
  // relative accuracy to rounding before exp even starts.
  const __m512 r = _mm512_mul_ps(_mm512_mul_ps(t, exp_ps(_mm512_sub_ps(p, lo))), exp_ps(_mm512_sub_ps(_mm512_setzero_ps(), hi)));
  return _mm512_maskz_mov_ps(keep, r);
}

__m512 act_ps(Activation act, __m512 v) {
  const __m512 one = _mm512_set1_ps(1.0f);
  switch (act) {
    case Activation::Silu:
      return _mm512_div_ps(v, _mm512_add_ps(one, exp_ps(_mm512_sub_ps(_mm512_setzero_ps(), v))));
    case Activation::Gelu: {
      // 0.5 v (1 + erf(v/sqrt2)) through erfc, so that v < 0 keeps its relative accuracy.
      const __m512 a = _mm512_mul_ps(_mm512_abs_ps(v), _mm512_set1_ps(0.70710678118654752f));
      const __m512 c = erfc_pos(a);
      const __mmask16 pos = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_GE_OQ);
      const __m512 f = _mm512_mask_sub_ps(c, pos, _mm512_set1_ps(2.0f), c);
      return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), v), f);
    }
    case Activation::GeluTanh: {
      // 0.5 (1 + tanh(u)) == 1 / (1 + exp(-2u)): no cancellation for v < 0.
      const __m512 v3 = _mm512_mul_ps(_mm512_mul_ps(v, v), v);
      const __m512 u = _mm512_mul_ps(_mm512_set1_ps(-2.0f * 0.7978845608028654f),
                                     _mm512_fmadd_ps(_mm512_set1_ps(0.044715f), v3, v));
      return _mm512_div_ps(v, _mm512_add_ps(one, exp_ps(u)));
    }
    case Activation::Relu: return _mm512_max_ps(v, _mm512_setzero_ps());
    case Activation::Identity: return v;
  }
  return v;
}

float dot(const float* a, const float* b, int64_t n) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps(),
         s3 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + W), _mm512_loadu_ps(b + i + W), s1);
    s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 2 * W), _mm512_loadu_ps(b + i + 2 * W), s2);
    s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 3 * W), _mm512_loadu_ps(b + i + 3 * W), s3);
  }
  for (; i + W <= n; i += W) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
  if (i < n) {
    const __mmask16 m = tail_mask(n - i);
    s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

void axpy(float a, const float* x, float* y, int64_t n) {
  const __m512 av = _mm512_set1_ps(a);
  int64_t i = 0;
  for (; i + W <= n; i += W)
    _mm512_storeu_ps(y + i, _mm512_fmadd_ps(av, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
  if (i < n) {
    const __mmask16 m = tail_mask(n - i);
    _mm512_mask_storeu_ps(y + i, m,
                          _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(m, x + i),
                                          _mm512_maskz_loadu_ps(m, y + i)));
  }
}

void softmax(float* x, int64_t n) {
  const __m512 ninf = _mm512_set1_ps(-__builtin_inff());
  __m512 mv = ninf;
  int64_t i = 0;
  for (; i + W <= n; i += W) mv = _mm512_max_ps(mv, _mm512_loadu_ps(x + i));
  if (i < n) mv = _mm512_max_ps(mv, _mm512_mask_loadu_ps(ninf, tail_mask(n - i), x + i));
  const float mx = _mm512_reduce_max_ps(mv);
  if (mx == -__builtin_inff()) {
    for (int64_t j = 0; j < n; ++j) x[j] = 0.0f;
    return;
  }
  const __m512 mxv = _mm512_set1_ps(mx);
  __m512 s = _mm512_setzero_ps();
  for (i = 0; i + W <= n; i += W) {
    const __m512 e = exp_ps(_mm512_sub_ps(_mm512_loadu_ps(x + i), mxv));
    _mm512_storeu_ps(x + i, e);
    s = _mm512_add_ps(s, e);
  }
  if (i < n) {
    const __mmask16 m = tail_mask(n - i);
    const __m512 e = _mm512_maskz_mov_ps(m, exp_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), mxv)));
    _mm512_mask_storeu_ps(x + i, m, e);
    s = _mm512_add_ps(s, e);
  }
  const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(s));
  for (i = 0; i + W <= n; i += W) _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), inv));
  if (i < n) {
    const __mmask16 m = tail_mask(n - i);
    _mm512_mask_storeu_ps(x + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), inv));
  }
}

// y[i] = (x[i] - shift) * scale * (w ? w[i] : 1) + (b ? b[i] : 0); x and y may alias.
void scale_shift(const float* x, float shift, float scale, const float* w, const float* b, float* y,
                 int64_t n) {
  const __m512 sh = _mm512_set1_ps(shift), sc = _mm512_set1_ps(scale);
  auto one = [&](int64_t i, __mmask16 m) {
    __m512 v = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), sh), sc);
    if (w) v = _mm512_mul_ps(v, _mm512_maskz_loadu_ps(m, w + i));
    if (b) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, b + i));
    _mm512_mask_storeu_ps(y + i, m, v);
  };
  int64_t i = 0;
  for (; i + W <= n; i += W) one(i, 0xffff);
  if (i < n) one(i, tail_mask(n - i));
}

// Sum of squares of (x - c), four vector chains to hide FMA latency.
float sum_sq(const float* x, float c, int64_t n) {
  const __m512 cv = _mm512_set1_ps(c);
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps(),
         s3 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W) {
    __m512 a = _mm512_sub_ps(_mm512_loadu_ps(x + i), cv), b = _mm512_sub_ps(_mm512_loadu_ps(x + i + W), cv),
           d = _mm512_sub_ps(_mm512_loadu_ps(x + i + 2 * W), cv),
           e = _mm512_sub_ps(_mm512_loadu_ps(x + i + 3 * W), cv);
    s0 = _mm512_fmadd_ps(a, a, s0);
    s1 = _mm512_fmadd_ps(b, b, s1);
    s2 = _mm512_fmadd_ps(d, d, s2);
    s3 = _mm512_fmadd_ps(e, e, s3);
  }
  for (; i + W <= n; i += W) {
    __m512 a = _mm512_sub_ps(_mm512_loadu_ps(x + i), cv);
    s0 = _mm512_fmadd_ps(a, a, s0);
  }
  if (i < n) {
    const __mmask16 m = tail_mask(n - i);
    __m512 a = _mm512_maskz_sub_ps(m, _mm512_maskz_loadu_ps(m, x + i), cv);
    s1 = _mm512_fmadd_ps(a, a, s1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

float sum(const float* x, int64_t n) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    s0 = _mm512_add_ps(s0, _mm512_loadu_ps(x + i));
    s1 = _mm512_add_ps(s1, _mm512_loadu_ps(x + i + W));
  }
  for (; i + W <= n; i += W) s0 = _mm512_add_ps(s0, _mm512_loadu_ps(x + i));
  if (i < n) s1 = _mm512_add_ps(s1, _mm512_maskz_loadu_ps(tail_mask(n - i), x + i));
  return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

void rms_norm(const float* x, const float* w, float* y, int64_t n, float eps) {
  const float ms = sum_sq(x, 0.0f, n) / float(n);
  const float r = 1.0f / __builtin_sqrtf(ms + eps);
  scale_shift(x, 0.0f, r, w, nullptr, y, n);
}

void layer_norm(const float* x, const float* g, const float* b, float* y, int64_t n, float eps) {
  // Two passes (mean, then squares about it) avoid E[x^2] - E[x]^2 cancellation.
  const float mean = sum(x, n) / float(n);
  const float var = sum_sq(x, mean, n) / float(n);
  const float r = 1.0f / __builtin_sqrtf(var + eps);
  scale_shift(x, mean, r, g, b, y, n);
}

template <bool Mul>
void activate_impl(Activation act, float* x, const float* y, int64_t n) {
  int64_t i = 0;
  for (; i + W <= n; i += W) {
    __m512 v = act_ps(act, _mm512_loadu_ps(x + i));
    if (Mul) v = _mm512_mul_ps(v, _mm512_loadu_ps(y + i));
    _mm512_storeu_ps(x + i, v);
  }
  if (i < n) {
    const __mmask16 m = tail_mask(n - i);
    __m512 v = act_ps(act, _mm512_maskz_loadu_ps(m, x + i));
    if (Mul) v = _mm512_mul_ps(v, _mm512_maskz_loadu_ps(m, y + i));
    _mm512_mask_storeu_ps(x + i, m, v);
  }
}

void activate(Activation act, float* x, int64_t n) { activate_impl<false>(act, x, nullptr, n); }
void activate_mul(Activation act, float* x, const float* y, int64_t n) {
  activate_impl<true>(act, x, y, n);
}

void to_f32(const void* src, DType type, float* dst, int64_t n) {
  if (type == DType::F32) {
    std::memcpy(dst, src, size_t(n) * sizeof(float));
    return;
  }
  const uint16_t* s = static_cast<const uint16_t*>(src);
  const bool f16 = type == DType::F16;
  auto cvt = [f16](__m256i h) {
    return f16 ? _mm512_cvtph_ps(h)
               : _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  };
  int64_t i = 0;
  for (; i + W <= n; i += W)
    _mm512_storeu_ps(dst + i, cvt(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + i))));
  if (i < n) {
    const __mmask16 m = tail_mask(n - i);
    _mm512_mask_storeu_ps(dst + i, m, cvt(_mm256_maskz_loadu_epi16(m, s + i)));
  }
}

void exp_inplace(float* x, int64_t n) {
  int64_t i = 0;
  for (; i + W <= n; i += W) _mm512_storeu_ps(x + i, exp_ps(_mm512_loadu_ps(x + i)));
  if (i < n) {
    const __mmask16 m = tail_mask(n - i);
    _mm512_mask_storeu_ps(x + i, m, exp_ps(_mm512_maskz_loadu_ps(m, x + i)));
  }
}

// The vector vocabulary attention_impl.inc is written in: 4 rows x 4 zmm = 16 accumulators.
using AttVec = __m512;
constexpr int64_t kAttVec = W;
constexpr int kAttRows = 4;
inline AttVec att_load(const float* p) { return _mm512_loadu_ps(p); }
inline void att_store(float* p, AttVec v) { _mm512_storeu_ps(p, v); }
inline AttVec att_set1(float x) { return _mm512_set1_ps(x); }
inline AttVec att_fma(AttVec a, AttVec b, AttVec c) { return _mm512_fmadd_ps(a, b, c); }
inline AttVec att_mul(AttVec a, AttVec b) { return _mm512_mul_ps(a, b); }
inline void att_to_f32(const void* src, DType t, float* dst, int64_t n) { to_f32(src, t, dst, n); }
inline float att_f16(uint16_t h) { return _cvtsh_ss(h); }

#include "../attention_impl.inc"

}  // namespace

KernelTable make_table() {
  KernelTable t{};
  fill_gemm(t);
  // The quantized GEMM: the AVX2 kernels with VNNI's dot products where the CPU has them.
  if (cpu_has_avx512_vnni()) fill_quant(t);
  else avx2::fill_quant(t);
  t.dot = dot;
  t.axpy = axpy;
  t.softmax = softmax;
  t.rms_norm = rms_norm;
  t.layer_norm = layer_norm;
  t.activate = activate;
  t.activate_mul = activate_mul;
  t.to_f32 = to_f32;
  t.attention_block = attention_block;
  t.attention_merge = attention_merge;
  return t;
}

}  // namespace tessera::kernels::avx512
