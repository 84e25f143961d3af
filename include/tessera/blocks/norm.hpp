// Normalisation over the feature axis: LayerNorm (with or without bias) and RMSNorm
// (also T5's LayerNorm, and Gemma's (1 + w) variant, folded into the scale at load).
#pragma once

#include <string>
#include <vector>

#include "tessera/blocks/linear.hpp"
#include "tessera/core/parallel.hpp"

namespace tessera {

enum class NormKind { LayerNorm, RMSNorm };

class Norm {
 public:
  Norm() = default;

  // "<prefix>.weight" (+ "<prefix>.bias" for LayerNorm when `bias`).
  static Norm load(const WeightStore& store, const std::string& prefix, NormKind kind, int64_t n, float eps,
                   bool bias = true, bool plus_one = false) {
    Norm norm;
    norm.kind_ = kind;
    norm.eps_ = eps;
    norm.n_ = n;
    norm.w_ = load_vector(store, prefix + ".weight", n);
    if (plus_one)
      for (float& w : norm.w_) w = 1.0f + w;
    if (kind == NormKind::LayerNorm && bias) norm.b_ = load_vector(store, prefix + ".bias", n);
    return norm;
  }

  int64_t size() const { return n_; }
  // A default-constructed Norm is "no norm" (a layer without pre-norms: OLMo 2).
  bool enabled() const { return n_ > 0; }

  // Normalise m rows of n_ features; x and y may alias. A prompt's rows are split between
  // threads (16 or more rows per share; a decoded token's one row stays on the caller).
  void forward(const float* x, float* y, int64_t m) const {
    parallel_for(m, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        if (kind_ == NormKind::RMSNorm)
          kernels::rms_norm(x + r * n_, w_.data(), y + r * n_, n_, eps_);
        else
          kernels::layer_norm(x + r * n_, w_.data(), b_.empty() ? nullptr : b_.data(), y + r * n_, n_, eps_);
      }
    }, 16);
  }

 private:
  NormKind kind_ = NormKind::RMSNorm;
  float eps_ = 1e-5f;
  int64_t n_ = 0;
  std::vector<float> w_, b_;
};

}  // namespace tessera
