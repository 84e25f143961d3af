#include "tessera/audio/mel.hpp"

#include <algorithm>
#include <cmath>

#include "tessera/core/error.hpp"
#include "tessera/core/parallel.hpp"
#include "tessera/io/json.hpp"

namespace tessera {
namespace {

// transformers.audio_utils hertz_to_mel / mel_to_hertz with mel_scale="slaney": linear below
// 1 kHz, logarithmic above.
double hertz_to_mel(double hz) {
  const double logstep = 27.0 / std::log(6.4);
  return hz >= 1000.0 ? 15.0 + std::log(hz / 1000.0) * logstep : 3.0 * hz / 200.0;
}
double mel_to_hertz(double mel) {
  const double logstep = std::log(6.4) / 27.0;
  return mel >= 15.0 ? 1000.0 * std::exp(logstep * (mel - 15.0)) : 200.0 * mel / 3.0;
}

// numpy.linspace(start, stop, num): start + i * step, the last point exactly stop.
std::vector<double> linspace(double start, double stop, int64_t num) {
  std::vector<double> y(static_cast<size_t>(num));
  const double step = (stop - start) / double(num - 1);
  for (int64_t i = 0; i < num; ++i) y[size_t(i)] = double(i) * step + start;
  if (num > 1) y.back() = stop;
  return y;
}

}  // namespace

WhisperFeatureOptions WhisperFeatureOptions::from_preprocessor_config(const std::string& path) {
  JsonObject j(load_json_file(path), path);
  WhisperFeatureOptions o;
  o.feature_size = j.get_size("feature_size", o.feature_size, 4096);
  o.sampling_rate = j.get_size("sampling_rate", o.sampling_rate, 1 << 22);
  o.n_fft = j.get_size("n_fft", o.n_fft, 1 << 16);
  o.hop_length = j.get_size("hop_length", o.hop_length, 1 << 16);
  o.chunk_length = j.get_size("chunk_length", o.chunk_length, 3600);
  return o;
}

std::vector<double> mel_filter_bank(int64_t frequency_bins, int64_t mel_bins, double min_hz, double max_hz,
                                    int64_t sampling_rate) {
  TESSERA_CHECK(frequency_bins > 1 && mel_bins > 0, "mel_filter_bank: {} frequency bins, {} mel bins", frequency_bins,
                mel_bins);
  std::vector<double> mels = linspace(hertz_to_mel(min_hz), hertz_to_mel(max_hz), mel_bins + 2);
  std::vector<double> filter_hz(mels.size());
  for (size_t i = 0; i < mels.size(); ++i) filter_hz[i] = mel_to_hertz(mels[i]);
  std::vector<double> fft_hz = linspace(0.0, double(sampling_rate / 2), frequency_bins);
  std::vector<double> out(size_t(frequency_bins * mel_bins));
  for (int64_t f = 0; f < frequency_bins; ++f)
    for (int64_t m = 0; m < mel_bins; ++m) {
      const size_t j = size_t(m);
      double down = -(filter_hz[j] - fft_hz[size_t(f)]) / (filter_hz[j + 1] - filter_hz[j]);
      double up = (filter_hz[j + 2] - fft_hz[size_t(f)]) / (filter_hz[j + 2] - filter_hz[j + 1]);
      double enorm = 2.0 / (filter_hz[j + 2] - filter_hz[j]);
      out[size_t(f * mel_bins + m)] = std::max(0.0, std::min(down, up)) * enorm;
    }
  return out;
}

Tensor whisper_log_mel(std::span<const float> samples, const WhisperFeatureOptions& o) {
  const int64_t n_fft = o.n_fft, hop = o.hop_length, mel = o.feature_size, total = o.n_samples();
  TESSERA_CHECK(n_fft >= 2 && hop >= 1 && mel >= 1 && total > n_fft / 2,
                "whisper_log_mel: unusable options (n_fft {}, hop {}, mel {}, {} samples)", n_fft, hop, mel, total);
  const int64_t pad = n_fft / 2, frames = total / hop, bins = n_fft / 2 + 1;

  // Zero-padded (or truncated) audio, reflect-padded by n_fft/2 on both sides as np.pad does.
  std::vector<double> x(size_t(total + 2 * pad), 0.0);
  const int64_t n = std::min<int64_t>(int64_t(samples.size()), total);
  for (int64_t i = 0; i < n; ++i) x[size_t(pad + i)] = samples[size_t(i)];
  for (int64_t i = 1; i <= pad; ++i) {
    x[size_t(pad - i)] = x[size_t(pad + i)];
    x[size_t(pad + total - 1 + i)] = x[size_t(pad + total - 1 - i)];
  }
  // Periodic Hann window (np.hanning(n_fft + 1)[:-1]) and the DFT's twiddles, one period.
  std::vector<double> window(static_cast<size_t>(n_fft)), cos_t(static_cast<size_t>(n_fft)), sin_t(static_cast<size_t>(n_fft));
  for (int64_t i = 0; i < n_fft; ++i) {
    const double a = 2.0 * M_PI * double(i) / double(n_fft);
    window[size_t(i)] = 0.5 - 0.5 * std::cos(a);
    cos_t[size_t(i)] = std::cos(a);
    sin_t[size_t(i)] = std::sin(a);
  }
  const std::vector<double> filters = mel_filter_bank(bins, mel, 0.0, 8000.0, o.sampling_rate);

  std::vector<float> logmel(size_t(mel * frames));
  parallel_for(frames, [&](int64_t begin, int64_t end) {
    std::vector<double> buf(static_cast<size_t>(n_fft)), power(static_cast<size_t>(bins));
    for (int64_t t = begin; t < end; ++t) {
      bool silent = true;
      for (int64_t i = 0; i < n_fft; ++i) {
        buf[size_t(i)] = x[size_t(t * hop + i)] * window[size_t(i)];
        silent &= buf[size_t(i)] == 0.0;
      }
      for (int64_t k = 0; k < bins; ++k) {
        double re = 0, im = 0;
        if (!silent) {
          int64_t idx = 0;  // (k * i) mod n_fft, kept incrementally
          for (int64_t i = 0; i < n_fft; ++i) {
            re += buf[size_t(i)] * cos_t[size_t(idx)];
            im -= buf[size_t(i)] * sin_t[size_t(idx)];
            idx += k;
            if (idx >= n_fft) idx -= n_fft;
          }
        }
        // Hugging Face stores the spectrum as complex64 before taking |X|² in float64.
        const double r = double(float(re)), m = double(float(im));
        power[size_t(k)] = r * r + m * m;
      }
      for (int64_t j = 0; j < mel; ++j) {
        double s = 0;
        for (int64_t k = 0; k < bins; ++k) s += filters[size_t(k * mel + j)] * power[size_t(k)];
        logmel[size_t(j * frames + t)] = float(std::log10(std::max(1e-10, s)));
      }
    }
  });
  const float top = *std::max_element(logmel.begin(), logmel.end()) - 8.0f;
  Tensor out = Tensor::zeros(DType::F32, {1, mel, frames});
  float* y = out.data<float>();
  for (size_t i = 0; i < logmel.size(); ++i) y[i] = (std::max(logmel[i], top) + 4.0f) / 4.0f;
  return out;
}

}  // namespace tessera
