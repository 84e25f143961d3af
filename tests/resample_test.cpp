// resample(): a sine at 44.1 / 22.05 / 48 / 8 kHz resampled to 16 kHz equals the analytic sine at
// 16 kHz, and a tone above the new Nyquist frequency is filtered out rather than aliased.
//
// Tolerances, from libsoxr's HQ recipe (soxr.h: 20-bit precision, linear phase with the delay
// removed, passband to 0.913 of the lower Nyquist with rolloff <= 0.01 dB, SOXR_ROLLOFF_SMALL):
// - tones up to 1 kHz, far below the passband edge, must be exact to the 20-bit precision
//   (2^-20 of full scale = 9.5e-7; 2e-6 allows float32 rounding on top);
// - higher tones may lose up to 0.01 dB of their 0.5 amplitude: 0.5 · (10^(0.01/20) − 1) = 5.8e-4
//   (44.1 → 16 kHz measures 1.1e-4 at 6 kHz, 3.7e-4 at 7 kHz).
// A resampler one output sample late (a 1 kHz sine moves up to 0.2 per sample at 16 kHz), or a
// linear interpolator (errors ~1e-2 and more at 3 kHz), fails these by orders of magnitude. The
// first and last 20 ms are skipped: there the signal starts and stops abruptly.
#include <gtest/gtest.h>

#include <cmath>

#include "tessera/audio/resample.hpp"
#include "tessera/core/error.hpp"

using namespace tessera;

namespace {

std::vector<float> sine(double freq, double amplitude, int64_t rate, double seconds) {
  std::vector<float> x(size_t(std::llround(seconds * double(rate))));
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(amplitude * std::sin(2 * M_PI * freq * double(i) / double(rate)));
  return x;
}

struct RateCase {
  int64_t rate;
  double freq;
};

class Resample : public ::testing::TestWithParam<RateCase> {};

TEST_P(Resample, SineMatchesAnalyticSineAt16kHz) {
  const RateCase c = GetParam();
  const double seconds = 0.5;
  const std::vector<float> in = sine(c.freq, 0.5, c.rate, seconds);
  const std::vector<float> out = resample(in, c.rate, 16000);
  ASSERT_EQ(out.size(), size_t(std::llround(double(in.size()) * 16000.0 / double(c.rate))));
  double worst = 0;
  for (size_t i = 320; i + 320 < out.size(); ++i)
    worst = std::max(worst, std::abs(double(out[i]) - 0.5 * std::sin(2 * M_PI * c.freq * double(i) / 16000.0)));
  std::cout << "[ diff     ] " << c.rate << " Hz, " << c.freq << " Hz sine: max |diff| " << worst << "\n";
  EXPECT_LE(worst, c.freq <= 1000 ? 2e-6 : 0.5 * (std::pow(10.0, 0.01 / 20) - 1));
}

INSTANTIATE_TEST_SUITE_P(Audio, Resample,
                         ::testing::Values(RateCase{44100, 1000}, RateCase{44100, 6000}, RateCase{22050, 440},
                                           RateCase{22050, 3000}, RateCase{8000, 1000}, RateCase{8000, 3000},
                                           RateCase{48000, 7000}),
                         [](const auto& info) {
                           return std::to_string(info.param.rate) + "Hz_" + std::to_string(int(info.param.freq)) + "Hz";
                         });

TEST(Resample, ToneAboveNewNyquistIsRemoved) {
  // 10 kHz cannot exist at 16 kHz (Nyquist 8 kHz); without filtering it would alias to 6 kHz at full level.
  const std::vector<float> out = resample(sine(10000, 0.5, 44100, 0.5), 44100, 16000);
  double worst = 0;
  for (size_t i = 320; i + 320 < out.size(); ++i) worst = std::max(worst, double(std::abs(out[i])));
  EXPECT_LE(worst, 1e-4);
}

TEST(Resample, EqualRatesCopyAndEmptyStaysEmpty) {
  const std::vector<float> x = {0.25f, -0.5f, 1.0f};
  EXPECT_EQ(resample(x, 16000, 16000), x);
  EXPECT_TRUE(resample({}, 44100, 16000).empty());
}

TEST(Resample, BadRatesAreErrors) {
  const std::vector<float> x(100, 0.0f);
  EXPECT_THROW(resample(x, 0, 16000), Error);
  EXPECT_THROW(resample(x, 44100, -1), Error);
  EXPECT_THROW(resample(x, int64_t(1) << 40, 16000), Error);
  // 2^20 samples claimed at 1 Hz would be 2^34 samples at 16 kHz: refused before allocating.
  const std::vector<float> many(size_t(1) << 20, 0.0f);
  EXPECT_THROW(resample(many, 1, 16000), Error);
}

}  // namespace
