// BPE dropout's random source and the side interface through which the tokenizer hands it
// to the model. Model::tokenize (components.hpp) takes no random state, and a Tokenizer is
// shared between threads, so the generator lives with each encode call rather than in the
// model: the tokenizer seeds one per call and passes it down.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "components.hpp"

namespace tessera::text {

// splitmix64: tiny, fast, and good enough to decide whether to skip a merge; every stream is
// fully determined by its 64-bit state, which is what makes dropout reproducible.
class DropoutRng {
 public:
  explicit DropoutRng(uint64_t state) : state_(state) {}
  // The stream for call number `call` of a tokenizer seeded with `seed`: the two are mixed
  // so that neighbouring calls (and seeds) do not start from neighbouring states.
  static DropoutRng for_call(uint64_t seed, uint64_t call) {
    DropoutRng mix(seed ^ (call * 0xD1B54A32D192ED03ull));
    return DropoutRng(mix.next());
  }
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1) with 24 bits, the resolution of the f32 that tokenizers draws and
  // compares with the (f32) dropout probability.
  float uniform() { return static_cast<float>(next() >> 40) * 0x1.0p-24f; }

 private:
  uint64_t state_;
};

// Implemented by models whose output can be random (BPE with dropout in (0, 1]).
class StochasticModel {
 public:
  virtual ~StochasticModel() = default;
  // True when tokenize_random must be used: without it the model is deterministic.
  virtual bool is_stochastic() const = 0;
  virtual std::vector<Token> tokenize_random(std::string_view sequence, DropoutRng& rng) const = 0;
  virtual float dropout_probability() const = 0;
  virtual void set_dropout_probability(float p) = 0;  // 0 turns dropout off
};

}  // namespace tessera::text
