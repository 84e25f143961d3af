// The one thread pool. parallel_for splits [0, n) into contiguous chunks, one per worker,
// so that which thread computes which element never changes a result (no reductions
// across chunks): outputs do not depend on the thread count.
#pragma once

#include <cstdint>
#include <type_traits>
#include <utility>

namespace tessera {

// Number of threads parallel_for uses (default: TESSERA_THREADS or the hardware count; a
// TESSERA_THREADS that is not a whole number from 1 to 1024 is an Error naming it).
int num_threads();
// Set the number of threads (1 to 1024). Not to be called while a parallel_for runs.
void set_num_threads(int n);

// A non-owning reference to a callable taking (begin, end): unlike std::function it never
// allocates, so the token loop stays free of heap traffic.
class RangeFn {
 public:
  template <typename F, typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, RangeFn>>>
  RangeFn(F& f) : obj_(const_cast<void*>(static_cast<const void*>(&f))), call_([](void* o, int64_t b, int64_t e) { (*static_cast<F*>(o))(b, e); }) {}
  void operator()(int64_t b, int64_t e) const { call_(obj_, b, e); }

 private:
  void* obj_;
  void (*call_)(void*, int64_t, int64_t);
};

void parallel_for_ref(int64_t n, RangeFn fn, int64_t grain);

// Run fn(begin, end) over chunks of [0, n) on the pool. Chunks are multiples of `grain`
// (except the last). Runs inline when n is small or when called from inside a worker.
template <typename F>
void parallel_for(int64_t n, F&& fn, int64_t grain = 1) {
  parallel_for_ref(n, RangeFn(fn), grain);
}

}  // namespace tessera
