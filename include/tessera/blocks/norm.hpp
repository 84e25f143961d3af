// Normalisation over the feature axis: LayerNorm (with or without bias, with or without a
// scale) and RMSNorm (also T5's LayerNorm; Gemma's (1 + w) variant is folded into the scale
// by whoever builds the Norm).
#pragma once

#include <vector>

#include "tessera/core/error.hpp"
#include "tessera/core/parallel.hpp"
#include "tessera/kernels/kernels.hpp"

namespace tessera {

enum class NormKind { LayerNorm, RMSNorm };

class Norm {
 public:
  Norm() = default;
  // A norm over n features. `weight` (n values) scales and `bias` (n values, LayerNorm only)
  // shifts the result; either may be empty (none: DiT's elementwise_affine=False).
  Norm(NormKind kind, int64_t n, float eps, std::vector<float> weight = {}, std::vector<float> bias = {})
      : kind_(kind), eps_(eps), n_(n), w_(std::move(weight)), b_(std::move(bias)) {
    TESSERA_CHECK(n > 0, "Norm: the feature count must be positive, found {}", n);
    TESSERA_CHECK(eps >= 0, "Norm: epsilon must not be negative, found {}", eps);
    TESSERA_CHECK(w_.empty() || int64_t(w_.size()) == n, "Norm: {} scale values for {} features", w_.size(), n);
    TESSERA_CHECK(b_.empty() || int64_t(b_.size()) == n, "Norm: {} bias values for {} features", b_.size(), n);
    TESSERA_CHECK(b_.empty() || kind == NormKind::LayerNorm, "Norm: an RMSNorm has no bias");
  }

  NormKind kind() const { return kind_; }
  int64_t size() const { return n_; }
  // A default-constructed Norm is "no norm".
  bool enabled() const { return n_ > 0; }

  // Normalise m rows of n_ features; x and y may alias. A prompt's rows are split between
  // threads (16 or more rows per share; a decoded token's one row stays on the caller).
  void forward(const float* x, float* y, int64_t m) const {
    const float* w = w_.empty() ? nullptr : w_.data();
    const float* b = b_.empty() ? nullptr : b_.data();
    parallel_for(m, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        if (kind_ == NormKind::RMSNorm)
          kernels::rms_norm(x + r * n_, w, y + r * n_, n_, eps_);
        else
          kernels::layer_norm(x + r * n_, w, b, y + r * n_, n_, eps_);
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
