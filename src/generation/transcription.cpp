#include "tessera/generation/transcription.hpp"

#include <algorithm>
#include <cmath>

#include "tessera/audio/resample.hpp"
#include "tessera/generation/beam_search.hpp"
#include "tessera/generation/whisper_timestamps.hpp"
#include "tessera/io/json.hpp"
#include "tessera/io/mmap.hpp"

namespace tessera {
namespace {

int32_t token_id(const nlohmann::json& v, const std::string& where) {
  if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > INT32_MAX)
    fail("{}: expected a token id (a non-negative integer), found {}", where, v.dump());
  return int32_t(v.get<int64_t>());
}

// "<|en|>" → "en"; other keys are kept as they are.
std::string language_code(const std::string& key) {
  if (key.size() > 4 && key.starts_with("<|") && key.ends_with("|>")) return key.substr(2, key.size() - 4);
  return key;
}

}  // namespace

WhisperSetup WhisperSetup::from_model(const Model& model, const Tokenizer* tok) {
  const ModelInfo& info = model.info();
  if (info.family != "whisper") fail("{}: a Whisper model is needed, this is {}", info.dir, info.family);
  WhisperSetup s;
  const std::string dir = info.dir;
  JsonObject cfg(load_json_file(dir + "/config.json"), dir + "/config.json");
  if (file_exists(dir + "/preprocessor_config.json"))
    s.features = WhisperFeatureOptions::from_preprocessor_config(dir + "/preprocessor_config.json");
  else
    s.features.feature_size = cfg.get_int("num_mel_bins", 80);
  s.max_source_positions = cfg.get_size("max_source_positions", 1500, 1 << 20);
  if (!info.decoder_start_token_id) fail("{}/config.json: decoder_start_token_id is not set", dir);
  s.decoder_start = int32_t(*info.decoder_start_token_id);
  if (info.eos_token_ids.empty()) fail("{}/config.json: eos_token_id is not set", dir);
  s.eos = int32_t(info.eos_token_ids[0]);

  const std::string gc_path = dir + "/generation_config.json";
  if (file_exists(gc_path)) {
    JsonObject gc(load_json_file(gc_path), gc_path);
    const nlohmann::json& g = gc.raw();
    if (gc.has("no_timestamps_token_id")) s.no_timestamps = token_id(g["no_timestamps_token_id"], gc_path + ": no_timestamps_token_id");
    if (gc.has("max_initial_timestamp_index")) s.max_initial_timestamp_index = gc.get_int("max_initial_timestamp_index");
    if (gc.has("lang_to_id")) {
      if (!g["lang_to_id"].is_object()) fail("{}: lang_to_id must be an object, found {}", gc_path, g["lang_to_id"].dump());
      for (auto& [k, v] : g["lang_to_id"].items())
        s.languages.emplace_back(token_id(v, gc_path + ": lang_to_id." + k), language_code(k));
    }
    if (gc.has("task_to_id")) {
      if (!g["task_to_id"].is_object()) fail("{}: task_to_id must be an object, found {}", gc_path, g["task_to_id"].dump());
      for (auto& [k, v] : g["task_to_id"].items()) {
        if (k == "transcribe") s.transcribe_task = token_id(v, gc_path + ": task_to_id.transcribe");
        if (k == "translate") s.translate_task = token_id(v, gc_path + ": task_to_id.translate");
      }
    }
  }
  if (tok) {  // older checkpoints name these tokens only in the tokenizer
    if (!s.no_timestamps) s.no_timestamps = tok->token_to_id("<|notimestamps|>");
    if (!s.transcribe_task) s.transcribe_task = tok->token_to_id("<|transcribe|>");
    if (!s.translate_task) s.translate_task = tok->token_to_id("<|translate|>");
  }
  if (s.max_initial_timestamp_index && *s.max_initial_timestamp_index < 0)
    fail("{}: max_initial_timestamp_index must be >= 0, found {}", gc_path, *s.max_initial_timestamp_index);
  auto in_vocab = [&](std::optional<int32_t> id, const std::string& what) {
    if (id && *id >= info.vocab_size)
      fail("{}: {} is token {}, outside the vocabulary of {}", gc_path, what, *id, info.vocab_size);
  };
  for (const auto& [id, code] : s.languages) in_vocab(id, "lang_to_id.<|" + code + "|>");
  in_vocab(s.transcribe_task, "task_to_id.transcribe");
  in_vocab(s.translate_task, "task_to_id.translate");
  if (s.no_timestamps && (*s.no_timestamps + 1 >= info.vocab_size))
    fail("{}: no_timestamps_token_id {} leaves no timestamp tokens in the vocabulary of {}", gc_path, *s.no_timestamps,
         info.vocab_size);
  return s;
}

WhisperTokenInfo WhisperSetup::token_info(int64_t vocab_size) const {
  WhisperTokenInfo t;
  t.timestamp_begin = no_timestamps ? *no_timestamps + 1 : int32_t(vocab_size);
  t.time_precision = time_precision();
  for (int32_t id = eos; id < t.timestamp_begin; ++id) t.special_ids.push_back(id);
  for (auto id : {std::optional<int32_t>(decoder_start), std::optional<int32_t>(eos), no_timestamps, transcribe_task,
                  translate_task})
    if (id) t.special_ids.push_back(*id);
  for (const auto& [id, code] : languages) t.special_ids.push_back(id);
  std::sort(t.special_ids.begin(), t.special_ids.end());
  t.special_ids.erase(std::unique(t.special_ids.begin(), t.special_ids.end()), t.special_ids.end());
  t.languages = languages;
  return t;
}

Transcript transcribe(const Model& model, const WhisperSetup& setup, const Tokenizer* tok, const Audio& audio,
                      const TranscriptionOptions& opt) {
  const WhisperFeatureOptions& fo = setup.features;
  const int64_t rate = fo.sampling_rate;
  if (!(opt.chunk_length > 0 && opt.chunk_length <= double(fo.chunk_length)))
    fail("chunk length {} s: must be positive and at most the model's window of {} s", opt.chunk_length,
         fo.chunk_length);
  const double stride_s = opt.stride_length.value_or(opt.chunk_length / 6);
  const int64_t chunk_len = int64_t(std::nearbyint(opt.chunk_length * double(rate)));
  const int64_t stride = int64_t(std::nearbyint(stride_s * double(rate)));
  if (!(stride_s >= 0) || chunk_len <= 2 * stride)
    fail("stride length {} s: must be >= 0 and leave room in the {} s window for both strides", stride_s,
         opt.chunk_length);
  if (opt.task != "transcribe" && opt.task != "translate")
    fail("task '{}': must be transcribe or translate", opt.task);
  if (opt.timestamps && !setup.no_timestamps)
    fail("{}: timestamps need no_timestamps_token_id in generation_config.json (or <|notimestamps|> in tokenizer.json)",
         model.info().dir);

  const std::vector<float> samples =
      audio.sample_rate == rate ? audio.samples : resample(audio.samples, audio.sample_rate, rate);
  Transcript result;
  result.duration = double(samples.size()) / double(rate);
  const std::vector<AudioWindow> plan = plan_audio_windows(int64_t(samples.size()), chunk_len, stride, stride);

  // The language token asked for, if any: from generation_config's lang_to_id, else the tokenizer.
  std::optional<int32_t> fixed_lang;
  if (!opt.language.empty()) {
    for (const auto& [id, code] : setup.languages)
      if (code == opt.language) fixed_lang = id;
    if (!fixed_lang && tok) fixed_lang = tok->token_to_id("<|" + opt.language + "|>");
    if (!fixed_lang) fail("{}: the model has no language token <|{}|>", model.info().dir, opt.language);
  }
  const std::optional<int32_t> task_id = opt.task == "translate" ? setup.translate_task : setup.transcribe_task;

  BeamSearchOptions base = BeamSearchOptions::for_model(model);
  base.num_beams = opt.num_beams;
  base.num_return_sequences = 1;
  std::vector<WindowTokens> outputs;
  auto session = model.new_session();
  for (const AudioWindow& w : plan) {
    session->reset();
    const std::span<const float> piece(samples.data() + w.begin, size_t(w.end - w.begin));
    model.set_source_features(*session, whisper_log_mel(piece, fo));

    // Decoder prompt: <|startoftranscript|> [<|lang|> <|task|>] [<|notimestamps|>].
    std::vector<int32_t> prompt{setup.decoder_start};
    std::optional<int32_t> lang = fixed_lang;
    if (!lang && !setup.languages.empty()) {
      // Whisper's language detection: the most likely language token after the start token.
      Tensor logits;
      auto probe = session->clone();
      model.decode(*probe, prompt, logits, false);
      float best = -INFINITY;
      for (const auto& [id, code] : setup.languages)
        if (id < logits.dim(1) && logits.data<float>()[id] > best) best = logits.data<float>()[id], lang = id;
    }
    if (lang) {
      prompt.push_back(*lang);
      if (task_id) prompt.push_back(*task_id);
    }
    if (!opt.timestamps && setup.no_timestamps) prompt.push_back(*setup.no_timestamps);

    BeamSearchOptions bo = base;
    const int64_t room = session->capacity() - int64_t(prompt.size()) + 1;
    if (room < 1) fail("{}: the decoder prompt of {} tokens fills the {} decoder positions", model.info().dir,
                       prompt.size(), session->capacity());
    bo.max_new_tokens = std::min(opt.max_new_tokens > 0 ? opt.max_new_tokens : room, room);
    if (opt.timestamps) {
      WhisperTimestampRules rules;
      rules.no_timestamps_token_id = *setup.no_timestamps;
      rules.eos_token_id = setup.eos;
      rules.begin_index = int64_t(prompt.size());
      rules.max_initial_timestamp_index = setup.max_initial_timestamp_index;
      bo.logits_processor = [rules](std::span<const int32_t> seq, std::span<float> lp) { rules.apply(seq, lp); };
    }
    auto found = beam_search(model, *session, prompt, bo);
    WindowTokens out;
    out.tokens = prompt;  // as HF's generate returns them: the prompt tells the merge the language
    const auto& gen = found.hypotheses.at(0).tokens;
    out.tokens.insert(out.tokens.end(), gen.begin(), gen.end());
    out.length = double(w.end - w.begin) / double(rate);
    out.stride_left = double(w.stride_left) / double(rate);
    out.stride_right = double(w.stride_right) / double(rate);
    outputs.push_back(std::move(out));
    ++result.windows;
    if (opt.on_window) opt.on_window(result.windows, int64_t(plan.size()));
  }

  for (TimedSegment& s : merge_window_tokens(outputs, setup.token_info(model.info().vocab_size), opt.timestamps)) {
    TranscriptSegment t;
    t.start = s.start;
    t.end = s.end;
    t.tokens = std::move(s.tokens);
    t.language = std::move(s.language);
    if (tok) t.text = tok->decode(t.tokens, /*skip_special_tokens=*/false);
    result.text += t.text;
    result.segments.push_back(std::move(t));
  }
  return result;
}

}  // namespace tessera
