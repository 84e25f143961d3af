#include "tessera/serving/slot_pool.hpp"

#include <algorithm>
#include <chrono>

namespace tessera {

SlotPool::SlotPool(const Model& model, int slots, int max_queue, const SessionOptions& options) : max_queue_(max_queue) {
  TESSERA_CHECK(slots >= 1, "the server needs at least one slot (--parallel), found {}", slots);
  TESSERA_CHECK(max_queue >= 0, "the queue limit must be >= 0, found {}", max_queue);
  for (int i = 0; i < slots; ++i) {
    if (model.info().kind == ModelKind::Encoder) sessions_.push_back(nullptr);
    else {
      sessions_.push_back(model.new_session(options));
      capacity_ = sessions_.back()->capacity();
    }
    free_.push_back(slots - 1 - i);  // slot 0 is handed out first
  }
}

SlotPool::Lease::~Lease() {
  if (pool_) pool_->release(slot_);
}

void SlotPool::release(int slot) {
  if (Session* s = sessions_[size_t(slot)].get()) s->reset();
  {
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(slot);
  }
  cv_.notify_all();
}

std::variant<SlotPool::Lease, SlotPool::Refusal> SlotPool::acquire(const std::function<bool()>& cancelled, int poll_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  if (queue_.empty() && !free_.empty()) {
    const int slot = free_.back();
    free_.pop_back();
    return Lease(this, slot);
  }
  if (int(queue_.size()) >= max_queue_) return Refusal::QueueFull;
  const uint64_t ticket = next_ticket_++;
  auto me = queue_.insert(queue_.end(), ticket);
  while (true) {
    if (cancelled && cancelled()) {
      queue_.erase(me);
      lock.unlock();
      cv_.notify_all();  // the next in line may be at the front now
      return Refusal::Cancelled;
    }
    if (queue_.begin() == me && !free_.empty()) {
      const int slot = free_.back();
      free_.pop_back();
      queue_.erase(me);
      lock.unlock();
      cv_.notify_all();
      return Lease(this, slot);
    }
    cv_.wait_for(lock, std::chrono::milliseconds(poll_ms));
  }
}

int SlotPool::busy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return int(sessions_.size() - free_.size());
}

int SlotPool::waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return int(queue_.size());
}

}  // namespace tessera
