// The thread pool behind parallel_for: persistent workers, the caller takes chunk 0 itself.
// Chunking is static so results never depend on scheduling.
//
// Hand-off is by spinning first, sleeping later: decode runs ~100 parallel regions per token,
// each 10–100 µs long, and a condition-variable wake costs about as much as a region (a
// 2-thread tg128 was slower than 1 thread with wakes alone). So a worker spins on the
// generation counter for kSpin after its last job before it sleeps on the condition
// variable, and the caller spins the same way for the workers to finish. Idle pools sleep.
#include "tessera/core/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#endif

#include "tessera/core/error.hpp"

namespace tessera {
namespace {

thread_local bool in_worker = false;

constexpr auto kSpin = std::chrono::microseconds(100);

inline void cpu_relax() {
#if defined(__x86_64__) || defined(_M_X64)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

// Waits until done() for at most kSpin without sleeping: a few pause-spins (the common case,
// the other side is running and about to finish), then sched_yield between checks, so that
// on an oversubscribed machine the thread we wait for gets the core instead of our spin.
template <typename Done>
bool spin_until(Done done) {
  for (int i = 0; i < 128; ++i) {
    if (done()) return true;
    cpu_relax();
  }
  const auto until = std::chrono::steady_clock::now() + kSpin;
  for (;;) {
    if (done()) return true;
    std::this_thread::yield();
    if (std::chrono::steady_clock::now() >= until) return done();
  }
}

class Pool {
 public:
  explicit Pool(int n) { resize(n); }
  ~Pool() { stop(); }

  int size() const { return size_; }

  void resize(int n) {
    stop();
    size_ = std::max(1, n);
    quit_.store(false);
    // New workers must not mistake the last finished call for a new one.
    const uint64_t current = generation_.load();
    for (int i = 1; i < size_; ++i) workers_.emplace_back([this, i, current] { loop(i, current); });
  }

  // Runs job(i) for i in [0, chunks): chunk 0 on the caller, the rest on the workers.
  template <typename Job>
  void run(int chunks, Job& job) {
    RunFn fn{&job, [](void* o, int i) { (*static_cast<Job*>(o))(i); }};
    run_fn(chunks, fn);
  }

 private:
  struct RunFn {
    void* obj;
    void (*call)(void*, int);
    void operator()(int i) const { call(obj, i); }
  };

  void run_fn(int chunks, const RunFn& job) {
    std::unique_lock<std::mutex> call_lock(call_mu_);  // one parallel region at a time
    job_.store(&job, std::memory_order_relaxed);
    chunks_.store(chunks, std::memory_order_relaxed);
    // Every worker acknowledges every generation (even without a chunk), so that none can
    // still be reading job_/chunks_ when the next call overwrites them.
    pending_.store(size_ - 1, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_seq_cst);  // publishes the three stores above
    if (sleepers_.load(std::memory_order_seq_cst) > 0) {
      std::lock_guard<std::mutex> lk(mu_);  // a sleeper is between its check and its wait, or in the wait
      cv_.notify_all();
    }
    in_worker = true;
    job(0);
    in_worker = false;
    auto finished = [this] { return pending_.load() == 0; };
    if (!spin_until(finished)) {
      std::unique_lock<std::mutex> lk(mu_);
      caller_sleeping_.store(true, std::memory_order_seq_cst);
      done_cv_.wait(lk, finished);
      caller_sleeping_.store(false, std::memory_order_relaxed);
    }
    job_.store(nullptr, std::memory_order_relaxed);
  }

  void loop(int index, uint64_t seen) {
    in_worker = true;
    for (;;) {
      // seq_cst loads: they pair with the seq_cst sleepers_/caller_sleeping_ flags (no lost wake-up).
      auto changed = [&] { return quit_.load() || generation_.load() != seen; };
      if (!spin_until(changed)) {
        std::unique_lock<std::mutex> lk(mu_);
        sleepers_.fetch_add(1, std::memory_order_seq_cst);
        cv_.wait(lk, changed);
        sleepers_.fetch_sub(1, std::memory_order_relaxed);
      }
      if (quit_.load(std::memory_order_acquire)) return;
      seen = generation_.load(std::memory_order_acquire);
      if (index < chunks_.load(std::memory_order_relaxed)) (*job_.load(std::memory_order_relaxed))(index);
      if (pending_.fetch_sub(1) == 1 && caller_sleeping_.load()) {
        std::lock_guard<std::mutex> lk(mu_);
        done_cv_.notify_one();
      }
    }
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      quit_.store(true);
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  int size_ = 1;
  std::vector<std::thread> workers_;
  std::mutex call_mu_, mu_;
  std::condition_variable cv_, done_cv_;
  std::atomic<const RunFn*> job_{nullptr};
  std::atomic<int> chunks_{0}, pending_{0}, sleepers_{0};
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> quit_{false}, caller_sleeping_{false};
};

// More threads than this is a typo, not a machine: refuse it rather than start a million.
constexpr int kMaxThreads = 1024;

// TESSERA_THREADS when set and not empty (a whole number from 1 to kMaxThreads, or an Error
// naming the variable: a typo must not silently fall back to every core), else the hardware
// count.
int default_threads() {
  const char* env = std::getenv("TESSERA_THREADS");
  if (env != nullptr && *env != '\0') {
    const std::string_view text(env);
    int n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || end != text.data() + text.size() || n < 1 || n > kMaxThreads)
      fail("TESSERA_THREADS is '{}': expected a whole number of threads from 1 to {}", text, kMaxThreads);
    return n;
  }
  return int(std::clamp(std::thread::hardware_concurrency(), 1u, unsigned(kMaxThreads)));
}

// The pool is made on first use, with `initial` threads when the first use is
// set_num_threads (so an explicit count never consults TESSERA_THREADS), else the default.
Pool& pool(int initial = 0) {
  static Pool p(initial > 0 ? initial : default_threads());
  return p;
}

}  // namespace

int num_threads() { return pool().size(); }

void set_num_threads(int n) {
  TESSERA_CHECK(n >= 1 && n <= kMaxThreads, "thread count must be from 1 to {}, got {}", kMaxThreads, n);
  Pool& p = pool(n);
  if (n != p.size()) p.resize(n);
}

void parallel_for_ref(int64_t n, RangeFn fn, int64_t grain) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  int64_t units = (n + grain - 1) / grain;
  int threads = in_worker ? 1 : int(std::min<int64_t>(pool().size(), units));
  if (threads <= 1) {
    fn(0, n);
    return;
  }
  int64_t per = (units + threads - 1) / threads;
  auto chunk = [&](int i) {
    int64_t b = std::min(n, int64_t(i) * per * grain);
    int64_t e = std::min(n, int64_t(i + 1) * per * grain);
    if (b < e) fn(b, e);
  };
  pool().run(threads, chunk);
}

}  // namespace tessera
