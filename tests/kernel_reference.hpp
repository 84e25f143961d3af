// Scalar oracles for every kernel in kernels.hpp: the plainest loops, accumulating in double.
// Tests compare the dispatched kernels with these; nothing in the library calls them.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "tessera/core/dtype.hpp"
#include "tessera/core/half.hpp"
#include "tessera/kernels/kernels.hpp"
#include "tessera/kernels/quant.hpp"

namespace tessera::kernels::reference {

inline float weight(const void* w, DType t, int64_t i) {
  switch (t) {
    case DType::F16: return f16_to_f32(static_cast<const uint16_t*>(w)[i]);
    case DType::BF16: return bf16_to_f32(static_cast<const uint16_t*>(w)[i]);
    default: return static_cast<const float*>(w)[i];
  }
}

inline void to_f32(const void* src, DType type, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = weight(src, type, i);
}

inline void gemm(const float* x, int64_t m, int64_t k, int64_t ldx, const void* w, DType wtype,
                 int64_t n, float* y, int64_t ldy, const float* bias = nullptr,
                 bool accumulate = false) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = accumulate ? double(y[i * ldy + j]) : 0.0;
      if (bias) s += bias[j];
      for (int64_t p = 0; p < k; ++p) s += double(x[i * ldx + p]) * double(weight(w, wtype, j * k + p));
      y[i * ldy + j] = float(s);
    }
}

inline float dot(const float* a, const float* b, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += double(a[i]) * double(b[i]);
  return float(s);
}

inline void axpy(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = float(double(y[i]) + double(a) * double(x[i]));
}

inline void softmax(float* x, int64_t n) {
  double mx = -std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < n; ++i) mx = std::max(mx, double(x[i]));
  if (std::isinf(mx) && mx < 0) {
    for (int64_t i = 0; i < n; ++i) x[i] = 0.0f;
    return;
  }
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += std::exp(double(x[i]) - mx);
  for (int64_t i = 0; i < n; ++i) x[i] = float(std::exp(double(x[i]) - mx) / s);
}

inline void rms_norm(const float* x, const float* w, float* y, int64_t n, float eps) {
  double ss = 0;
  for (int64_t i = 0; i < n; ++i) ss += double(x[i]) * double(x[i]);
  const double r = 1.0 / std::sqrt(ss / double(n) + double(eps));
  for (int64_t i = 0; i < n; ++i) y[i] = float(double(x[i]) * r * (w ? double(w[i]) : 1.0));
}

inline void layer_norm(const float* x, const float* g, const float* b, float* y, int64_t n,
                       float eps) {
  double mean = 0;
  for (int64_t i = 0; i < n; ++i) mean += x[i];
  mean /= double(n);
  double var = 0;
  for (int64_t i = 0; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
  var /= double(n);
  const double r = 1.0 / std::sqrt(var + double(eps));
  for (int64_t i = 0; i < n; ++i)
    y[i] = float((double(x[i]) - mean) * r * (g ? double(g[i]) : 1.0) + (b ? double(b[i]) : 0.0));
}

// Written in the forms that stay accurate for large negative v (erfc rather than 1 + erf;
// 1 / (1 + exp(-2u)) rather than 0.5 (1 + tanh u)), where even double loses everything to
// cancellation; mathematically they are the textbook definitions.
inline double activation(Activation act, double v) {
  switch (act) {
    case Activation::Silu: return v / (1.0 + std::exp(-v));
    case Activation::Gelu: return 0.5 * v * std::erfc(-v / std::sqrt(2.0));
    case Activation::GeluTanh: {
      const double c = std::sqrt(2.0 / 3.14159265358979323846);
      return v / (1.0 + std::exp(-2.0 * c * (v + 0.044715 * v * v * v)));
    }
    case Activation::Relu: return v > 0 ? v : 0.0;
    case Activation::Identity: return v;
  }
  return v;
}

inline void activate(Activation act, float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = float(activation(act, x[i]));
}
inline void activate_mul(Activation act, float* x, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = float(activation(act, x[i]) * double(y[i]));
}
inline void silu(float* x, int64_t n) { reference::activate(Activation::Silu, x, n); }
inline void gelu(float* x, int64_t n) { reference::activate(Activation::Gelu, x, n); }
inline void gelu_tanh(float* x, int64_t n) { reference::activate(Activation::GeluTanh, x, n); }
inline void relu(float* x, int64_t n) { reference::activate(Activation::Relu, x, n); }

// Head g of key/value row j of a KV cache in a.kv_type, as f32 (Q8_0: ggml's dequantize_row).
inline std::vector<float> kv_head(const AttentionArgs& a, const void* base, int64_t j, int64_t g) {
  const int64_t hd = a.head_dim, hb = kv_head_bytes(a.kv_type, hd);
  const auto* p = static_cast<const unsigned char*>(base) + j * a.kv_stride + g * hb;
  std::vector<float> out(size_t((hd + 31) / 32 * 32));
  if (a.kv_type == DType::Q8_0)
    dequantize_row(DType::Q8_0, p, out.data(), int64_t(out.size()));
  else
    for (int64_t d = 0; d < hd; ++d) out[size_t(d)] = weight(p, a.kv_type, d);
  out.resize(size_t(hd));
  return out;
}

// Naive attention (kernels::attention's contract): the cache dequantized to f32, scores in
// double, a full softmax per query and head, zeros for a query with no visible key; padding
// in out is left alone.
inline void attention(const AttentionArgs& a) {
  const int64_t group = a.heads / a.kv_heads, hd = a.head_dim;
  std::vector<std::vector<float>> keys, values;  // [kv head][position * hd]
  for (int64_t g = 0; g < a.kv_heads; ++g) {
    keys.emplace_back();
    values.emplace_back();
    for (int64_t j = 0; j < a.n_keys; ++j) {
      auto k = kv_head(a, a.k, j, g), v = kv_head(a, a.v, j, g);
      keys.back().insert(keys.back().end(), k.begin(), k.end());
      values.back().insert(values.back().end(), v.begin(), v.end());
    }
  }
  std::vector<double> s(static_cast<size_t>(a.n_keys > 0 ? a.n_keys : 1));
  for (int64_t i = 0; i < a.m; ++i)
    for (int64_t h = 0; h < a.heads; ++h) {
      const int64_t qpos = a.q_pos0 + i, g = h / group;
      const float* kg = keys[size_t(g)].data();
      const float* vg = values[size_t(g)].data();
      int64_t hi = a.causal ? std::min(a.n_keys, qpos + 1) : a.n_keys;
      if (!a.causal && a.window > 0) hi = std::min(a.n_keys, qpos + a.window);
      int64_t lo = a.window > 0 ? std::max<int64_t>(0, qpos - a.window + 1) : 0;
      float* o = a.out + i * a.ldo + h * hd;
      for (int64_t d = 0; d < hd; ++d) o[d] = 0.0f;
      if (hi <= lo) continue;
      double mx = -std::numeric_limits<double>::infinity();
      for (int64_t j = lo; j < hi; ++j) {
        double dot = 0;
        for (int64_t d = 0; d < hd; ++d) dot += double(a.q[i * a.ldq + h * hd + d]) * double(kg[j * hd + d]);
        double v = dot * double(a.scale);
        if (a.bias) v += double(a.bias(a.bias_ctx, h, qpos, j));
        if (a.alibi) {
          auto term = [&](int64_t p) {
            const float b = a.alibi[h] * float(p);
            return double(a.alibi_bf16 ? bf16_to_f32(f32_to_bf16(b)) : b);
          };
          v += double(a.alibi_scale) * (term(j) - term(qpos));
        }
        s[size_t(j - lo)] = v;
        mx = std::max(mx, v);
      }
      double sum = 0;
      for (int64_t j = lo; j < hi; ++j) sum += (s[size_t(j - lo)] = std::exp(s[size_t(j - lo)] - mx));
      for (int64_t d = 0; d < hd; ++d) {
        double acc = 0;
        for (int64_t j = lo; j < hi; ++j) acc += s[size_t(j - lo)] * double(vg[j * hd + d]);
        o[d] = float(acc / sum);
      }
    }
}

}  // namespace tessera::kernels::reference
