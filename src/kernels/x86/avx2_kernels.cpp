// AVX2+FMA+F16C element-wise kernels: dot, axpy, softmax, norms, activations, conversion.
// Built with -mavx2 -mfma -mf16c; helpers stay in an anonymous namespace and only the table's
// plain function pointers leave this TU (see DESIGN.md, "Lessons").
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "../dispatch.hpp"

namespace tessera::kernels::avx2 {
namespace {

constexpr int64_t W = 8;

__m256i tail_mask(int64_t r) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(r)), idx);
}

float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

float hmax(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// 2^n for integral n in [-150, 129], as two factors so each stays a normal float; the
// product then overflows to inf or underflows through the subnormals as it should.
__m256 pow2i(__m256 n) {
  const __m256i ni = _mm256_cvtps_epi32(n);
  const __m256i h = _mm256_srai_epi32(ni, 1);
  const __m256i l = _mm256_sub_epi32(ni, h);
  const __m256i bias = _mm256_set1_epi32(127);
  const __m256 a = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(h, bias), 23));
  const __m256 b = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(l, bias), 23));
  return _mm256_mul_ps(a, b);
}

// Cephes expf (under 2 ulp): n = round(x / ln 2), degree-6 polynomial on the remainder.
__m256 exp_ps(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-104.0f)), _mm256_set1_ps(89.0f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r);
  p = _mm256_add_ps(p, _mm256_set1_ps(1.0f));
  return _mm256_mul_ps(p, pow2i(n));
}

// erfc(a) for a >= 0 (Numerical Recipes' erfcc, relative error < 1.2e-7 everywhere).
// a*a is split into hi + lo with an FMA so the exponent keeps full precision for large a.
__m256 erfc_pos(__m256 a) {
  // erfc(a > 10) is below the smallest subnormal: return 0 there (a huge |x| times the
  // clamped value would not be), and clamp so a*a's rounding error (lo) stays finite.
  const __m256 big = _mm256_set1_ps(10.0f);
  const __m256 keep = _mm256_cmp_ps(a, big, _CMP_LE_OQ);
  a = _mm256_min_ps(a, big);
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 t = _mm256_div_ps(one, _mm256_fmadd_ps(_mm256_set1_ps(0.5f), a, one));
  __m256 p = _mm256_set1_ps(0.17087277f);
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-0.82215223f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.48851587f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-1.13520398f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.27886807f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-0.18628806f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.09678418f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.37409196f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.00002368f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-1.26551223f));
  const __m256 hi = _mm256_mul_ps(a, a);
  const __m256 lo = _mm256_fmsub_ps(a, a, hi);
  // -hi goes to exp on its own: folded into one argument near -70 it would lose ~4e-6 of
  // relative accuracy to rounding before exp even starts.
  const __m256 r = _mm256_mul_ps(_mm256_mul_ps(t, exp_ps(_mm256_sub_ps(p, lo))), exp_ps(_mm256_sub_ps(_mm256_setzero_ps(), hi)));
  return _mm256_and_ps(r, keep);
}

__m256 act_ps(Activation act, __m256 v) {
  const __m256 one = _mm256_set1_ps(1.0f);
  switch (act) {
    case Activation::Silu:
      return _mm256_div_ps(v, _mm256_add_ps(one, exp_ps(_mm256_sub_ps(_mm256_setzero_ps(), v))));
    case Activation::Gelu: {
      // 0.5 v (1 + erf(v/sqrt2)) through erfc, so that v < 0 keeps its relative accuracy.
      const __m256 absv = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v);
      const __m256 c = erfc_pos(_mm256_mul_ps(absv, _mm256_set1_ps(0.70710678118654752f)));
      const __m256 pos = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_GE_OQ);
      const __m256 f = _mm256_blendv_ps(c, _mm256_sub_ps(_mm256_set1_ps(2.0f), c), pos);
      return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), v), f);
    }
    case Activation::GeluTanh: {
      // 0.5 (1 + tanh(u)) == 1 / (1 + exp(-2u)): no cancellation for v < 0.
      const __m256 v3 = _mm256_mul_ps(_mm256_mul_ps(v, v), v);
      const __m256 u = _mm256_mul_ps(_mm256_set1_ps(-2.0f * 0.7978845608028654f),
                                     _mm256_fmadd_ps(_mm256_set1_ps(0.044715f), v3, v));
      return _mm256_div_ps(v, _mm256_add_ps(one, exp_ps(u)));
    }
    case Activation::Relu: return _mm256_max_ps(v, _mm256_setzero_ps());
    case Activation::Identity: return v;
  }
  return v;
}

__m256 load_tail(const float* p, int64_t r) { return _mm256_maskload_ps(p, tail_mask(r)); }
void store_tail(float* p, int64_t r, __m256 v) { _mm256_maskstore_ps(p, tail_mask(r), v); }

float dot(const float* a, const float* b, int64_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(),
         s3 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + W), _mm256_loadu_ps(b + i + W), s1);
    s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 2 * W), _mm256_loadu_ps(b + i + 2 * W), s2);
    s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 3 * W), _mm256_loadu_ps(b + i + 3 * W), s3);
  }
  for (; i + W <= n; i += W) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
  if (i < n) s1 = _mm256_fmadd_ps(load_tail(a + i, n - i), load_tail(b + i, n - i), s1);
  return hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

void axpy(float a, const float* x, float* y, int64_t n) {
  const __m256 av = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + W <= n; i += W)
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  if (i < n)
    store_tail(y + i, n - i, _mm256_fmadd_ps(av, load_tail(x + i, n - i), load_tail(y + i, n - i)));
}

void softmax(float* x, int64_t n) {
  const __m256 ninf = _mm256_set1_ps(-__builtin_inff());
  __m256 mv = ninf;
  int64_t i = 0;
  for (; i + W <= n; i += W) mv = _mm256_max_ps(mv, _mm256_loadu_ps(x + i));
  float mx = hmax(mv);
  for (; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  if (mx == -__builtin_inff()) {
    for (int64_t j = 0; j < n; ++j) x[j] = 0.0f;
    return;
  }
  const __m256 mxv = _mm256_set1_ps(mx);
  __m256 s = _mm256_setzero_ps();
  for (i = 0; i + W <= n; i += W) {
    const __m256 e = exp_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), mxv));
    _mm256_storeu_ps(x + i, e);
    s = _mm256_add_ps(s, e);
  }
  if (i < n) {
    const __m256i m = tail_mask(n - i);
    const __m256 e = _mm256_and_ps(exp_ps(_mm256_sub_ps(_mm256_maskload_ps(x + i, m), mxv)),
                                   _mm256_castsi256_ps(m));
    _mm256_maskstore_ps(x + i, m, e);
    s = _mm256_add_ps(s, e);
  }
  const __m256 inv = _mm256_set1_ps(1.0f / hsum(s));
  for (i = 0; i + W <= n; i += W) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), inv));
  if (i < n) store_tail(x + i, n - i, _mm256_mul_ps(load_tail(x + i, n - i), inv));
}

// y[i] = (x[i] - shift) * scale * (w ? w[i] : 1) + (b ? b[i] : 0); x and y may alias.
void scale_shift(const float* x, float shift, float scale, const float* w, const float* b, float* y,
                 int64_t n) {
  const __m256 sh = _mm256_set1_ps(shift), sc = _mm256_set1_ps(scale);
  int64_t i = 0;
  for (; i + W <= n; i += W) {
    __m256 v = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), sh), sc);
    if (w) v = _mm256_mul_ps(v, _mm256_loadu_ps(w + i));
    if (b) v = _mm256_add_ps(v, _mm256_loadu_ps(b + i));
    _mm256_storeu_ps(y + i, v);
  }
  if (i < n) {
    const int64_t r = n - i;
    __m256 v = _mm256_mul_ps(_mm256_sub_ps(load_tail(x + i, r), sh), sc);
    if (w) v = _mm256_mul_ps(v, load_tail(w + i, r));
    if (b) v = _mm256_add_ps(v, load_tail(b + i, r));
    store_tail(y + i, r, v);
  }
}

// Sum of squares of (x - c), four vector chains to hide FMA latency.
float sum_sq(const float* x, float c, int64_t n) {
  const __m256 cv = _mm256_set1_ps(c);
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(),
         s3 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W) {
    __m256 a = _mm256_sub_ps(_mm256_loadu_ps(x + i), cv), b = _mm256_sub_ps(_mm256_loadu_ps(x + i + W), cv),
           d = _mm256_sub_ps(_mm256_loadu_ps(x + i + 2 * W), cv),
           e = _mm256_sub_ps(_mm256_loadu_ps(x + i + 3 * W), cv);
    s0 = _mm256_fmadd_ps(a, a, s0);
    s1 = _mm256_fmadd_ps(b, b, s1);
    s2 = _mm256_fmadd_ps(d, d, s2);
    s3 = _mm256_fmadd_ps(e, e, s3);
  }
  for (; i + W <= n; i += W) {
    __m256 a = _mm256_sub_ps(_mm256_loadu_ps(x + i), cv);
    s0 = _mm256_fmadd_ps(a, a, s0);
  }
  if (i < n) {
    const __m256i m = tail_mask(n - i);
    __m256 a = _mm256_and_ps(_mm256_sub_ps(_mm256_maskload_ps(x + i, m), cv), _mm256_castsi256_ps(m));
    s1 = _mm256_fmadd_ps(a, a, s1);
  }
  return hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

float sum(const float* x, int64_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    s0 = _mm256_add_ps(s0, _mm256_loadu_ps(x + i));
    s1 = _mm256_add_ps(s1, _mm256_loadu_ps(x + i + W));
  }
  for (; i + W <= n; i += W) s0 = _mm256_add_ps(s0, _mm256_loadu_ps(x + i));
  if (i < n) s1 = _mm256_add_ps(s1, load_tail(x + i, n - i));
  return hsum(_mm256_add_ps(s0, s1));
}

void rms_norm(const float* x, const float* w, float* y, int64_t n, float eps) {
  const float ms = sum_sq(x, 0.0f, n) / float(n);
  scale_shift(x, 0.0f, 1.0f / __builtin_sqrtf(ms + eps), w, nullptr, y, n);
}

void layer_norm(const float* x, const float* g, const float* b, float* y, int64_t n, float eps) {
  // Two passes (mean, then squares about it) avoid E[x^2] - E[x]^2 cancellation.
  const float mean = sum(x, n) / float(n);
  const float var = sum_sq(x, mean, n) / float(n);
  scale_shift(x, mean, 1.0f / __builtin_sqrtf(var + eps), g, b, y, n);
}

template <bool Mul>
void activate_impl(Activation act, float* x, const float* y, int64_t n) {
  int64_t i = 0;
  for (; i + W <= n; i += W) {
    __m256 v = act_ps(act, _mm256_loadu_ps(x + i));
    if (Mul) v = _mm256_mul_ps(v, _mm256_loadu_ps(y + i));
    _mm256_storeu_ps(x + i, v);
  }
  if (i < n) {
    __m256 v = act_ps(act, load_tail(x + i, n - i));
    if (Mul) v = _mm256_mul_ps(v, load_tail(y + i, n - i));
    store_tail(x + i, n - i, v);
  }
}

void activate(Activation act, float* x, int64_t n) { activate_impl<false>(act, x, nullptr, n); }
void activate_mul(Activation act, float* x, const float* y, int64_t n) {
  activate_impl<true>(act, x, y, n);
}

__m256 cvt_half(__m128i h, bool f16) {
  return f16 ? _mm256_cvtph_ps(h)
             : _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

void to_f32(const void* src, DType type, float* dst, int64_t n) {
  if (type == DType::F32) {
    std::memcpy(dst, src, size_t(n) * sizeof(float));
    return;
  }
  const uint16_t* s = static_cast<const uint16_t*>(src);
  const bool f16 = type == DType::F16;
  int64_t i = 0;
  for (; i + W <= n; i += W)
    _mm256_storeu_ps(dst + i, cvt_half(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i)), f16));
  if (i < n) {
    uint16_t buf[8] = {};
    std::memcpy(buf, s + i, size_t(n - i) * 2);
    store_tail(dst + i, n - i, cvt_half(_mm_loadu_si128(reinterpret_cast<const __m128i*>(buf)), f16));
  }
}

void exp_inplace(float* x, int64_t n) {
  int64_t i = 0;
  for (; i + W <= n; i += W) _mm256_storeu_ps(x + i, exp_ps(_mm256_loadu_ps(x + i)));
  for (; i < n; ++i) {
    float buf[W] = {};
    buf[0] = x[i];
    _mm256_storeu_ps(buf, exp_ps(_mm256_loadu_ps(buf)));
    x[i] = buf[0];
  }
}

// The vector vocabulary attention_impl.inc is written in: 2 rows x 4 ymm = 8 accumulators
// (16 registers in all: the four loaded vectors and a broadcast fit beside them).
using AttVec = __m256;
constexpr int64_t kAttVec = W;
constexpr int kAttRows = 2;
inline AttVec att_load(const float* p) { return _mm256_loadu_ps(p); }
inline void att_store(float* p, AttVec v) { _mm256_storeu_ps(p, v); }
inline AttVec att_set1(float x) { return _mm256_set1_ps(x); }
inline AttVec att_fma(AttVec a, AttVec b, AttVec c) { return _mm256_fmadd_ps(a, b, c); }
inline AttVec att_mul(AttVec a, AttVec b) { return _mm256_mul_ps(a, b); }
inline void att_to_f32(const void* src, DType t, float* dst, int64_t n) { to_f32(src, t, dst, n); }
inline float att_f16(uint16_t h) { return _cvtsh_ss(h); }

#include "../attention_impl.inc"

}  // namespace

KernelTable make_table() {
  KernelTable t{};
  fill_gemm(t);
  fill_quant(t);
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

}  // namespace tessera::kernels::avx2
