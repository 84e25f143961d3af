// WAV parsing and Whisper log-mel features: equal within 1e-4 to tools/reference/mel.py (a numpy
// transcription of Hugging Face's WhisperFeatureExtractor) on the WAVs in tests/data/audio,
// and hostile WAV bytes end in a tessera::Error, never a crash.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "fixture_util.hpp"
#include "tessera/audio/mel.hpp"
#include "tessera/audio/wav.hpp"

using namespace tessera;
using namespace tessera::testing;

namespace {

struct MelCase {
  const char* name;
  int64_t mel_bins;
};

class WhisperMel : public ::testing::TestWithParam<MelCase> {};

TEST_P(WhisperMel, MatchesNumpyReference) {
  const MelCase c = GetParam();
  const std::string dir = data_dir() + "/audio";
  auto ref = SafetensorsFile::open(dir + "/reference.safetensors");
  Audio a = read_wav(dir + "/" + c.name + ".wav");
  EXPECT_EQ(a.sample_rate, 16000);
  WhisperFeatureOptions opt;
  opt.feature_size = c.mel_bins;
  Tensor got = whisper_log_mel(a.samples, opt);
  ASSERT_EQ(shape_str(got.shape()), shape_str({1, c.mel_bins, 3000}));
  Tensor head = ref.get(std::string(c.name) + ".head"), tail = ref.get(std::string(c.name) + ".tail");
  const int64_t h = head.dim(1);
  double worst = 0;
  for (int64_t m = 0; m < c.mel_bins; ++m)
    for (int64_t t = 0; t < 3000; ++t) {
      const double want = t < h ? head.get_f32(m * h + t) : tail.get_f32(m);
      worst = std::max(worst, std::abs(double(got.data<float>()[m * 3000 + t]) - want));
    }
  EXPECT_LE(worst, 1e-4) << c.name;
  std::cout << "[ diff     ] " << c.name << ": max |log-mel diff| " << worst << "\n";
}

INSTANTIATE_TEST_SUITE_P(Audio, WhisperMel,
                         ::testing::Values(MelCase{"chirp_pcm16_mono", 80}, MelCase{"tones_float32_stereo", 80},
                                           MelCase{"noise_pcm16_mono_128mel", 128}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(WhisperMel, SilenceIsFlat) {
  // All frames hit the 1e-10 floor: log10 = -10, so every value is (-10 + 4) / 4.
  std::vector<float> zeros(1000, 0.0f);
  Tensor t = whisper_log_mel(zeros);
  for (int64_t i = 0; i < t.numel(); ++i) ASSERT_FLOAT_EQ(t.data<float>()[i], -1.5f);
}

TEST(WhisperMel, LongAudioIsTruncatedTo30Seconds) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-0.5f, 0.5f);
  std::vector<float> x(31 * 16000);
  for (float& v : x) v = u(rng);
  Tensor full = whisper_log_mel(x);
  Tensor cut = whisper_log_mel(std::span<const float>(x.data(), 30 * 16000));
  ASSERT_EQ(full.numel(), cut.numel());
  EXPECT_EQ(0, std::memcmp(full.raw(), cut.raw(), full.nbytes()));
}

TEST(WhisperMel, FilterBankRowsAreTriangles) {
  auto f = mel_filter_bank(201, 80, 0, 8000, 16000);
  for (int64_t m = 0; m < 80; ++m) {
    double s = 0;
    for (int64_t k = 0; k < 201; ++k) s += f[size_t(k * 80 + m)];
    EXPECT_GT(s, 0) << "mel bin " << m << " is empty";
  }
}

TEST(Wav, RoundTrip16BitAndFloat) {
  std::vector<float> x = {0.0f, 0.5f, -0.5f, 0.999f, -1.0f};
  for (bool f32 : {false, true}) {
    const std::string path = ::testing::TempDir() + "/roundtrip.wav";
    write_wav(path, x, 16000, f32);
    Audio a = read_wav(path);
    ASSERT_EQ(a.samples.size(), x.size());
    EXPECT_EQ(a.sample_rate, 16000);
    for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(a.samples[i], x[i], f32 ? 0.0 : 2.0 / 32767) << i;  // written ×32767, read ÷32768
  }
}

std::vector<uint8_t> wav_bytes(uint16_t tag, uint16_t channels, uint32_t rate, uint16_t bits,
                               const std::vector<uint8_t>& payload, uint32_t fmt_size = 16, int64_t data_size = -1) {
  std::vector<uint8_t> b;
  auto put16 = [&](uint32_t v) { b.push_back(uint8_t(v)); b.push_back(uint8_t(v >> 8)); };
  auto put32 = [&](uint32_t v) { put16(v & 0xFFFF); put16(v >> 16); };
  auto tag4 = [&](const char* s) { b.insert(b.end(), s, s + 4); };
  tag4("RIFF");
  put32(0);
  tag4("WAVE");
  tag4("fmt ");
  put32(fmt_size);
  put16(tag);
  put16(channels);
  put32(rate);
  put32(rate * channels * bits / 8);
  put16(uint16_t(channels * bits / 8));
  put16(bits);
  tag4("data");
  put32(data_size < 0 ? uint32_t(payload.size()) : uint32_t(data_size));
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

TEST(Wav, StereoIsMixedDown) {
  // 16-bit frames (L, R) = (16384, -16384) and (32767, 32767).
  std::vector<uint8_t> p = {0x00, 0x40, 0x00, 0xC0, 0xFF, 0x7F, 0xFF, 0x7F};
  Audio a = parse_wav(wav_bytes(1, 2, 16000, 16, p));
  ASSERT_EQ(a.samples.size(), 2u);
  EXPECT_EQ(a.channels, 2);
  EXPECT_FLOAT_EQ(a.samples[0], 0.0f);
  EXPECT_FLOAT_EQ(a.samples[1], 32767.0f / 32768.0f);
}

TEST(Wav, HostileFilesAreErrors) {
  std::vector<uint8_t> p(64, 0);
  auto bad = [](std::vector<uint8_t> b, const char* why) {
    EXPECT_THROW(parse_wav(b, why), Error) << why;
  };
  bad({}, "empty");
  bad({'R', 'I', 'F', 'F'}, "truncated header");
  bad(wav_bytes(85, 1, 16000, 16, p), "mp3 format tag");
  bad(wav_bytes(1, 0, 16000, 16, p), "zero channels");
  bad(wav_bytes(1, 1, 0, 16, p), "zero rate");
  bad(wav_bytes(1, 1, 16000, 12, p), "12-bit");
  bad(wav_bytes(3, 1, 16000, 16, p), "16-bit float");
  bad(wav_bytes(1, 1, 16000, 16, p, 0x7FFFFFF0), "fmt chunk larger than the file");
  bad(wav_bytes(1, 1, 16000, 16, p, 8), "fmt chunk too small");
  bad(wav_bytes(0xFFFE, 1, 16000, 16, p, 16), "extensible without its extension");
  // A data size past the end is clamped to what the file holds (streaming writers do this).
  EXPECT_EQ(parse_wav(wav_bytes(1, 1, 16000, 16, p, 16, 0x7FFFFFFF)).samples.size(), 32u);
  // NaN in float data.
  std::vector<uint8_t> nan = {0x00, 0x00, 0xC0, 0x7F};
  bad(wav_bytes(3, 1, 16000, 32, nan), "NaN sample");
}

TEST(Wav, RandomCorruptionNeverCrashes) {
  std::vector<uint8_t> payload(200);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = uint8_t(i * 37);
  const auto good = wav_bytes(1, 2, 16000, 16, payload);
  std::mt19937 rng(11);
  for (int iter = 0; iter < 3000; ++iter) {
    auto b = good;
    const int edits = 1 + int(rng() % 6);
    for (int e = 0; e < edits; ++e) b[rng() % b.size()] = uint8_t(rng());
    if (rng() % 4 == 0) b.resize(rng() % b.size());
    try {
      Audio a = parse_wav(b, "fuzz");
      for (float s : a.samples) ASSERT_TRUE(std::isfinite(s));
    } catch (const Error&) {
    }
  }
}

}  // namespace
