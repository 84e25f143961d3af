// The hot loops, as plain functions on raw row-major buffers. Each dispatches at run time to
// the scalar, AVX2 or AVX-512 version (see cpu.hpp); reference.hpp holds the simple
// double-accumulating oracles the tests compare them with. Nothing here knows what a model is.
#pragma once

#include <cstdint>

#include "tessera/core/dtype.hpp"
#include "tessera/kernels/cpu.hpp"

namespace tessera::kernels {

// Y[m, n] = sum_k X[m, k] * W[n, k]  (+ bias[n])  (+ Y[m, n] when accumulate).
// X: f32 [M, K] with row stride ldx; W: [N, K] contiguous, dtype F32, F16 or BF16;
// Y: f32 [M, N] with row stride ldy. Threads over N (and M for large M) on the pool;
// the result does not depend on the thread count.
void gemm(const float* x, int64_t m, int64_t k, int64_t ldx, const void* w, DType wtype, int64_t n,
          float* y, int64_t ldy, const float* bias = nullptr, bool accumulate = false);

// Dot product of two f32 vectors.
float dot(const float* a, const float* b, int64_t n);
// y += a * x
void axpy(float a, const float* x, float* y, int64_t n);

// In-place numerically stable softmax over one row of n values (-inf allowed; an all -inf
// row becomes all zeros).
void softmax(float* x, int64_t n);

// y = x / sqrt(mean(x^2) + eps) * w   (w may be null: no scale). x and y may alias.
void rms_norm(const float* x, const float* w, float* y, int64_t n, float eps);
// y = (x - mean) / sqrt(var + eps) * g + b   (g, b may be null). x and y may alias.
void layer_norm(const float* x, const float* g, const float* b, float* y, int64_t n, float eps);

// In-place activations over n values.
void silu(float* x, int64_t n);
void gelu(float* x, int64_t n);       // exact, erf-based
void gelu_tanh(float* x, int64_t n);  // tanh approximation
void relu(float* x, int64_t n);
// x[i] = silu(x[i]) * y[i]  and  x[i] = gelu_tanh(x[i]) * y[i] etc. for gated MLPs.
enum class Activation { Silu, Gelu, GeluTanh, Relu, Identity };
void activate(Activation act, float* x, int64_t n);
void activate_mul(Activation act, float* x, const float* y, int64_t n);

// Convert n weights of dtype `type` to f32.
void to_f32(const void* src, DType type, float* dst, int64_t n);

}  // namespace tessera::kernels
