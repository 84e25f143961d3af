// Tensor: a dtype and a row-major shape over bytes that are either owned (64-byte aligned)
// or borrowed from something kept alive by a shared handle (e.g. an mmapped file).
// Weights stay in the file's dtype; the f32 math reads them through the kernels.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "tessera/core/dtype.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/half.hpp"

namespace tessera {

using Shape = std::vector<int64_t>;

inline std::string shape_str(const Shape& s) { return fmt::format("[{}]", fmt::join(s, ", ")); }

// Number of elements, or an Error if the product overflows int64 (hostile headers).
inline int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) {
    TESSERA_CHECK(d >= 0, "negative dimension in shape {}", shape_str(s));
    if (d != 0 && n > INT64_MAX / d) fail("shape {} has more elements than fit in 64 bits", shape_str(s));
    n *= d;
  }
  return n;
}

struct AlignedFree {
  void operator()(void* p) const { std::free(p); }
};

class Tensor {
 public:
  Tensor() = default;

  // Owned, zero-filled storage.
  static Tensor zeros(DType dtype, Shape shape) {
    Tensor t;
    t.dtype_ = dtype;
    t.shape_ = std::move(shape);
    size_t bytes = t.nbytes();
    size_t rounded = (bytes + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
    if (!p) fail("out of memory allocating {} bytes for a tensor of shape {}", bytes, shape_str(t.shape_));
    std::memset(p, 0, rounded == 0 ? 64 : rounded);
    t.owner_ = std::shared_ptr<void>(p, AlignedFree{});
    t.data_ = p;
    return t;
  }

  // A view of bytes someone else owns; `keepalive` holds them (may be null for caller-managed).
  static Tensor borrow(DType dtype, Shape shape, const void* data, std::shared_ptr<const void> keepalive) {
    Tensor t;
    t.dtype_ = dtype;
    t.shape_ = std::move(shape);
    t.data_ = const_cast<void*>(data);
    t.owner_ = std::const_pointer_cast<void>(std::move(keepalive));
    return t;
  }

  static Tensor from_f32(Shape shape, const std::vector<float>& values) {
    Tensor t = zeros(DType::F32, std::move(shape));
    TESSERA_CHECK(size_t(t.numel()) == values.size(), "from_f32: {} values for shape {}", values.size(),
                  shape_str(t.shape_));
    std::memcpy(t.data_, values.data(), values.size() * 4);
    return t;
  }

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int rank() const { return int(shape_.size()); }
  int64_t dim(int i) const { return shape_.at(i < 0 ? shape_.size() + i : size_t(i)); }
  int64_t numel() const { return shape_numel(shape_); }
  size_t nbytes() const { return dtype_bytes(dtype_, numel()); }
  bool empty() const { return data_ == nullptr; }

  const void* raw() const { return data_; }
  // What keeps the bytes alive (the owned buffer or the borrowed mapping), for views that
  // outlive this Tensor object.
  std::shared_ptr<const void> keepalive() const { return owner_; }
  void* raw() { return data_; }
  template <typename T> T* data() { return static_cast<T*>(data_); }
  template <typename T> const T* data() const { return static_cast<const T*>(data_); }

  // Same bytes, another shape with the same number of elements.
  Tensor reshaped(Shape shape) const {
    TESSERA_CHECK(shape_numel(shape) == numel(), "cannot reshape {} to {}", shape_str(shape_), shape_str(shape));
    Tensor t = *this;
    t.shape_ = std::move(shape);
    return t;
  }

  // A new owned [c, r] copy of this [r, c] matrix, same dtype (not for block-quantized
  // types, whose rows cannot be split).
  Tensor transposed() const {
    TESSERA_CHECK(rank() == 2 && !is_quantized(dtype_), "cannot transpose a {} tensor of shape {}", dtype_name(dtype_),
                  shape_str(shape_));
    const int64_t r = dim(0), c = dim(1);
    const size_t es = dtype_size(dtype_);
    Tensor t = zeros(dtype_, {c, r});
    const auto* src = static_cast<const unsigned char*>(data_);
    auto* dst = static_cast<unsigned char*>(t.data_);
    for (int64_t i = 0; i < r; ++i)
      for (int64_t j = 0; j < c; ++j) std::memcpy(dst + size_t(j * r + i) * es, src + size_t(i * c + j) * es, es);
    return t;
  }

  // Element i as float, whatever the float dtype (slow path for tests and tools).
  float get_f32(int64_t i) const {
    switch (dtype_) {
      case DType::F32: return data<float>()[i];
      case DType::F16: return f16_to_f32(data<uint16_t>()[i]);
      case DType::BF16: return bf16_to_f32(data<uint16_t>()[i]);
      case DType::F64: return float(data<double>()[i]);
      case DType::I64: return float(data<int64_t>()[i]);
      case DType::I32: return float(data<int32_t>()[i]);
      default: fail("get_f32: unsupported dtype {}", dtype_name(dtype_));
    }
  }

  // A new owned f32 copy (or this tensor itself when it already is f32).
  Tensor to_f32() const {
    if (dtype_ == DType::F32) return *this;
    Tensor t = zeros(DType::F32, shape_);
    float* out = t.data<float>();
    int64_t n = numel();
    if (dtype_ == DType::BF16) {
      for (int64_t i = 0; i < n; ++i) out[i] = bf16_to_f32(data<uint16_t>()[i]);
    } else if (dtype_ == DType::F16) {
      for (int64_t i = 0; i < n; ++i) out[i] = f16_to_f32(data<uint16_t>()[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) out[i] = get_f32(i);
    }
    return t;
  }

  // Integer tensors (ids, masks) as int64, whatever integer dtype the file used.
  std::vector<int64_t> to_i64() const {
    std::vector<int64_t> v(static_cast<size_t>(numel()));
    for (size_t i = 0; i < v.size(); ++i) {
      switch (dtype_) {
        case DType::I64: v[i] = data<int64_t>()[i]; break;
        case DType::I32: v[i] = data<int32_t>()[i]; break;
        case DType::I16: v[i] = data<int16_t>()[i]; break;
        case DType::I8: v[i] = data<int8_t>()[i]; break;
        case DType::U8: case DType::Bool: v[i] = data<uint8_t>()[i]; break;
        default: fail("expected an integer tensor, found dtype {}", dtype_name(dtype_));
      }
    }
    return v;
  }

 private:
  DType dtype_ = DType::F32;
  Shape shape_;
  void* data_ = nullptr;
  std::shared_ptr<void> owner_;
};

}  // namespace tessera
