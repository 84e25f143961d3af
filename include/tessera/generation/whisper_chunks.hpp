// Whisper on audio longer than its 30 s window, as Hugging Face's ASR pipeline does it with
// chunk_length_s (transformers/pipelines/automatic_speech_recognition.py `chunk_iter`,
// models/whisper/tokenization_whisper.py `_decode_asr`, `_find_longest_common_sequence`):
// overlapping windows, each decoded on its own, then stitched. With timestamps, segments are
// cut at timestamp tokens and times offset by each window's start; what falls in the overlap
// (the strides) is resolved by aligning the token sequences of neighbouring windows.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tessera {

// One window of audio: samples [begin, end); stride_left / stride_right samples at its edges
// overlap the previous / next window (0 at the ends of the audio).
struct AudioWindow {
  int64_t begin = 0, end = 0;
  int64_t stride_left = 0, stride_right = 0;
  bool is_last = false;
};

// HF chunk_iter: windows of chunk_len samples starting every chunk_len - stride_left -
// stride_right samples until one reaches the end; a window not longer than its left stride is
// skipped. Needs chunk_len > stride_left + stride_right >= 0.
std::vector<AudioWindow> plan_audio_windows(int64_t n_samples, int64_t chunk_len, int64_t stride_left,
                                            int64_t stride_right);

// HF _find_longest_common_sequence (without word timestamps): joins token sequences of
// consecutive windows, each pair at the best-matching alignment of the end of the left with the
// start of the right (at least two equal tokens, the fraction of equal tokens plus length/10000),
// keeping the left's tokens up to the middle of the overlap and the right's after it.
std::vector<int32_t> find_longest_common_sequence(const std::vector<std::vector<int32_t>>& sequences);

// What the decoder produced for one window, with the window's size in seconds.
struct WindowTokens {
  std::vector<int32_t> tokens;  // prompt tokens may be included: special tokens are skipped
  double length = 0, stride_left = 0, stride_right = 0;
};

struct WhisperTokenInfo {
  int32_t timestamp_begin = 0;      // <|0.00|> (= <|notimestamps|> + 1); every id from it on is a time
  double time_precision = 0.02;     // seconds per timestamp step (window length / encoder positions)
  std::vector<int32_t> special_ids;  // HF all_special_ids: skipped (language tokens are noted)
  std::vector<std::pair<int32_t, std::string>> languages;  // language token id → code ("en")
};

// One stretch of the transcript. With timestamps: start and end in seconds from the start of the
// audio (end unset when the last window stopped without a closing timestamp); without: one
// segment, times unset.
struct TimedSegment {
  std::optional<double> start, end;
  std::vector<int32_t> tokens;  // text tokens; decode them for the text
  std::string language;         // the last language token seen ("" if none)
};

// HF _decode_asr for return_timestamps true/false (segment level, not words), windows in order.
std::vector<TimedSegment> merge_window_tokens(const std::vector<WindowTokens>& windows, const WhisperTokenInfo& info,
                                              bool return_timestamps, int64_t segment_size = 1500);

}  // namespace tessera
