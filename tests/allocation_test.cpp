// Decoding allocates nothing on the heap per token once warmed up: a replacement global
// operator new counts allocations while a test enables it.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

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

TEST(Allocation, DecodeStepsDoNotAllocateAfterWarmUp) {
  auto model = tessera::load(std::string(TESSERA_MODELS_DIR) + "/pycode-6m");
  auto session = model->new_session();
  session->reserve(session->capacity());
  std::vector<int32_t> prompt = {10, 20, 30, 40, 50};
  tessera::Tensor logits;
  model->decode(*session, prompt, logits, false);
  int32_t tok = 7;
  for (int i = 0; i < 4; ++i) model->decode(*session, std::span<const int32_t>(&tok, 1), logits, false);  // warm up
  allocations = 0;
  counting = true;
  for (int i = 0; i < 32; ++i) model->decode(*session, std::span<const int32_t>(&tok, 1), logits, false);
  counting = false;
  EXPECT_EQ(allocations.load(), 0) << "heap allocations in 32 decode steps";
}
