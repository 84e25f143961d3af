// Portable scalar kernels: the fallback on CPUs without AVX2 and the `TESSERA_ISA=scalar`
// path. Built with baseline flags, so libm and the half.hpp helpers are safe to use here.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "dispatch.hpp"
#include "tessera/core/half.hpp"

namespace tessera::kernels::scalar {
namespace {


void convert(const void* src, DType type, int64_t offset, float* dst, int64_t n) {
  if (type == DType::F32) {
    std::memcpy(dst, static_cast<const float*>(src) + offset, size_t(n) * sizeof(float));
  } else if (type == DType::F16) {
    const uint16_t* s = static_cast<const uint16_t*>(src) + offset;
    for (int64_t i = 0; i < n; ++i) dst[i] = f16_to_f32(s[i]);
  } else {
    const uint16_t* s = static_cast<const uint16_t*>(src) + offset;
    for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(s[i]);
  }
}

float dot(const float* a, const float* b, int64_t n) {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; ++i) s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

void axpy(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

void softmax(float* x, int64_t n) {
  float mx = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) mx = std::max(mx, x[i]);
  if (mx == -std::numeric_limits<float>::infinity()) {
    for (int64_t i = 0; i < n; ++i) x[i] = 0.0f;
    return;
  }
  double s = 0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    s += x[i];
  }
  const float inv = float(1.0 / s);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void rms_norm(const float* x, const float* w, float* y, int64_t n, float eps) {
  double ss = 0;
  for (int64_t i = 0; i < n; ++i) ss += double(x[i]) * x[i];
  const float r = float(1.0 / std::sqrt(ss / double(n) + eps));
  for (int64_t i = 0; i < n; ++i) y[i] = w ? x[i] * r * w[i] : x[i] * r;
}

void layer_norm(const float* x, const float* g, const float* b, float* y, int64_t n, float eps) {
  double mean = 0;
  for (int64_t i = 0; i < n; ++i) mean += x[i];
  mean /= double(n);
  double var = 0;
  for (int64_t i = 0; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
  const float r = float(1.0 / std::sqrt(var / double(n) + eps));
  const float mf = float(mean);
  for (int64_t i = 0; i < n; ++i) {
    float v = (x[i] - mf) * r;
    if (g) v *= g[i];
    if (b) v += b[i];
    y[i] = v;
  }
}

inline float act1(Activation act, float v) {
  switch (act) {
    case Activation::Silu: return v / (1.0f + std::exp(-v));
    case Activation::Gelu: return 0.5f * v * std::erfc(-v * 0.70710678118654752f);
    case Activation::GeluTanh: {
      // 0.5 * (1 + tanh(u)) == 1 / (1 + exp(-2u)), which keeps relative accuracy for v < 0.
      const float u = 0.7978845608028654f * (v + 0.044715f * v * v * v);
      return v / (1.0f + std::exp(-2.0f * u));
    }
    case Activation::Relu: return v > 0.0f ? v : 0.0f;
    case Activation::Identity: return v;
  }
  return v;
}

void activate(Activation act, float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = act1(act, x[i]);
}

void activate_mul(Activation act, float* x, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = act1(act, x[i]) * y[i];
}

void to_f32(const void* src, DType type, float* dst, int64_t n) { convert(src, type, 0, dst, n); }

void exp_inplace(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = std::exp(x[i]);
}

// The vector vocabulary attention_impl.inc is written in, one float wide: the reference path
// stays plain scalar C++ on every architecture (multiply, then add: no fused rounding).
using AttVec = float;
constexpr int64_t kAttVec = 1;
constexpr int kAttRows = 4;
inline AttVec att_load(const float* p) { return *p; }
inline void att_store(float* p, AttVec v) { *p = v; }
inline AttVec att_set1(float x) { return x; }
inline AttVec att_fma(AttVec a, AttVec b, AttVec c) { return a * b + c; }
inline AttVec att_mul(AttVec a, AttVec b) { return a * b; }
inline void att_to_f32(const void* src, DType t, float* dst, int64_t n) { convert(src, t, 0, dst, n); }
inline float att_f16(uint16_t h) { return f16_to_f32(h); }

#include "attention_impl.inc"

// Pre-packed W: C[rows x 32] (+)= Ap·Bp, one chain per element in k order (see dispatch.hpp).
constexpr int64_t kPackedMr = 4;
void packed_tile(int64_t rows, int64_t kc, const float* ap, const void* bp, DType wt, float* c, int64_t ldc,
                 bool load_c, const float* bias) {
  float acc[kPackedMr][32];
  float b[32];
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < 32; ++j) acc[r][j] = load_c ? c[r * ldc + j] : 0.0f;
  for (int64_t p = 0; p < kc; ++p) {
    convert(bp, wt, p * 32, b, 32);
    for (int64_t r = 0; r < rows; ++r) {
      const float av = ap[p * kPackedMr + r];
      for (int64_t j = 0; j < 32; ++j) acc[r][j] += av * b[j];
    }
  }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < 32; ++j) c[r * ldc + j] = bias ? acc[r][j] + bias[j] : acc[r][j];
}

}  // namespace

KernelTable make_table() {
  KernelTable t{};
  t.packed_tile = packed_tile;
  t.packed_mr = kPackedMr;
  t.packed_kc = 256;
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
  fill_quant(t);
  return t;
}

}  // namespace tessera::kernels::scalar
