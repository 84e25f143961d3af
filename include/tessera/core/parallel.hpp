// The one thread pool. parallel_for splits [0, n) into contiguous chunks, one per worker,
// so that which thread computes which element never changes a result (no reductions
// across chunks): outputs do not depend on the thread count.
#pragma once

#include <cstdint>
#include <functional>

namespace tessera {

// Number of threads parallel_for uses (default: TESSERA_THREADS or the hardware count).
int num_threads();
// Set the number of threads (>= 1). Not to be called while a parallel_for runs.
void set_num_threads(int n);

// Run fn(begin, end) over chunks of [0, n) on the pool. Chunks are multiples of `grain`
// (except the last). Runs inline when n is small or when called from inside a worker.
void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t grain = 1);

}  // namespace tessera
