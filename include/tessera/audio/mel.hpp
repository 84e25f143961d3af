// Whisper's input features: the log-mel spectrogram of Hugging Face's WhisperFeatureExtractor
// (n_fft 400, hop 160, periodic Hann window, reflect padding, Slaney mel filters on 0–8 kHz,
// log10 clamped to max − 8, (x + 4) / 4), with the audio zero-padded or truncated to 30 s.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tessera/core/tensor.hpp"

namespace tessera {

struct WhisperFeatureOptions {
  int64_t feature_size = 80;  // mel bins: 80, or 128 for large-v3
  int64_t sampling_rate = 16000;
  int64_t n_fft = 400, hop_length = 160;
  int64_t chunk_length = 30;  // seconds; samples beyond are dropped, shorter audio is zero-padded

  int64_t n_samples() const { return chunk_length * sampling_rate; }
  int64_t frames() const { return n_samples() / hop_length; }
  // The fields of a preprocessor_config.json (feature_size, sampling_rate, n_fft, hop_length,
  // chunk_length); absent fields keep their defaults.
  static WhisperFeatureOptions from_preprocessor_config(const std::string& path);
};

// Slaney-scale, Slaney-normalised triangular filters [n_fft / 2 + 1, mel_bins] (row-major, double),
// as transformers.audio_utils.mel_filter_bank(norm="slaney", mel_scale="slaney").
std::vector<double> mel_filter_bank(int64_t frequency_bins, int64_t mel_bins, double min_hz, double max_hz,
                                    int64_t sampling_rate);

// Log-mel features [1, feature_size, frames] (f32) of mono samples at options.sampling_rate.
Tensor whisper_log_mel(std::span<const float> samples, const WhisperFeatureOptions& options = {});

}  // namespace tessera
