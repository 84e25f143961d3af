#include "tessera/audio/wav.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>

#include "tessera/core/error.hpp"
#include "tessera/io/mmap.hpp"

namespace tessera {
namespace {

uint16_t u16(const uint8_t* p) { return uint16_t(p[0] | (p[1] << 8)); }
uint32_t u32(const uint8_t* p) { return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24); }

}  // namespace

Audio parse_wav(std::span<const uint8_t> b, const std::string& name) {
  if (b.size() < 12 || std::memcmp(b.data(), "RIFF", 4) != 0 || std::memcmp(b.data() + 8, "WAVE", 4) != 0)
    fail("{}: not a WAV file (no RIFF/WAVE header)", name);
  // Walk the chunks; sizes are untrusted, so every step is checked against the real length.
  const uint8_t* fmt = nullptr;
  size_t fmt_size = 0, data_off = 0, data_size = 0;
  bool have_data = false;
  size_t pos = 12;
  while (pos + 8 <= b.size()) {
    const uint8_t* c = b.data() + pos;
    const size_t size = u32(c + 4);
    const size_t avail = b.size() - pos - 8;
    if (std::memcmp(c, "fmt ", 4) == 0) {
      if (size > avail) fail("{}: the fmt chunk at byte {} claims {} bytes, only {} remain", name, pos, size, avail);
      fmt = c + 8;
      fmt_size = size;
    } else if (std::memcmp(c, "data", 4) == 0) {
      // Streaming writers leave the size 0 or 0xFFFFFFFF: take what the file holds.
      data_off = pos + 8;
      data_size = (size == 0 || size > avail) ? avail : size;
      have_data = true;
      break;
    }
    if (size > avail) break;
    pos += 8 + size + (size & 1);
  }
  if (!fmt) fail("{}: no fmt chunk", name);
  if (!have_data) fail("{}: no data chunk", name);
  if (fmt_size < 16) fail("{}: the fmt chunk has {} bytes, at least 16 expected", name, fmt_size);
  uint16_t tag = u16(fmt);
  const int64_t channels = u16(fmt + 2);
  const int64_t rate = u32(fmt + 4);
  const int64_t bits = u16(fmt + 14);
  if (tag == 0xFFFE) {  // WAVE_FORMAT_EXTENSIBLE: the real tag leads the sub-format GUID
    if (fmt_size < 40) fail("{}: extensible fmt chunk has {} bytes, 40 expected", name, fmt_size);
    tag = u16(fmt + 24);
  }
  if (channels < 1) fail("{}: {} channels", name, channels);
  if (rate < 1) fail("{}: sample rate {}", name, rate);
  const bool is_float = tag == 3;
  if (tag != 1 && tag != 3)
    fail("{}: WAV format tag {} is not supported (only PCM integer (1) and IEEE float (3); convert compressed audio first)",
         name, tag);
  if ((tag == 1 && bits != 8 && bits != 16 && bits != 24 && bits != 32) || (is_float && bits != 32 && bits != 64))
    fail("{}: {}-bit {} samples are not supported", name, bits, is_float ? "float" : "integer");
  const size_t bytes_per = size_t(bits / 8), frame_bytes = bytes_per * size_t(channels);
  const size_t frames = data_size / frame_bytes;  // a trailing partial frame is ignored

  Audio a;
  a.sample_rate = rate;
  a.channels = channels;
  a.samples.resize(frames);
  const uint8_t* d = b.data() + data_off;
  auto sample = [&](const uint8_t* p) -> float {
    if (is_float) {
      if (bits == 32) {
        float f;
        std::memcpy(&f, p, 4);
        return f;
      }
      double v;
      std::memcpy(&v, p, 8);
      return float(v);
    }
    switch (bits) {
      case 8: return float(int(p[0]) - 128) / 128.0f;  // 8-bit WAV is unsigned
      case 16: return float(int16_t(u16(p))) / 32768.0f;
      case 24: {
        int32_t v = int32_t(uint32_t(p[0]) << 8 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 24) >> 8;
        return float(v) / 8388608.0f;
      }
      default: return float(double(int32_t(u32(p))) / 2147483648.0);
    }
  };
  for (size_t f = 0; f < frames; ++f) {
    const uint8_t* p = d + f * frame_bytes;
    if (channels == 1) {
      a.samples[f] = sample(p);
      continue;
    }
    float sum = 0;
    for (int64_t c = 0; c < channels; ++c) sum += sample(p + size_t(c) * bytes_per);
    a.samples[f] = sum / float(channels);
  }
  for (float& s : a.samples)
    if (!std::isfinite(s)) fail("{}: the audio holds a non-finite sample", name);
  return a;
}

Audio read_wav(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail("{}: cannot open", path);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return parse_wav(bytes, path);
}

void write_wav(const std::string& path, std::span<const float> samples, int64_t sample_rate, bool float32) {
  std::vector<uint8_t> out;
  auto put16 = [&](uint32_t v) { out.push_back(uint8_t(v)); out.push_back(uint8_t(v >> 8)); };
  auto put32 = [&](uint32_t v) { put16(v & 0xFFFF); put16(v >> 16); };
  auto tag = [&](const char* s) { out.insert(out.end(), s, s + 4); };
  const uint32_t bits = float32 ? 32 : 16, block = bits / 8, data = uint32_t(samples.size()) * block;
  tag("RIFF");
  put32(36 + data);
  tag("WAVE");
  tag("fmt ");
  put32(16);
  put16(float32 ? 3 : 1);
  put16(1);
  put32(uint32_t(sample_rate));
  put32(uint32_t(sample_rate) * block);
  put16(block);
  put16(bits);
  tag("data");
  put32(data);
  for (float s : samples) {
    if (float32) {
      uint32_t u;
      std::memcpy(&u, &s, 4);
      put32(u);
    } else {
      put16(uint16_t(int16_t(std::lround(std::clamp(s, -1.0f, 1.0f) * 32767.0f))));
    }
  }
  std::ofstream f(path, std::ios::binary);
  if (!f || !f.write(reinterpret_cast<const char*>(out.data()), std::streamsize(out.size())))
    fail("{}: cannot write", path);
}

}  // namespace tessera
