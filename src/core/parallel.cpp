// The thread pool behind parallel_for: persistent workers woken per call, the caller
// takes chunk 0 itself. Chunking is static so results never depend on scheduling.
#include "tessera/core/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "tessera/core/error.hpp"

namespace tessera {
namespace {

thread_local bool in_worker = false;

class Pool {
 public:
  explicit Pool(int n) { resize(n); }
  ~Pool() { stop(); }

  int size() const { return size_; }

  void resize(int n) {
    stop();
    size_ = std::max(1, n);
    quit_ = false;
    // New workers must not mistake the last finished call for a new one.
    const uint64_t current = generation_;
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
    {
      std::lock_guard<std::mutex> lk(mu_);
      job_ = &job;
      chunks_ = chunks;
      pending_ = chunks - 1;
      ++generation_;
    }
    cv_.notify_all();
    in_worker = true;
    job(0);
    in_worker = false;
    std::unique_lock<std::mutex> lk(mu_);
    done_cv_.wait(lk, [this] { return pending_ == 0; });
    job_ = nullptr;
  }

  void loop(int index, uint64_t seen) {
    in_worker = true;
    for (;;) {
      const RunFn* job;
      {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return quit_ || generation_ != seen; });
        if (quit_) return;
        seen = generation_;
        if (index >= chunks_) continue;
        job = job_;
      }
      (*job)(index);
      std::lock_guard<std::mutex> lk(mu_);
      if (--pending_ == 0) done_cv_.notify_one();
    }
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  int size_ = 1;
  std::vector<std::thread> workers_;
  std::mutex call_mu_, mu_;
  std::condition_variable cv_, done_cv_;
  const RunFn* job_ = nullptr;
  int chunks_ = 0, pending_ = 0;
  uint64_t generation_ = 0;
  bool quit_ = false;
};

int default_threads() {
  if (const char* env = std::getenv("TESSERA_THREADS")) {
    int n = std::atoi(env);
    if (n >= 1) return n;
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

Pool& pool() {
  static Pool p(default_threads());
  return p;
}

}  // namespace

int num_threads() { return pool().size(); }

void set_num_threads(int n) {
  TESSERA_CHECK(n >= 1, "thread count must be at least 1, got {}", n);
  if (n != pool().size()) pool().resize(n);
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
