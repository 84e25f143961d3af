// The public kernel entry points: argument checks, the threading plan for gemm, and a jump
// through the dispatch table. Built with baseline flags; the ISA code lives elsewhere.
#include "tessera/kernels/kernels.hpp"

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "dispatch.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/parallel.hpp"

namespace tessera::kernels {
namespace {

struct FreeDeleter {
  void operator()(float* p) const { std::free(p); }
};

// Packing buffers live per thread and are kept between calls, so the token loop does not
// allocate once they have grown to the largest shape.
float* thread_scratch(size_t floats) {
  thread_local std::unique_ptr<float, FreeDeleter> buf;
  thread_local size_t cap = 0;
  if (cap < floats) {
    size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
    buf.reset(static_cast<float*>(std::aligned_alloc(64, bytes)));
    TESSERA_CHECK(buf != nullptr, "gemm: out of memory for a {}-byte packing buffer", bytes);
    cap = floats;
  }
  return buf.get();
}

bool is_weight_type(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }

// Below this many multiply-adds a call is not worth waking the pool.
constexpr int64_t kMinParallelWork = int64_t(1) << 16;

}  // namespace

void gemm(const float* x, int64_t m, int64_t k, int64_t ldx, const void* w, DType wtype, int64_t n,
          float* y, int64_t ldy, const float* bias, bool accumulate) {
  TESSERA_CHECK(m >= 0 && k >= 0 && n >= 0, "gemm: negative size M={} K={} N={}", m, k, n);
  TESSERA_CHECK(is_weight_type(wtype), "gemm: weights must be F32, F16 or BF16, got {}",
                dtype_name(wtype));
  if (m == 0 || n == 0) return;
  TESSERA_CHECK(ldy >= n, "gemm: ldy={} is smaller than N={}", ldy, n);
  TESSERA_CHECK(y != nullptr, "gemm: null output");
  if (k == 0) {
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        float v = accumulate ? y[i * ldy + j] : 0.0f;
        y[i * ldy + j] = bias ? v + bias[j] : v;
      }
    return;
  }
  TESSERA_CHECK(ldx >= k, "gemm: ldx={} is smaller than K={}", ldx, k);
  TESSERA_CHECK(x != nullptr && w != nullptr, "gemm: null input");

  const KernelTable& t = table();
  const GemmArgs a{x, m, k, ldx, w, wtype, n, y, ldy, bias, accumulate};
  const int64_t work = m * n * k;
  const int threads = work < kMinParallelWork ? 1 : num_threads();

  if (m <= t.gemv_max_m) {
    // Decode: memory-bound on W, so split W's rows (output columns) between threads.
    if (threads == 1) return t.gemv(a, 0, n);
    parallel_for(n, [&](int64_t b, int64_t e) { t.gemv(a, b, e); }, 64);
    return;
  }
  auto block = [&](int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    t.gemm_block(a, m0, m1, n0, n1, thread_scratch(t.gemm_scratch_floats));
  };
  if (threads == 1) return block(0, m, 0, n);
  if (n >= 128 * threads) {
    // Splitting N keeps each thread packing only its own part of W.
    parallel_for(n, [&](int64_t b, int64_t e) { block(0, m, b, e); }, 64);
  } else {
    parallel_for(m, [&](int64_t b, int64_t e) { block(b, e, 0, n); }, 24);
  }
}

float dot(const float* a, const float* b, int64_t n) {
  if (n <= 0) return 0.0f;
  return table().dot(a, b, n);
}

void axpy(float a, const float* x, float* y, int64_t n) {
  if (n > 0) table().axpy(a, x, y, n);
}

void softmax(float* x, int64_t n) {
  if (n > 0) table().softmax(x, n);
}

void rms_norm(const float* x, const float* w, float* y, int64_t n, float eps) {
  if (n > 0) table().rms_norm(x, w, y, n, eps);
}

void layer_norm(const float* x, const float* g, const float* b, float* y, int64_t n, float eps) {
  if (n > 0) table().layer_norm(x, g, b, y, n, eps);
}

void activate(Activation act, float* x, int64_t n) {
  if (n > 0 && act != Activation::Identity) table().activate(act, x, n);
}

void activate_mul(Activation act, float* x, const float* y, int64_t n) {
  if (n > 0) table().activate_mul(act, x, y, n);
}

void silu(float* x, int64_t n) { activate(Activation::Silu, x, n); }
void gelu(float* x, int64_t n) { activate(Activation::Gelu, x, n); }
void gelu_tanh(float* x, int64_t n) { activate(Activation::GeluTanh, x, n); }
void relu(float* x, int64_t n) { activate(Activation::Relu, x, n); }

void to_f32(const void* src, DType type, float* dst, int64_t n) {
  TESSERA_CHECK(is_weight_type(type), "to_f32: cannot convert {} to F32", dtype_name(type));
  if (n > 0) table().to_f32(src, type, dst, n);
}

}  // namespace tessera::kernels
