// The server's scheduler: a fixed set of slots, each with its own Session of one shared Model,
// handed out first come, first served, with a bounded queue of waiting requests. A request
// that finds the queue full is refused at once (the server answers 503), and a waiting
// request whose client went away leaves the queue without ever taking a slot.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <variant>
#include <vector>

#include "tessera/models/model.hpp"

namespace tessera {

class SlotPool {
 public:
  // `slots` sessions made with `options` (decoders and encoder-decoders; encoders keep no
  // session: their slots only bound how many requests run at once). `max_queue` requests
  // may wait for a slot beyond those running.
  SlotPool(const Model& model, int slots, int max_queue, const SessionOptions& options);

  // A slot held by one request; returned to the pool (session reset) when destroyed.
  class Lease {
   public:
    Lease(Lease&& other) noexcept : pool_(other.pool_), slot_(other.slot_) { other.pool_ = nullptr; }
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    Session& session() const { return *pool_->sessions_[size_t(slot_)]; }
    int slot() const { return slot_; }

   private:
    friend class SlotPool;
    Lease(SlotPool* pool, int slot) : pool_(pool), slot_(slot) {}
    SlotPool* pool_;
    int slot_;
  };

  enum class Refusal { QueueFull, Cancelled };
  // Waits for a free slot in arrival order. `cancelled` is polled while waiting (every
  // `poll_ms`); returns the reason instead of a lease when the queue is full or the caller
  // cancelled.
  std::variant<Lease, Refusal> acquire(const std::function<bool()>& cancelled = {}, int poll_ms = 50);

  int slots() const { return int(sessions_.size()); }
  int busy() const;
  int waiting() const;
  // Capacity (positions) of each slot's session; 0 for encoders.
  int64_t capacity() const { return capacity_; }

 private:
  void release(int slot);
  std::vector<std::unique_ptr<Session>> sessions_;  // one per slot (null for encoders)
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<int> free_;
  std::list<uint64_t> queue_;  // tickets of the waiting requests, oldest first
  uint64_t next_ticket_ = 0;
  int max_queue_;
  int64_t capacity_ = 0;
};

}  // namespace tessera
