// WeightStore::random: every tensor exists and is made on first request, so any family can
// be instantiated at any size for benchmarks without a checkpoint on disk.
#include <functional>
#include <mutex>
#include <random>

#include "tessera/core/half.hpp"
#include "tessera/io/safetensors.hpp"

namespace tessera {

struct WeightStore::Random {
  DType dtype;
  uint64_t seed;
  std::mutex mu;
  std::map<std::string, Tensor> made;
};

WeightStore WeightStore::random(DType dtype, uint64_t seed) {
  TESSERA_CHECK(dtype == DType::F32 || dtype == DType::F16 || dtype == DType::BF16,
                "random weights: dtype must be F32, F16 or BF16, found {}", dtype_name(dtype));
  WeightStore s;
  s.source_ = fmt::format("random {} weights", dtype_name(dtype));
  s.random_ = std::make_shared<Random>();
  s.random_->dtype = dtype;
  s.random_->seed = seed;
  return s;
}

Tensor WeightStore::random_tensor(const std::string& name, const Shape& shape) const {
  std::lock_guard<std::mutex> lock(random_->mu);
  auto it = random_->made.find(name);
  if (it != random_->made.end()) {
    if (it->second.shape() != shape)
      fail("random weights: tensor '{}' requested as {} and as {}", name, shape_str(it->second.shape()), shape_str(shape));
    return it->second;
  }
  const bool vector = shape.size() == 1;
  const bool is_bias = name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0;
  const DType dt = vector ? DType::F32 : random_->dtype;
  Tensor t = Tensor::zeros(dt, shape);
  const int64_t n = t.numel();
  if (vector) {
    for (int64_t i = 0; i < n; ++i) t.data<float>()[i] = is_bias ? 0.0f : 1.0f;
  } else {
    std::mt19937_64 rng(random_->seed ^ std::hash<std::string>{}(name));
    std::normal_distribution<float> normal(0.0f, 0.02f);
    for (int64_t i = 0; i < n; ++i) {
      float v = normal(rng);
      if (dt == DType::F32) t.data<float>()[i] = v;
      else if (dt == DType::F16) t.data<uint16_t>()[i] = f32_to_f16(v);
      else t.data<uint16_t>()[i] = f32_to_bf16(v);
    }
  }
  random_->made[name] = t;
  return t;
}

size_t WeightStore::total_bytes() const {
  size_t total = 0;
  if (random_) {
    std::lock_guard<std::mutex> lock(random_->mu);
    for (const auto& [k, t] : random_->made) total += t.nbytes();
    return total;
  }
  for (const auto& n : names()) total += get(n).nbytes();
  return total;
}

int64_t WeightStore::total_parameters() const {
  int64_t total = 0;
  if (random_) {
    std::lock_guard<std::mutex> lock(random_->mu);
    for (const auto& [k, t] : random_->made) total += t.numel();
    return total;
  }
  for (const auto& n : names()) total += get(n).numel();
  return total;
}

}  // namespace tessera
