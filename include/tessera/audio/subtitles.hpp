// Subtitle files from timed text: SubRip (.srt) and WebVTT (.vtt), the formats video players and
// editors read. Times are rounded to the millisecond.
#pragma once

#include <span>
#include <string>

namespace tessera {

struct Subtitle {
  double start = 0, end = 0;  // seconds
  std::string text;
};

// "HH:MM:SS,mmm" (SRT, decimal ',') or "HH:MM:SS.mmm" (VTT, '.'); hours grow past 99 as needed.
// Negative or non-finite times are an Error.
std::string subtitle_time(double seconds, char decimal_separator);

// Numbered cues "1\n00:00:00,000 --> 00:00:02,500\ntext\n\n". Text is trimmed of surrounding
// whitespace and its blank lines removed (a blank line ends a cue); cues left empty are dropped
// and the rest numbered from 1. An end before its start is an Error.
std::string format_srt(std::span<const Subtitle> cues);

// "WEBVTT\n\n" then "00:00:00.000 --> 00:00:02.500\ntext\n\n" per cue; text as for SRT, with
// '&', '<' and '>' escaped as the WebVTT cue text syntax requires.
std::string format_vtt(std::span<const Subtitle> cues);

}  // namespace tessera
