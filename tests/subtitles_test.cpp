// SRT and WebVTT writers against hand-written files (tests/data/subtitles): millisecond rounding,
// hours past one, trimmed text without blank lines, empty cues dropped and the rest renumbered,
// WebVTT's escapes; bad times are Errors.
#include <gtest/gtest.h>

#include <cmath>

#include "fixture_util.hpp"
#include "tessera/audio/subtitles.hpp"

using namespace tessera;
using namespace tessera::testing;

namespace {

const std::vector<Subtitle> kCues = {
    {0.0, 2.5, " Hello world."},
    {2.5, 2.5, "   "},                             // nothing to show: dropped
    {3.0004, 65.9996, " Line one\r\n\n line two "},  // 3000.4 ms → 3000, 65999.6 ms → 66000
    {3725.25, 3726.0, " a < b & c > d"},
};

TEST(Subtitles, SrtMatchesHandWrittenFile) {
  EXPECT_EQ(format_srt(kCues), read_text_file(data_dir() + "/subtitles/cues.srt"));
}

TEST(Subtitles, VttMatchesHandWrittenFile) {
  EXPECT_EQ(format_vtt(kCues), read_text_file(data_dir() + "/subtitles/cues.vtt"));
}

TEST(Subtitles, Times) {
  EXPECT_EQ(subtitle_time(0.0005, ','), "00:00:00,001");  // llround: half away from zero
  EXPECT_EQ(subtitle_time(59.9999, '.'), "00:01:00.000");
  EXPECT_EQ(subtitle_time(360000.0, ','), "100:00:00,000");
  EXPECT_THROW(subtitle_time(-1.0, ','), Error);
  EXPECT_THROW(subtitle_time(NAN, ','), Error);
  EXPECT_THROW(subtitle_time(INFINITY, ','), Error);
}

TEST(Subtitles, EndBeforeStartIsAnError) {
  const std::vector<Subtitle> bad = {{2.0, 1.0, "x"}};
  EXPECT_THROW(format_srt(bad), Error);
  EXPECT_THROW(format_vtt(bad), Error);
  EXPECT_EQ(format_vtt({}), "WEBVTT\n\n");
  EXPECT_EQ(format_srt({}), "");
}

}  // namespace
