// tessera-transcribe: speech to text with a Whisper checkpoint. Reads a 16 kHz WAV, computes
// Hugging Face's log-mel features, and decodes greedily or with beam search; the text comes
// from the model's tokenizer.json when present, else the token ids are printed.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "tessera/audio/mel.hpp"
#include "tessera/audio/wav.hpp"
#include "tessera/generation/beam_search.hpp"
#include "tessera/io/json.hpp"
#include "tessera/io/mmap.hpp"
#include "model_options.hpp"
#include "tessera/tessera.hpp"
#include "version_flag.hpp"

using namespace tessera;

int main(int argc, char** argv) {
  CLI::App app{
      "Transcribe (or translate to English) a WAV file with a Hugging Face Whisper model directory\n"
      "(config.json + *.safetensors, optionally tokenizer.json, preprocessor_config.json,\n"
      "generation_config.json).\n\n"
      "The audio must be PCM (8/16/24/32-bit) or float WAV at the model's sampling rate (16 kHz); it is\n"
      "not resampled (convert with e.g. `ffmpeg -i in.mp3 -ar 16000 out.wav`). Several channels are\n"
      "averaged. Only the first 30 seconds are transcribed.",
      "tessera-transcribe"};
  tools::ModelOptions mo;
  std::string& model_dir = mo.path;
  std::string wav_path, language, task = "transcribe";
  int64_t beams = 1, max_new = 0;
  int threads = 0;
  bool print_ids = false, timestamps = false;
  tools::add_model_options(app, mo, "the Whisper model");
  app.add_option("AUDIO", wav_path, "16 kHz WAV file")->required();
  app.add_option("--beams", beams, "beam width (1 = greedy)")->check(CLI::Range(1, 64));
  app.add_option("--max-new-tokens", max_new, "limit on generated tokens (default: what the model allows)");
  app.add_option("--language", language, "language code, e.g. en, de (multilingual models; default: detected)");
  app.add_option("--task", task, "transcribe or translate (to English)")->check(CLI::IsMember({"transcribe", "translate"}));
  app.add_flag("--timestamps", timestamps, "let the model emit timestamp tokens (printed raw)");
  app.add_flag("--ids", print_ids, "print token ids even when a tokenizer is available");
  app.add_option("-t,--threads", threads, "threads (default: all cores)");
  tessera::tools::add_version_flag(app, "tessera-transcribe");
  CLI11_PARSE(app, argc, argv);

  try {
    if (threads > 0) set_num_threads(threads);
    auto model = load(model_dir, mo.load_options());
    if (model->info().family != "whisper") fail("{}: a Whisper model is needed, this is {}", model_dir, model->info().family);

    WhisperFeatureOptions fo;
    const std::string pre = model_dir + "/preprocessor_config.json";
    if (file_exists(pre)) fo = WhisperFeatureOptions::from_preprocessor_config(pre);
    else fo.feature_size = JsonObject(load_json_file(model_dir + "/config.json"), "config.json").get_int("num_mel_bins", 80);
    Audio audio = read_wav(wav_path);
    if (audio.sample_rate != fo.sampling_rate)
      fail("{}: sample rate {} Hz, the model needs {} Hz (tessera does not resample; convert the file first)", wav_path,
           audio.sample_rate, fo.sampling_rate);
    Tensor features = whisper_log_mel(audio.samples, fo);

    auto session = model->new_session();
    model->set_source_features(*session, features);

    std::optional<Tokenizer> tok;
    if (file_exists(model_dir + "/tokenizer.json")) tok = Tokenizer::from_file(model_dir + "/tokenizer.json");
    BeamSearchOptions opt = BeamSearchOptions::for_model(*model);
    opt.num_beams = beams;
    opt.num_return_sequences = 1;

    // Decoder prompt: <|startoftranscript|> [<|lang|>] [<|task|>] [<|notimestamps|>] where the
    // tokenizer knows those tokens (multilingual checkpoints); English-only ones take the start alone.
    std::vector<int32_t> prompt{int32_t(*model->info().decoder_start_token_id)};
    if (tok) {
      std::vector<std::pair<int32_t, std::string>> langs;
      const std::string gc = model_dir + "/generation_config.json";
      if (file_exists(gc)) {
        auto g = load_json_file(gc);
        if (g.contains("lang_to_id") && g["lang_to_id"].is_object())
          for (auto& [k, v] : g["lang_to_id"].items()) langs.emplace_back(v.get<int32_t>(), k);
      }
      std::optional<int32_t> lang_id;
      if (!language.empty()) {
        lang_id = tok->token_to_id("<|" + language + "|>");
        if (!lang_id) fail("{}: the tokenizer has no language token <|{}|>", model_dir, language);
      } else if (!langs.empty()) {
        // Language detection as Whisper does it: the most likely language token after the start.
        Tensor logits;
        auto probe = session->clone();
        model->decode(*probe, prompt, logits, false);
        float best = -INFINITY;
        for (auto& [id, name] : langs)
          if (id < logits.dim(1) && logits.data<float>()[id] > best) {
            best = logits.data<float>()[id];
            lang_id = id;
            language = name;
          }
        fmt::print(stderr, "detected language: {}\n", language);
      }
      if (lang_id) {
        prompt.push_back(*lang_id);
        if (auto t = tok->token_to_id("<|" + task + "|>")) prompt.push_back(*t);
      }
      if (!timestamps)
        if (auto t = tok->token_to_id("<|notimestamps|>")) prompt.push_back(*t);
    }
    const int64_t room = session->capacity() - int64_t(prompt.size()) + 1;
    if (max_new > 0) opt.max_new_tokens = max_new;
    opt.max_new_tokens = std::min(opt.max_new_tokens, room);
    auto result = beam_search(*model, *session, prompt, opt);
    const auto& ids = result.hypotheses.at(0).tokens;
    if (tok && !print_ids) {
      fmt::print("{}\n", tok->decode(ids, /*skip_special_tokens=*/true));
    } else {
      std::string s;
      for (int32_t id : ids) s += (s.empty() ? "" : " ") + std::to_string(id);
      fmt::print("{}\n", s);
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "tessera-transcribe: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
