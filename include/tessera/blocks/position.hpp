// Position schemes: rotary embeddings (default, linear, dynamic NTK and llama3 scaling;
// partial rotary as GPT-NeoX and Phi), sinusoidal tables (Marian, Whisper), ALiBi slopes
// (BLOOM, Falcon; the attention kernel adds them to the scores) and absolute positions added
// to the input (PositionInput: a learned Embedding or a computed table). T5's relative bias
// lives in attention.hpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "tessera/blocks/embedding.hpp"
#include "tessera/core/error.hpp"

namespace tessera {

struct RopeSpec {
  enum class Type { Default, Linear, Dynamic, Llama3, Yarn, LongRope };
  Type type = Type::Default;
  double theta = 10000.0;
  int64_t rotary_dim = 0;  // dims rotated per head (head_dim × partial_rotary_factor)
  double factor = 1.0;     // linear / dynamic / llama3
  double low_freq_factor = 1.0, high_freq_factor = 4.0;  // llama3
  int64_t original_max_positions = 0;                    // llama3, dynamic, yarn, longrope
  double attention_factor = 1.0;                         // yarn, longrope: multiplies cos and sin
  double beta_fast = 32, beta_slow = 1;                  // yarn correction range
  bool truncate = true;                                  // yarn: floor/ceil the correction range
  // GGUF's rope_freqs tensor (llama.cpp's form of llama3 scaling): frequency i is divided by
  // freq_factors[i]. Empty: none.
  std::vector<float> freq_factors;
  // LongRoPE (Phi-3): frequency i is divided by short_factor[i] while a call's positions stay
  // within original_max_positions, by long_factor[i] past it.
  std::vector<float> short_factor, long_factor;
};

// ALiBi's per-head slopes (Press et al.; Hugging Face's build_alibi_tensor): with p the largest
// power of two <= heads, head i < p gets 2^(-8/p · (i + 1)); the remaining heads take every
// other slope of the 2p-head sequence, 2^(-4/p · (2j + 1)).
inline std::vector<float> alibi_slopes(int64_t heads) {
  TESSERA_CHECK(heads > 0, "ALiBi: the number of heads must be positive, found {}", heads);
  int64_t p = 1;
  while (p * 2 <= heads) p *= 2;
  // Hugging Face: base = 2^(-(2^-(log2 p - 3))) in float32, raised to integer powers in float32.
  const float base = float(std::pow(2.0, -std::pow(2.0, -(std::log2(double(p)) - 3.0))));
  const float extra = float(std::pow(2.0, -std::pow(2.0, -(std::log2(double(2 * p)) - 3.0))));
  std::vector<float> slopes;
  for (int64_t i = 1; i <= p; ++i) slopes.push_back(float(std::pow(double(base), double(i))));
  for (int64_t j = 0; j < std::min(p, heads - p); ++j) slopes.push_back(float(std::pow(double(extra), double(2 * j + 1))));
  return slopes;
}

class Rope {
 public:
  Rope() = default;
  explicit Rope(const RopeSpec& spec) : spec_(spec) {
    TESSERA_CHECK(spec.rotary_dim > 0 && spec.rotary_dim % 2 == 0, "rotary dimension must be even and positive, found {}",
                  spec.rotary_dim);
    TESSERA_CHECK(spec.freq_factors.empty() || int64_t(spec.freq_factors.size()) == spec.rotary_dim / 2,
                  "rope frequency factors: expected {} (rotary dimension / 2), found {}", spec.rotary_dim / 2,
                  spec.freq_factors.size());
    const size_t half = size_t(spec.rotary_dim / 2);
    TESSERA_CHECK(spec.type != RopeSpec::Type::LongRope || (spec.short_factor.size() == half && spec.long_factor.size() == half),
                  "longrope: short and long factors must hold {} numbers (rotary dimension / 2), found {} and {}", half,
                  spec.short_factor.size(), spec.long_factor.size());
    inv_freq_ = inverse_frequencies(spec.theta);
    if (spec.type == RopeSpec::Type::LongRope) long_inv_freq_ = inverse_frequencies(spec.theta, true, &spec.long_factor);
  }

  bool enabled() const { return spec_.rotary_dim > 0; }
  int64_t rotary_dim() const { return spec_.rotary_dim; }

  // The frequencies to use for a forward call whose largest position is max_pos. Only
  // dynamic NTK scaling and LongRoPE depend on it (Hugging Face recomputes per call the same way).
  const std::vector<float>& frequencies(int64_t max_pos, std::vector<float>& scratch) const {
    if (spec_.type == RopeSpec::Type::LongRope)
      return max_pos + 1 > spec_.original_max_positions ? long_inv_freq_ : inv_freq_;
    if (spec_.type != RopeSpec::Type::Dynamic || max_pos + 1 <= spec_.original_max_positions) return inv_freq_;
    double seq = double(max_pos + 1), d = double(spec_.rotary_dim);
    double base = spec_.theta * std::pow(spec_.factor * seq / double(spec_.original_max_positions) - (spec_.factor - 1),
                                         d / (d - 2));
    scratch = inverse_frequencies(base, /*scaled=*/false);
    return scratch;
  }

  // Rotate the first rotary_dim features of `heads` head vectors (v, v + stride, ...) at
  // position `pos`, in the rotate_half layout (pairs (i, i + rotary_dim/2)), as Hugging
  // Face's apply_rotary_pos_emb. cos/sin are computed once per position for all the heads
  // (they were 1.3% of a prefill, recomputed per head), in stack chunks: no allocation.
  void apply(float* v, int64_t heads, int64_t stride, int64_t pos, const std::vector<float>& freqs) const {
    constexpr int64_t kChunk = 64;
    const int64_t half = spec_.rotary_dim / 2;
    float cs[kChunk], sn[kChunk];
    for (int64_t i0 = 0; i0 < half; i0 += kChunk) {
      const int64_t n = std::min(kChunk, half - i0);
      for (int64_t i = 0; i < n; ++i) {
        const float angle = float(pos) * freqs[size_t(i0 + i)];  // f32 product, as torch computes it
        cs[i] = std::cos(angle);
        sn[i] = std::sin(angle);
        if (spec_.attention_factor != 1.0) {
          cs[i] *= float(spec_.attention_factor);
          sn[i] *= float(spec_.attention_factor);
        }
      }
      for (int64_t h = 0; h < heads; ++h) {
        float* x = v + h * stride + i0;
        for (int64_t i = 0; i < n; ++i) {
          const float a = x[i], b = x[i + half];
          x[i] = a * cs[i] - b * sn[i];
          x[i + half] = b * cs[i] + a * sn[i];
        }
      }
    }
  }

 private:
  // `longrope`: the factors dividing each frequency (the short ones unless given).
  std::vector<float> inverse_frequencies(double base, bool scaled = true, const std::vector<float>* longrope = nullptr) const {
    const int64_t half = spec_.rotary_dim / 2;
    std::vector<float> f(static_cast<size_t>(half));
    if (scaled && spec_.type == RopeSpec::Type::LongRope) {
      // 1 / (factor · base^(2i/d)), each step in f32 as transformers computes it.
      const std::vector<float>& ext = longrope ? *longrope : spec_.short_factor;
      for (int64_t i = 0; i < half; ++i)
        f[size_t(i)] = 1.0f / (ext[size_t(i)] * float(std::pow(base, double(float(2 * i) / float(spec_.rotary_dim)))));
      return f;
    }
    for (int64_t i = 0; i < half; ++i) {
      float exponent = float(2 * i) / float(spec_.rotary_dim);
      f[size_t(i)] = float(1.0 / std::pow(base, double(exponent)));
      if (!spec_.freq_factors.empty()) f[size_t(i)] /= spec_.freq_factors[size_t(i)];
    }
    if (!scaled) return f;
    if (spec_.type == RopeSpec::Type::Yarn) {
      // Blend interpolated (÷ factor) and original frequencies with a linear ramp over the
      // dimensions between the beta_fast and beta_slow rotation counts.
      const double d = double(spec_.rotary_dim), old_ctx = double(spec_.original_max_positions);
      auto corr_dim = [&](double rotations) { return d * std::log(old_ctx / (rotations * 2 * M_PI)) / (2 * std::log(base)); };
      double low = corr_dim(spec_.beta_fast), high = corr_dim(spec_.beta_slow);
      if (spec_.truncate) {
        low = std::floor(low);
        high = std::ceil(high);
      }
      low = std::max(low, 0.0);
      high = std::min(high, d - 1);
      if (low == high) high += 0.001;
      for (int64_t i = 0; i < half; ++i) {
        float ramp = std::clamp(float((float(i) - float(low)) / float(high - low)), 0.0f, 1.0f);
        float extrapolation = 1.0f - ramp;
        float pos_freq = float(std::pow(base, double(float(2 * i) / float(spec_.rotary_dim))));
        float inter = 1.0f / (float(spec_.factor) * pos_freq), extra = 1.0f / pos_freq;
        f[size_t(i)] = inter * (1 - extrapolation) + extra * extrapolation;
      }
    } else if (spec_.type == RopeSpec::Type::Linear) {
      for (float& x : f) x = float(x / spec_.factor);
    } else if (spec_.type == RopeSpec::Type::Llama3) {
      const double old_ctx = double(spec_.original_max_positions);
      const double low_wavelen = old_ctx / spec_.low_freq_factor, high_wavelen = old_ctx / spec_.high_freq_factor;
      for (float& x : f) {
        double inv = x, wavelen = 2 * M_PI / inv;
        double scaled_inv = wavelen > low_wavelen ? inv / spec_.factor : inv;
        if (!(wavelen < high_wavelen) && !(wavelen > low_wavelen)) {
          double smooth = (old_ctx / wavelen - spec_.low_freq_factor) / (spec_.high_freq_factor - spec_.low_freq_factor);
          scaled_inv = (1 - smooth) * scaled_inv / spec_.factor + smooth * scaled_inv;
        }
        x = float(scaled_inv);
      }
    }
    return f;
  }

  RopeSpec spec_;
  std::vector<float> inv_freq_, long_inv_freq_;
};

// Sinusoidal position table [positions, dim]. Marian/Whisper write sin in the first half
// and cos in the second; `log_timescale_denominator` is half-1 (Whisper) or half (Marian).
inline std::vector<float> sinusoidal_table(int64_t positions, int64_t dim, bool sin_first = true) {
  std::vector<float> t(static_cast<size_t>(positions * dim));
  const int64_t half = dim / 2;
  for (int64_t p = 0; p < positions; ++p)
    for (int64_t i = 0; i < half; ++i) {
      double angle = double(p) / std::pow(10000.0, 2.0 * double(i) / double(dim));
      t[size_t(p * dim + i)] = float(sin_first ? std::sin(angle) : std::cos(angle));
      t[size_t(p * dim + half + i)] = float(sin_first ? std::cos(angle) : std::sin(angle));
    }
  return t;
}

// How a stack adds absolute positions to its input embeddings.
struct PositionInput {
  enum class Kind { None, Learned, Table };
  Kind kind = Kind::None;
  Embedding learned;         // Learned: row (position + offset)
  int64_t offset = 0;        // BART's and OPT's learned positions start at row 2
  std::vector<float> table;  // Table: [table_rows, dim] computed at load (Marian's sinusoids)
  int64_t table_rows = 0, dim = 0;

  static PositionInput from_embedding(Embedding e, int64_t offset = 0) {
    PositionInput p;
    p.kind = Kind::Learned;
    p.learned = std::move(e);
    p.offset = offset;
    return p;
  }
  static PositionInput from_table(std::vector<float> table, int64_t rows, int64_t dim) {
    TESSERA_CHECK(rows >= 0 && dim > 0 && int64_t(table.size()) == rows * dim,
                  "position table: {} values for {} rows of {}", table.size(), rows, dim);
    PositionInput p;
    p.kind = Kind::Table;
    p.table = std::move(table);
    p.table_rows = rows;
    p.dim = dim;
    return p;
  }

  // Positions this input can describe; 0 = unlimited (none, or relative positions).
  int64_t limit() const {
    if (kind == Kind::Learned) return learned.rows() - offset;
    if (kind == Kind::Table) return table_rows;
    return 0;
  }
  // x[dim] += position embedding of `pos`; a position past limit() is an Error.
  void add(int64_t pos, float* x) const {
    if (kind == Kind::None) return;
    if (pos < 0 || pos >= limit()) fail("position {} is outside the {} positions the model has", pos, limit());
    if (kind == Kind::Learned) learned.lookup(pos + offset, x, 1.0f, /*accumulate=*/true);
    if (kind == Kind::Table)
      for (int64_t i = 0; i < dim; ++i) x[i] += table[size_t(pos * dim + i)];
  }
};

}  // namespace tessera
