// WAV reader: any bytes give audio (finite samples) or an Error.
#include <cmath>
#include <span>

#include "tessera/audio/wav.hpp"
#include "tessera/core/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto a = tessera::parse_wav(std::span<const uint8_t>(data, size), "fuzz.wav");
    if (a.samples.size() > size) __builtin_trap();  // never more samples than bytes
    for (float s : a.samples)
      if (!std::isfinite(s)) __builtin_trap();
  } catch (const tessera::Error&) {
  }
  return 0;
}
