// Speech to text with a Whisper model, any length and any sample rate: the audio is resampled to
// the feature extractor's rate, cut into overlapping windows as Hugging Face's ASR pipeline does
// with chunk_length_s (see whisper_chunks.hpp), each window decoded (greedy or beam search,
// optionally with timestamp tokens), and the windows stitched into one transcript.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tessera/audio/mel.hpp"
#include "tessera/audio/wav.hpp"
#include "tessera/generation/whisper_chunks.hpp"
#include "tessera/models/model.hpp"
#include "tessera/text/tokenizer.hpp"

namespace tessera {

struct TranscriptionOptions {
  double chunk_length = 30;             // seconds per window; at most the model's window (30 s)
  std::optional<double> stride_length;  // overlap on each side of a window; default chunk_length / 6
  bool timestamps = false;              // decode timestamp tokens and return timed segments
  std::string language;                 // code such as "en"; "" detects it per window (multilingual)
  std::string task = "transcribe";      // or "translate" (to English)
  int64_t num_beams = 1;                // 1 = greedy
  int64_t max_new_tokens = 0;           // per window; 0 = what the decoder's positions allow
  std::function<void(int64_t done, int64_t total)> on_window;  // called after each window
};

struct TranscriptSegment {
  std::optional<double> start, end;  // seconds (with timestamps; end unset if the audio cut it off)
  std::string text;                  // decoded when a tokenizer was given, else empty
  std::vector<int32_t> tokens;
  std::string language;              // language code of the window it came from, "" if none
};

struct Transcript {
  std::string text;  // all segments' text, as HF's "text"
  std::vector<TranscriptSegment> segments;
  double duration = 0;   // seconds of audio
  int64_t windows = 0;   // windows decoded
};

// What a Whisper checkpoint directory says about its input and its special tokens
// (preprocessor_config.json, generation_config.json, config.json; tokenizer.json as a fallback
// for token ids the generation config does not list).
struct WhisperSetup {
  WhisperFeatureOptions features;
  int32_t decoder_start = 0, eos = 0;
  std::optional<int32_t> no_timestamps;                    // <|notimestamps|>
  std::optional<int32_t> transcribe_task, translate_task;  // <|transcribe|>, <|translate|>
  std::vector<std::pair<int32_t, std::string>> languages;  // <|en|> ... as (id, "en")
  std::optional<int64_t> max_initial_timestamp_index;
  int64_t max_source_positions = 1500;

  static WhisperSetup from_model(const Model& model, const Tokenizer* tokenizer);
  // Seconds per timestamp step: window length / encoder positions (0.02 for real checkpoints).
  double time_precision() const { return double(features.chunk_length) / double(max_source_positions); }
  // Token classes for merge_window_tokens: timestamps from <|notimestamps|> + 1; special = the
  // ids from <|endoftext|> up to the timestamps plus every control token named above.
  WhisperTokenInfo token_info(int64_t vocab_size) const;
};

// Transcribes `audio` (any rate: resampled to setup.features.sampling_rate). `tokenizer` may be
// null (segments then carry tokens only). Errors name the option or file at fault.
Transcript transcribe(const Model& model, const WhisperSetup& setup, const Tokenizer* tokenizer, const Audio& audio,
                      const TranscriptionOptions& options);

}  // namespace tessera
