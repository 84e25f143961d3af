// Per-layer key/value storage of one sequence: rows [position, kv_heads × head_dim] for
// keys and values. Grows geometrically up to a hard capacity; writing past it is an Error.
#pragma once

#include <cstdint>
#include <vector>

#include "tessera/core/error.hpp"

namespace tessera {

class KvCache {
 public:
  KvCache() = default;
  KvCache(int64_t width, int64_t capacity) : width_(width), capacity_(capacity) {}

  int64_t width() const { return width_; }
  int64_t length() const { return len_; }
  int64_t capacity() const { return capacity_; }
  // Positions storage is allocated for (grows with reserve/append).
  int64_t reserved() const { return width_ == 0 ? 0 : int64_t(k_.size()) / width_; }
  void clear() { len_ = 0; }
  // Pre-size storage for n positions (so decoding does not allocate).
  void reserve(int64_t n) {
    if (n > capacity_) n = capacity_;
    if (size_t(n * width_) > k_.size()) {
      k_.resize(size_t(n * width_));
      v_.resize(size_t(n * width_));
    }
  }

  // Room for `n` more positions; returns the first new row. Error when the context is full.
  int64_t append(int64_t n) {
    if (len_ + n > capacity_)
      fail("context is full: {} positions cached, {} more requested, the limit is {}", len_, n, capacity_);
    if (size_t((len_ + n) * width_) > k_.size()) reserve(std::max<int64_t>(len_ + n, 2 * len_ + 16));
    int64_t first = len_;
    len_ += n;
    return first;
  }
  // Forget everything from position `n` on (keeps storage).
  void truncate(int64_t n) { len_ = std::min(len_, n); }

  float* key(int64_t pos) { return k_.data() + pos * width_; }
  float* value(int64_t pos) { return v_.data() + pos * width_; }
  const float* key(int64_t pos) const { return k_.data() + pos * width_; }
  const float* value(int64_t pos) const { return v_.data() + pos * width_; }

 private:
  int64_t width_ = 0, capacity_ = 0, len_ = 0;
  std::vector<float> k_, v_;
};

}  // namespace tessera
