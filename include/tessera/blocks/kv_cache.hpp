// Per-layer key/value storage of one sequence: one row per position of kv_heads heads of
// head_dim values, in the cache's dtype (F32, F16, BF16 or Q8_0; kernels::kv_head_bytes gives
// a head's bytes). Keys and values arrive as f32 and are converted once, when appended;
// kernels::attention reads the dtype directly. Grows geometrically up to a hard capacity;
// writing past it is an Error.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "tessera/core/error.hpp"
#include "tessera/kernels/kernels.hpp"
#include "tessera/kernels/quant.hpp"

namespace tessera {

class KvCache {
 public:
  KvCache() = default;
  KvCache(int64_t kv_heads, int64_t head_dim, int64_t capacity, DType type = DType::F32)
      : heads_(kv_heads), head_dim_(head_dim), capacity_(capacity), type_(type) {
    if (!kernels::is_kv_type(type))
      fail("KV cache: dtype {} is not supported (f32, f16, bf16, q8_0)", dtype_name(type));
    if (kv_heads < 0 || head_dim < 0) fail("KV cache: {} heads of {} values", kv_heads, head_dim);
    row_bytes_ = kv_heads * kernels::kv_head_bytes(type, head_dim);
  }

  int64_t kv_heads() const { return heads_; }
  int64_t head_dim() const { return head_dim_; }
  // f32 values a position holds (keys or values).
  int64_t width() const { return heads_ * head_dim_; }
  DType dtype() const { return type_; }
  // Bytes from one position's keys (or values) to the next.
  int64_t row_bytes() const { return row_bytes_; }
  int64_t length() const { return len_; }
  int64_t capacity() const { return capacity_; }
  // Positions storage is allocated for (grows with reserve/append).
  int64_t reserved() const { return row_bytes_ == 0 ? 0 : int64_t(k_.size()) / row_bytes_; }
  void clear() { len_ = 0; }
  // Pre-size storage for n positions (so decoding does not allocate).
  void reserve(int64_t n) {
    if (n > capacity_) n = capacity_;
    if (size_t(n * row_bytes_) > k_.size()) {
      k_.resize(size_t(n * row_bytes_));
      v_.resize(size_t(n * row_bytes_));
    }
  }

  // Room for `n` more positions; returns the first new row. Error when the context is full.
  int64_t append(int64_t n) {
    if (len_ + n > capacity_)
      fail("context is full: {} positions cached, {} more requested, the limit is {}", len_, n, capacity_);
    if (size_t((len_ + n) * row_bytes_) > k_.size()) reserve(std::max<int64_t>(len_ + n, 2 * len_ + 16));
    int64_t first = len_;
    len_ += n;
    return first;
  }
  // Forget everything from position `n` on (keeps storage).
  void truncate(int64_t n) { len_ = std::min(len_, n); }

  // Stores n positions from `first` on (already appended): keys k and values v, f32 rows of
  // width() values `ld` floats apart (either may be null), converted to the cache's dtype
  // (f16/bf16 round to nearest even; Q8_0 with ggml's reference quantizer, each head its own
  // blocks, the last one zero-padded).
  void write(int64_t first, int64_t n, const float* k, const float* v, int64_t ld) {
    TESSERA_CHECK(first >= 0 && first + n <= len_, "KV cache: rows [{}, {}) written but {} appended", first, first + n, len_);
    for (int64_t i = 0; i < n; ++i) {
      if (k) write_row(k_.data() + (first + i) * row_bytes_, k + i * ld);
      if (v) write_row(v_.data() + (first + i) * row_bytes_, v + i * ld);
    }
  }

  // Raw rows (row_bytes() apart), for kernels::attention.
  const void* key_data() const { return k_.data(); }
  const void* value_data() const { return v_.data(); }

 private:
  void write_row(unsigned char* dst, const float* src) const {
    const int64_t hb = kernels::kv_head_bytes(type_, head_dim_);
    if (type_ == DType::F32) {
      std::memcpy(dst, src, size_t(heads_ * head_dim_) * sizeof(float));
      return;
    }
    for (int64_t h = 0; h < heads_; ++h) {
      const float* s = src + h * head_dim_;
      unsigned char* d = dst + h * hb;
      if (type_ != DType::Q8_0) {
        kernels::quantize_row(type_, s, d, head_dim_);
        continue;
      }
      const int64_t whole = head_dim_ / 32 * 32;
      if (whole > 0) kernels::quantize_row(DType::Q8_0, s, d, whole);
      if (whole < head_dim_) {  // the last block, zero-padded
        float tail[32] = {};
        std::memcpy(tail, s + whole, size_t(head_dim_ - whole) * sizeof(float));
        kernels::quantize_row(DType::Q8_0, tail, d + whole / 32 * 34, 32);
      }
    }
  }

  int64_t heads_ = 0, head_dim_ = 0, capacity_ = 0, len_ = 0, row_bytes_ = 0;
  DType type_ = DType::F32;
  std::vector<unsigned char> k_, v_;
};

}  // namespace tessera
