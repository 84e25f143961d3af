// tessera-transcribe: speech to text with a Whisper checkpoint. Reads a WAV at any rate
// (resampled to 16 kHz with libsoxr), cuts audio longer than the model's window into
// overlapping 30 s windows as Hugging Face's ASR pipeline does (chunk_length_s), decodes each
// greedily or with beam search, and writes plain text, timed text, SRT, WebVTT or JSON.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>

#include "command_line.hpp"
#include "model_options.hpp"
#include "tessera/audio/subtitles.hpp"
#include "tessera/audio/wav.hpp"
#include "tessera/generation/transcription.hpp"
#include "tessera/io/mmap.hpp"
#include "tessera/tessera.hpp"
#include "version_flag.hpp"

using namespace tessera;

namespace {

std::string ids_text(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += (s.empty() ? "" : " ") + std::to_string(id);
  return s;
}

// Subtitle cues from the segments: a segment the audio cut off ends with the audio; one without
// a start begins where the previous one ended; times past the end of the audio (a window shorter
// than 30 s is padded, and the model may place a timestamp in the padding) are cut to it.
std::vector<Subtitle> cues(const Transcript& t, bool ids) {
  std::vector<Subtitle> out;
  double prev_end = 0;
  for (const TranscriptSegment& s : t.segments) {
    Subtitle c;
    c.start = std::min(s.start.value_or(prev_end), t.duration);
    c.end = std::clamp(s.end.value_or(t.duration), c.start, t.duration);
    c.text = ids ? ids_text(s.tokens) : s.text;
    prev_end = c.end;
    out.push_back(std::move(c));
  }
  return out;
}

std::string json_text(const Transcript& t, bool ids) {
  nlohmann::json chunks = nlohmann::json::array();
  for (const TranscriptSegment& s : t.segments) {
    nlohmann::json c;
    c["timestamp"] = {s.start ? nlohmann::json(*s.start) : nlohmann::json(nullptr),
                      s.end ? nlohmann::json(*s.end) : nlohmann::json(nullptr)};
    c["text"] = ids ? ids_text(s.tokens) : s.text;
    c["tokens"] = s.tokens;
    if (!s.language.empty()) c["language"] = s.language;
    chunks.push_back(std::move(c));
  }
  nlohmann::json j;
  std::string all;
  for (const TranscriptSegment& s : t.segments) all += ids ? (all.empty() ? "" : " ") + ids_text(s.tokens) : s.text;
  j["text"] = all;
  j["chunks"] = std::move(chunks);
  j["duration"] = t.duration;
  j["windows"] = t.windows;
  return j.dump(2) + "\n";
}

std::string plain_text(const Transcript& t, bool ids, bool timed) {
  if (!timed) {
    std::string all;
    for (const TranscriptSegment& s : t.segments) all += ids ? (all.empty() ? "" : " ") + ids_text(s.tokens) : s.text;
    const size_t b = all.find_first_not_of(' ');
    return (b == std::string::npos ? std::string() : all.substr(b)) + "\n";
  }
  std::string out;
  for (const Subtitle& c : cues(t, ids))
    out += fmt::format("[{} --> {}] {}\n", subtitle_time(c.start, '.'), subtitle_time(c.end, '.'), c.text);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Transcribe (or translate to English) a WAV file with a Hugging Face Whisper model directory\n"
      "(config.json + *.safetensors, optionally tokenizer.json, preprocessor_config.json,\n"
      "generation_config.json).\n\n"
      "The audio may be PCM (8/16/24/32-bit) or float WAV at any sample rate: it is resampled to the\n"
      "model's rate (16 kHz) with libsoxr; several channels are averaged. Audio of any length is cut\n"
      "into windows of --chunk-length seconds overlapping by --stride-length on each side, each window\n"
      "is decoded on its own, and the windows are stitched as Hugging Face's ASR pipeline does with\n"
      "chunk_length_s (timestamps offset by each window's start, the overlaps aligned token by token).\n\n"
      "Output formats: text (the transcript; with --timestamps one '[start --> end] text' line per\n"
      "segment), srt, vtt (subtitles) and json ({\"text\", \"chunks\": [{\"timestamp\": [start, end],\n"
      "\"text\", \"tokens\"}]} as the pipeline returns it). srt, vtt and json decode timestamp tokens,\n"
      "which needs no_timestamps_token_id in generation_config.json or <|notimestamps|> in the tokenizer.\n"
      "Without tokenizer.json the text is the token ids. Progress goes to stderr when it is a terminal.\n\n"
      "Example:\n  tessera-transcribe whisper-tiny talk.wav --output-format srt -o talk.srt\n\n"
      "Exit codes: 0 transcribed, 1 error (message on stderr), 2 bad command line.",
      "tessera-transcribe"};
  tools::ModelOptions mo;
  std::string wav_path, out_path, format = "text";
  TranscriptionOptions to;
  double stride = -1;
  int threads = 0;
  bool print_ids = false;
  tools::add_model_options(app, mo, "the Whisper model");
  app.add_option("AUDIO", wav_path, "WAV file (any sample rate, any length)")->required();
  app.add_option("--output-format,-f", format, "text, srt, vtt or json")
      ->check(CLI::IsMember({"text", "srt", "vtt", "json"}));
  app.add_option("-o,--output", out_path, "write the result to this file instead of stdout");
  app.add_option("--chunk-length", to.chunk_length, "seconds of audio per window (at most the model's 30)")
      ->check(CLI::Range(0.1, 3600.0));
  app.add_option("--stride-length", stride, "seconds each window overlaps its neighbours on each side (default: chunk length / 6)")
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--beams", to.num_beams, "beam width (1 = greedy)")->check(CLI::Range(1, 64));
  app.add_option("--max-new-tokens", to.max_new_tokens, "limit on generated tokens per window (default: what the model allows)")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 20));
  app.add_option("--language", to.language, "language code, e.g. en, de (multilingual models; default: detected per window)");
  app.add_option("--task", to.task, "transcribe or translate (to English)")->check(CLI::IsMember({"transcribe", "translate"}));
  app.add_flag("--timestamps", to.timestamps, "decode timestamp tokens (implied by srt, vtt and json)");
  app.add_flag("--ids", print_ids, "print token ids even when a tokenizer is available");
  app.add_option("-t,--threads", threads, "threads (default: all cores)");
  tessera::tools::add_version_flag(app, "tessera-transcribe");
  TESSERA_PARSE_COMMAND_LINE(app, argc, argv);

  try {
    if (threads > 0) set_num_threads(threads);
    if (stride >= 0) to.stride_length = stride;
    if (format != "text") to.timestamps = true;
    // Read the audio first: a bad file is reported before a large model loads.
    const Audio audio = read_wav(wav_path);
    if (audio.samples.empty()) fail("{}: the file holds no audio samples", wav_path);
    auto model = load(mo.path, mo.load_options());
    std::optional<Tokenizer> tok;
    if (file_exists(model->info().dir + "/tokenizer.json")) tok = Tokenizer::from_file(model->info().dir + "/tokenizer.json");
    const WhisperSetup setup = WhisperSetup::from_model(*model, tok ? &*tok : nullptr);
    const bool tty = isatty(2);
    to.on_window = [tty](int64_t done, int64_t total) {
      if (tty && total > 1) fmt::print(stderr, "\rtessera-transcribe: window {}/{}", done, total);
    };
    const Transcript t = transcribe(*model, setup, tok ? &*tok : nullptr, audio, to);
    if (tty && t.windows > 1) fmt::print(stderr, "\n");

    const bool ids = print_ids || !tok;
    std::string result;
    if (format == "srt") result = format_srt(cues(t, ids));
    else if (format == "vtt") result = format_vtt(cues(t, ids));
    else if (format == "json") result = json_text(t, ids);
    else result = plain_text(t, ids, to.timestamps);
    if (out_path.empty()) {
      fmt::print("{}", result);
    } else {
      std::ofstream f(out_path, std::ios::binary);
      if (!f || !f.write(result.data(), std::streamsize(result.size()))) fail("{}: cannot write", out_path);
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "tessera-transcribe: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
