#include "tessera/audio/resample.hpp"

#include <soxr.h>

#include <cmath>

#include "tessera/core/error.hpp"

namespace tessera {

std::vector<float> resample(std::span<const float> samples, int64_t from_rate, int64_t to_rate) {
  constexpr int64_t kMaxRate = int64_t(1) << 24;
  if (from_rate < 1 || from_rate > kMaxRate || to_rate < 1 || to_rate > kMaxRate)
    fail("resample: sample rates must be in [1, {}] Hz, found {} Hz → {} Hz", kMaxRate, from_rate, to_rate);
  if (from_rate == to_rate) return {samples.begin(), samples.end()};
  const double want = std::round(double(samples.size()) * double(to_rate) / double(from_rate));
  // A header claiming a tiny rate would otherwise ask for terabytes (2^31 samples is 37 h at 16 kHz).
  constexpr double kMaxOut = double(int64_t(1) << 31);
  if (want > kMaxOut)
    fail("resample {} Hz → {} Hz: {} samples would become {:.0f}, more than the {:.0f} allowed", from_rate, to_rate,
         samples.size(), want, kMaxOut);
  const size_t out_len = size_t(want);
  std::vector<float> out(out_len);
  if (samples.empty() || out_len == 0) return out;
  // soxr_oneshot defaults to the low-quality recipe; ask for HQ explicitly (librosa's "soxr_hq").
  const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
  const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  size_t used = 0, made = 0;
  soxr_error_t err = soxr_oneshot(double(from_rate), double(to_rate), 1, samples.data(), samples.size(), &used,
                                  out.data(), out_len, &made, &io, &quality, nullptr);
  if (err) fail("resample {} Hz → {} Hz: libsoxr failed: {}", from_rate, to_rate, err);
  // soxr emits the whole signal (delay trimmed); a shortfall would be a libsoxr change worth knowing about.
  if (made != out_len)
    fail("resample {} Hz → {} Hz: libsoxr produced {} samples, {} expected", from_rate, to_rate, made, out_len);
  return out;
}

}  // namespace tessera
