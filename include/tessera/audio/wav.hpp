// Reading WAV files into mono float samples for speech models: PCM 8/16/24/32-bit integer and
// 32/64-bit float, any channel count (mixed down to the mean), WAVE_FORMAT_EXTENSIBLE.
// Nothing is resampled here (audio/resample.hpp does that; Whisper needs 16 kHz). Malformed or
// hostile files are a tessera::Error, never a read outside the buffer.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace tessera {

struct Audio {
  std::vector<float> samples;  // mono, in [-1, 1] for integer PCM (x / 2^(bits-1))
  int64_t sample_rate = 0;
  int64_t channels = 0;  // of the file, before the mixdown
};

// Parses the bytes of a RIFF/WAVE file; `name` appears in errors.
Audio parse_wav(std::span<const uint8_t> bytes, const std::string& name = "WAV data");
Audio read_wav(const std::string& path);

// Writes mono 16-bit PCM (values clamped to [-1, 1]) or 32-bit float samples.
void write_wav(const std::string& path, std::span<const float> samples, int64_t sample_rate, bool float32 = false);

}  // namespace tessera
