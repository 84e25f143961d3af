#include "tessera/audio/subtitles.hpp"

#include <fmt/core.h>

#include <cmath>

#include "tessera/core/error.hpp"

namespace tessera {
namespace {

// Trimmed, without blank lines (CR LF and CR become LF).
std::string cue_text(const std::string& text) {
  std::string lines, line;
  auto flush = [&] {
    const size_t b = line.find_first_not_of(" \t");
    if (b != std::string::npos) {
      const size_t e = line.find_last_not_of(" \t");
      if (!lines.empty()) lines += '\n';
      lines += line.substr(b, e - b + 1);
    }
    line.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\r' || c == '\n') {
      flush();
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else {
      line += c;
    }
  }
  flush();
  return lines;
}

std::string escape_vtt(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else out += c;
  }
  return out;
}

template <typename Cue>
void for_each_cue(std::span<const Subtitle> cues, Cue cue) {
  for (size_t i = 0; i < cues.size(); ++i) {
    const Subtitle& c = cues[i];
    if (!(c.end >= c.start))
      fail("subtitle {}: ends at {} s, before it starts at {} s", i + 1, c.end, c.start);
    std::string text = cue_text(c.text);
    if (!text.empty()) cue(c, text);
  }
}

}  // namespace

std::string subtitle_time(double seconds, char sep) {
  if (!std::isfinite(seconds) || seconds < 0) fail("subtitle time {} s: must be finite and >= 0", seconds);
  const long long ms = std::llround(seconds * 1000.0);
  return fmt::format("{:02}:{:02}:{:02}{}{:03}", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60, sep, ms % 1000);
}

std::string format_srt(std::span<const Subtitle> cues) {
  std::string out;
  int n = 0;
  for_each_cue(cues, [&](const Subtitle& c, const std::string& text) {
    out += fmt::format("{}\n{} --> {}\n{}\n\n", ++n, subtitle_time(c.start, ','), subtitle_time(c.end, ','), text);
  });
  return out;
}

std::string format_vtt(std::span<const Subtitle> cues) {
  std::string out = "WEBVTT\n\n";
  for_each_cue(cues, [&](const Subtitle& c, const std::string& text) {
    out += fmt::format("{} --> {}\n{}\n\n", subtitle_time(c.start, '.'), subtitle_time(c.end, '.'), escape_vtt(text));
  });
  return out;
}

}  // namespace tessera
