// Decoding allocates nothing on the heap per token once warmed up: a replacement global
// operator new counts allocations while a test enables it.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "tessera/core/parallel.hpp"
#include "tessera/kernels/quant.hpp"
#include "tessera/models/model.hpp"

namespace {
std::atomic<bool> counting{false};
std::atomic<long> allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
// The nothrow forms too (std::stable_sort's temporary buffer uses them): left to the runtime,
// they would pair the runtime's new with the free() above (ASan: alloc-dealloc-mismatch).
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

// With every KV cache type, on one thread and on two (where a context of more than one key
// slice splits each step's attention between the threads).
TEST(Allocation, DecodeStepsDoNotAllocateAfterWarmUp) {
  const int saved = tessera::num_threads();
  auto model = tessera::load(std::string(TESSERA_MODELS_DIR) + "/pycode-6m");
  for (tessera::DType t : {tessera::DType::F32, tessera::DType::F16, tessera::DType::BF16, tessera::DType::Q8_0})
    for (int threads : {1, 2}) {
      tessera::set_num_threads(threads);
      auto session = model->new_session({.kv_type = t});
      session->reserve(session->capacity());
      std::vector<int32_t> prompt(300);
      for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = int32_t(10 + i % 50);
      tessera::Tensor logits;
      model->decode(*session, prompt, logits, false);
      int32_t tok = 7;
      for (int i = 0; i < 4; ++i) model->decode(*session, std::span<const int32_t>(&tok, 1), logits, false);  // warm up
      allocations = 0;
      counting = true;
      for (int i = 0; i < 32; ++i) model->decode(*session, std::span<const int32_t>(&tok, 1), logits, false);
      counting = false;
      EXPECT_EQ(allocations.load(), 0) << "heap allocations in 32 decode steps, KV cache " << tessera::dtype_name(t)
                                       << ", " << threads << " threads";
    }
  tessera::set_num_threads(saved);
}

// gemm_quant keeps its quantized activation rows in a buffer reused between calls: once it has
// seen the largest shape, decode-sized and prefill-sized calls allocate nothing (one thread and
// the pool).
TEST(Allocation, GemmQuantDoesNotAllocateAfterWarmUp) {
  using namespace tessera::kernels;
  const int saved = tessera::num_threads();
  const int64_t n = 96, k = 512;
  std::vector<float> wf(size_t(n * k), 0.5f), x(size_t(8 * k), 0.25f), y(size_t(8 * n));
  for (tessera::DType t : {tessera::DType::Q4_0, tessera::DType::Q4_K}) {
    std::vector<unsigned char> wq(tessera::dtype_bytes(t, k) * size_t(n));
    for (int64_t r = 0; r < n; ++r) quantize_row(t, wf.data() + r * k, wq.data() + size_t(r) * tessera::dtype_bytes(t, k), k);
    const QuantWeight w(wq.data(), t, n, k, nullptr);
    for (int threads : {1, 2}) {
      tessera::set_num_threads(threads);
      gemm_quant(x.data(), 8, k, w, y.data(), n);  // warm up
      allocations = 0;
      counting = true;
      for (int i = 0; i < 8; ++i) gemm_quant(x.data(), 1 + i % 8, k, w, y.data(), n);
      counting = false;
      EXPECT_EQ(allocations.load(), 0) << "heap allocations in gemm_quant, " << threads << " threads";
    }
  }
  tessera::set_num_threads(saved);
}
