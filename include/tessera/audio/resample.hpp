// Sample-rate conversion for speech models: any WAV rate to the model's (Whisper: 16 kHz).
// Done by libsoxr at its "HQ" recipe (20-bit precision, linear phase, passband to 91.3% of the
// lower Nyquist), the resampler librosa uses by default; a tone below the new Nyquist keeps its
// amplitude and phase, one above it is filtered out instead of aliasing.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace tessera {

// Mono samples at `from_rate` Hz → round(n · to_rate / from_rate) samples at `to_rate` Hz, the
// filter's delay compensated (sample i of the output is at time i / to_rate, as in the input).
// Equal rates return a copy. Rates must be in [1, 2^24] Hz and the output at most 2^31 samples.
std::vector<float> resample(std::span<const float> samples, int64_t from_rate, int64_t to_rate);

}  // namespace tessera
