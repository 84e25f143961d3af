// gemm_quant, the GEMM over ggml's block-quantized weights: argument checks, the activation
// rows quantized once per call, the threading plan, and a jump through the dispatch table
// (the kernels are quant_impl.inc, compiled per ISA). Built with baseline flags.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "dispatch.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/parallel.hpp"
#include "tessera/kernels/quant.hpp"

namespace tessera::kernels {

QuantWeight::QuantWeight(const void* data, DType type, int64_t n, int64_t k, std::shared_ptr<const void> keepalive)
    : data_(data), keep_(std::move(keepalive)), type_(type), n_(n), k_(k) {
  TESSERA_CHECK(is_quantized(type) && type != DType::Q8_K,
                "QuantWeight: {} is not a quantized weight type", dtype_name(type));
  TESSERA_CHECK(n >= 0 && k >= 0, "QuantWeight: negative size N={} K={}", n, k);
  TESSERA_CHECK(k % dtype_block_elems(type) == 0, "QuantWeight: K={} is not a multiple of {}'s block of {}", k,
                dtype_name(type), dtype_block_elems(type));
  TESSERA_CHECK(data != nullptr || n * k == 0, "QuantWeight: null data for a {}x{} {} matrix", n, k,
                dtype_name(type));
  if (has_panels(type) && n * k > 0) {
    panels_ = repack_panels(data, type, n, k);
    data_ = nullptr;
    keep_.reset();
  }
}

namespace {

struct FreeDeleter {
  void operator()(unsigned char* p) const { std::free(p); }
};

// The quantized activation rows: the calling thread's buffer, kept between calls so that the
// token loop does not allocate once it has grown to the largest shape. The pool's workers
// only read it while the caller waits in parallel_for.
unsigned char* act_buffer(size_t bytes) {
  thread_local std::unique_ptr<unsigned char, FreeDeleter> buf;
  thread_local size_t cap = 0;
  if (cap < bytes) {
    const size_t alloc = (bytes + 63) / 64 * 64;
    buf.reset(static_cast<unsigned char*>(std::aligned_alloc(64, alloc)));
    TESSERA_CHECK(buf != nullptr, "gemm_quant: out of memory for a {}-byte activation buffer", alloc);
    cap = alloc;
  }
  return buf.get();
}

// Below this many multiply-adds a call is not worth waking the pool (as for gemm).
constexpr int64_t kMinParallelWork = int64_t(1) << 16;

}  // namespace

void gemm_quant(const float* x, int64_t m, int64_t ldx, const QuantWeight& w, float* y, int64_t ldy,
                const float* bias, bool accumulate) {
  const int64_t k = w.k(), n = w.n();
  TESSERA_CHECK(m >= 0, "gemm_quant: negative M={}", m);
  if (m == 0 || n == 0) return;
  TESSERA_CHECK(!w.empty() || k == 0, "gemm_quant: empty QuantWeight");
  TESSERA_CHECK(ldy >= n, "gemm_quant: ldy={} is smaller than N={}", ldy, n);
  TESSERA_CHECK(y != nullptr, "gemm_quant: null output");
  if (k == 0) {
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        const float v = accumulate ? y[i * ldy + j] : 0.0f;
        y[i * ldy + j] = bias ? v + bias[j] : v;
      }
    return;
  }
  TESSERA_CHECK(ldx >= k, "gemm_quant: ldx={} is smaller than K={}", ldx, k);
  TESSERA_CHECK(x != nullptr, "gemm_quant: null input");

  const KernelTable& t = table();
  const DType wt = w.dtype();
  const size_t stride = quant_act_bytes(wt, k);
  unsigned char* act = act_buffer(stride * size_t(m));
  const int threads = m * n * k < kMinParallelWork ? 1 : num_threads();

  // Each row is quantized on its own, so splitting rows between threads changes nothing.
  auto quantize = [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) t.quantize_act(wt, x + i * ldx, k, act + size_t(i) * stride);
  };
  if (threads > 1 && m >= 2 * threads)
    parallel_for(m, quantize, 1);
  else
    quantize(0, m);

  const QuantGemmArgs a{act, stride, m, k, w.data(), wt, n, y, ldy, bias, accumulate, w.panels()};
  if (threads == 1) return t.quant_block(a, 0, m, 0, n);
  if (a.panels) {  // whole panels to each thread (its 16 rows are computed together)
    const int64_t np = (n + kPanelCols - 1) / kPanelCols;
    if (np >= 2 * threads || m < 8 * threads)
      parallel_for(np, [&](int64_t b, int64_t e) { t.quant_block(a, 0, m, b * kPanelCols, std::min(n, e * kPanelCols)); }, 1);
    else
      parallel_for(m, [&](int64_t b, int64_t e) { t.quant_block(a, b, e, 0, n); }, 4);
    return;
  }
  // Split W's rows (each thread streams its own part of W: decode is bound by reading it);
  // only when they are too few to share, split X's rows. Element results do not depend on
  // the split.
  if (n >= 16 * threads || m < 8 * threads)
    parallel_for(n, [&](int64_t b, int64_t e) { t.quant_block(a, 0, m, b, e); }, 8);
  else
    parallel_for(m, [&](int64_t b, int64_t e) { t.quant_block(a, b, e, 0, n); }, 4);
}

}  // namespace tessera::kernels
