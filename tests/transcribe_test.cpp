// tessera-transcribe end to end on the tiny random Whisper fixture (tests/data/hf/whisper), made
// into a checkpoint directory with Whisper's token layout: text 0..979, <|endoftext|> 980,
// <|startoftranscript|> 981, <|en|> 982, <|de|> 983, <|translate|> 984, <|transcribe|> 985,
// <|notimestamps|> 996, timestamps 997..1012. Its encoder takes 30 frames (15 positions), so the
// preprocessor hops 16000 samples: a 30 s window is 30 frames and a timestamp step is 30 s / 15 =
// 2 s. A 70 s WAV at 44.1 kHz must be resampled and decoded in the three windows Hugging Face's
// pipeline cuts (0–30, 20–50, 40–70 s), and the SRT / WebVTT / JSON it writes must parse. The
// model is random, so what it says is not checked; how it is laid out is. Unusable inputs exit 1
// with a message naming what is wrong.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>

#include "fixture_util.hpp"
#include "tessera/audio/wav.hpp"

using namespace tessera;
using namespace tessera::testing;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }

// ctest runs each TEST as its own process, several at once: each gets its own scratch folder.
std::string scratch() {
  static const std::string dir = [] {
    const fs::path d = fs::path(::testing::TempDir()) / ("tessera_transcribe_" + std::to_string(getpid()));
    fs::remove_all(d);
    fs::create_directories(d);
    return d.string();
  }();
  return dir;
}

// The fixture as a Whisper checkpoint directory; `edit` may change generation_config.json.
std::string make_model(const std::string& name, const std::function<void(json&)>& edit = {}, bool tokenizer = true) {
  const fs::path dir = fs::path(scratch()) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string src = data_dir() + "/hf/whisper";
  fs::create_symlink(fs::absolute(src + "/model.safetensors"), dir / "model.safetensors");
  json cfg = load_json_file(src + "/config.json");
  cfg["bos_token_id"] = cfg["eos_token_id"] = cfg["pad_token_id"] = 980;
  cfg["decoder_start_token_id"] = 981;
  write(dir / "config.json", cfg.dump(1));
  json gen = {{"decoder_start_token_id", 981}, {"eos_token_id", 980}, {"pad_token_id", 980},
              {"no_timestamps_token_id", 996}, {"lang_to_id", {{"<|en|>", 982}, {"<|de|>", 983}}},
              {"task_to_id", {{"translate", 984}, {"transcribe", 985}}}, {"max_initial_timestamp_index", 3}};
  if (edit) edit(gen);
  write(dir / "generation_config.json", gen.dump(1));
  write(dir / "preprocessor_config.json",
        json{{"feature_size", 80}, {"sampling_rate", 16000}, {"hop_length", 16000}, {"n_fft", 400}, {"chunk_length", 30}}.dump());
  // Word-level vocabulary "w0".."w979" plus the control tokens as special added tokens.
  json vocab = json::object(), added = json::array();
  for (int i = 0; i < 980; ++i) vocab[fmt::format("w{}", i)] = i;
  auto special = [&](int id, const std::string& s) {
    vocab[s] = id;
    added.push_back({{"id", id}, {"content", s}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
                     {"normalized", false}, {"special", true}});
  };
  special(980, "<|endoftext|>");
  special(981, "<|startoftranscript|>");
  special(982, "<|en|>");
  special(983, "<|de|>");
  special(984, "<|translate|>");
  special(985, "<|transcribe|>");
  for (int i = 986; i < 996; ++i) special(i, "<|special" + std::to_string(i) + "|>");
  special(996, "<|notimestamps|>");
  for (int i = 997; i < 1013; ++i) vocab[fmt::format("<|{:.2f}|>", 2.0 * (i - 997))] = i;
  json tok = {{"version", "1.0"}, {"added_tokens", added}, {"pre_tokenizer", {{"type", "WhitespaceSplit"}}},
              {"model", {{"type", "WordLevel"}, {"vocab", vocab}, {"unk_token", "w0"}}}};
  if (tokenizer) write(dir / "tokenizer.json", tok.dump());
  return dir.string();
}

std::string make_wav(const std::string& name, int64_t rate, double seconds) {
  const std::string path = scratch() + "/" + name;
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0.0f, 0.05f);
  std::vector<float> x(size_t(std::llround(seconds * double(rate))));
  for (size_t i = 0; i < x.size(); ++i) {
    const double t = double(i) / double(rate);
    x[i] = float(0.3 * std::sin(2 * M_PI * 440 * t) * (0.5 + 0.5 * std::sin(2 * M_PI * 0.1 * t))) + noise(rng);
  }
  write_wav(path, x, rate);
  return path;
}

struct ToolRun {
  int rc = -1;
  std::string out;  // stdout and stderr
};
ToolRun run(const std::string& args) {
  const std::string log = scratch() + "/transcribe_run.log";
  const int st = std::system((bin("transcribe") + " " + args + " > " + log + " 2>&1").c_str());
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, read_text_file(log)};
}

double parse_time(const std::string& h, const std::string& m, const std::string& s, const std::string& ms) {
  return std::stod(h) * 3600 + std::stod(m) * 60 + std::stod(s) + std::stod(ms) / 1000;
}

// Cues of an SRT (numbered) or WebVTT (after the header) file, checked line by line.
struct Cue {
  double start, end;
  std::string text;
};
std::vector<Cue> parse_cues(const std::string& file, bool vtt) {
  std::istringstream in(file);
  std::string line;
  if (vtt) {
    std::getline(in, line);
    EXPECT_EQ(line, "WEBVTT");
    std::getline(in, line);
    EXPECT_EQ(line, "");
  }
  const std::regex times(vtt ? R"((\d{2,}):(\d{2}):(\d{2})\.(\d{3}) --> (\d{2,}):(\d{2}):(\d{2})\.(\d{3}))"
                             : R"((\d{2,}):(\d{2}):(\d{2}),(\d{3}) --> (\d{2,}):(\d{2}):(\d{2}),(\d{3}))");
  std::vector<Cue> cues;
  while (std::getline(in, line)) {
    if (!vtt) {
      EXPECT_EQ(line, std::to_string(cues.size() + 1)) << "SRT cue number";
      if (!std::getline(in, line)) break;
    }
    std::smatch m;
    if (!std::regex_match(line, m, times)) {
      ADD_FAILURE() << "not a cue time line: '" << line << "'";
      break;
    }
    Cue c{parse_time(m[1], m[2], m[3], m[4]), parse_time(m[5], m[6], m[7], m[8]), ""};
    while (std::getline(in, line) && !line.empty()) c.text += (c.text.empty() ? "" : "\n") + line;
    EXPECT_FALSE(c.text.empty()) << "cue without text";
    cues.push_back(c);
  }
  return cues;
}

class Transcribe : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_ = new std::string(make_model("whisper_long_form_model"));
    wav_ = new std::string(make_wav("speech70s_44k.wav", 44100, 70.0));
  }
  static void TearDownTestSuite() {
    delete model_;
    delete wav_;
    fs::remove_all(scratch());
  }
  static std::string* model_;
  static std::string* wav_;
};
std::string* Transcribe::model_ = nullptr;
std::string* Transcribe::wav_ = nullptr;

TEST_F(Transcribe, LongWavAt44kHzRunsThreeWindowsAndWritesParsableSubtitles) {
  const std::string out = scratch() + "/t70";
  ToolRun j = run(*model_ + " " + *wav_ + " --output-format json -o " + out + ".json -t 2");
  ASSERT_EQ(j.rc, 0) << j.out;
  const json r = load_json_file(out + ".json");
  EXPECT_EQ(r["windows"], 3);       // 0–30, 20–50, 40–70 s
  EXPECT_EQ(r["duration"], 70.0);   // 3,087,000 samples at 44.1 kHz → 1,120,000 at 16 kHz
  ASSERT_FALSE(r["chunks"].empty());
  size_t with_text = 0;
  std::string all;
  for (const auto& c : r["chunks"]) {
    const auto& ts = c["timestamp"];
    ASSERT_EQ(ts.size(), 2u);
    ASSERT_TRUE(ts[0].is_number()) << c.dump();
    const double start = ts[0];
    EXPECT_GE(start, 0.0);
    EXPECT_LE(start, 70.0);
    // Every time is a timestamp step (2 s) plus a window start (0, 20 or 40 s): an even number.
    EXPECT_EQ(std::fmod(start, 2.0), 0.0) << start;
    if (!ts[1].is_null()) {
      EXPECT_GE(double(ts[1]), start);
      EXPECT_LE(double(ts[1]), 70.0);
    }
    // Detected per window among lang_to_id's <|en|> and <|de|> (which one is the random model's whim).
    EXPECT_TRUE(c["language"] == "en" || c["language"] == "de") << c.dump();
    for (const auto& t : c["tokens"]) EXPECT_LT(int(t), 980) << "a control or timestamp token in the text";
    with_text += !c["text"].get<std::string>().empty();
    all += c["text"].get<std::string>();
  }
  EXPECT_EQ(r["text"], all);

  ToolRun s = run(*model_ + " " + *wav_ + " --output-format srt -o " + out + ".srt");
  ASSERT_EQ(s.rc, 0) << s.out;
  auto srt = parse_cues(read_text_file(out + ".srt"), false);
  ToolRun v = run(*model_ + " " + *wav_ + " -f vtt -o " + out + ".vtt");
  ASSERT_EQ(v.rc, 0) << v.out;
  auto vtt = parse_cues(read_text_file(out + ".vtt"), true);
  EXPECT_EQ(srt.size(), with_text);  // one cue per segment with text
  ASSERT_EQ(vtt.size(), srt.size());
  for (size_t i = 0; i < srt.size(); ++i) {
    EXPECT_LE(srt[i].start, srt[i].end) << i;
    EXPECT_LE(srt[i].end, 70.0) << i;
    EXPECT_EQ(srt[i].start, vtt[i].start) << i;
    EXPECT_EQ(srt[i].end, vtt[i].end) << i;
    EXPECT_EQ(srt[i].text, vtt[i].text) << i;
    EXPECT_TRUE(std::regex_match(srt[i].text, std::regex(R"(w\d+( w\d+)*)"))) << srt[i].text;
  }
}

TEST_F(Transcribe, ShortClipAt8kHzIsOneWindow) {
  const std::string wav = make_wav("clip8k.wav", 8000, 7.5);
  const std::string out = scratch() + "/clip8k.json";
  ToolRun j = run(*model_ + " " + wav + " -f json -o " + out);
  ASSERT_EQ(j.rc, 0) << j.out;
  const json r = load_json_file(out);
  EXPECT_EQ(r["windows"], 1);
  EXPECT_EQ(r["duration"], 7.5);
  // Plain text, no timestamps: one line.
  ToolRun t = run(*model_ + " " + wav);
  ASSERT_EQ(t.rc, 0) << t.out;
  EXPECT_EQ(std::count(t.out.begin(), t.out.end(), '\n'), 1) << t.out;
}

TEST_F(Transcribe, ChunkLengthSetsTheWindows) {
  // 10 s windows with 2 s strides step by 6 s: 0, 6, ..., 60 s → 11 windows for 70 s.
  const std::string out = scratch() + "/chunk10.json";
  ToolRun j = run(*model_ + " " + *wav_ + " -f json --chunk-length 10 --stride-length 2 -o " + out);
  ASSERT_EQ(j.rc, 0) << j.out;
  EXPECT_EQ(load_json_file(out)["windows"], 11);
  // Windows shorter than 30 s are padded; a time the model puts in the padding is cut to the audio.
  ToolRun s = run(*model_ + " " + *wav_ + " -f srt --chunk-length 10 --stride-length 2 -o " + out + ".srt");
  ASSERT_EQ(s.rc, 0) << s.out;
  for (const Cue& c : parse_cues(read_text_file(out + ".srt"), false)) {
    EXPECT_LE(c.start, c.end);
    EXPECT_LE(c.end, 70.0);
  }
}

void expect_error(const ToolRun& r, std::initializer_list<const char*> fragments) {
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("tessera-transcribe: error:"), std::string::npos) << r.out;
  for (const char* f : fragments) EXPECT_NE(r.out.find(f), std::string::npos) << "missing '" << f << "' in: " << r.out;
}

TEST_F(Transcribe, UnusableInputsAreClearErrors) {
  expect_error(run(*model_ + " " + *wav_ + " --chunk-length 40"), {"chunk length 40", "30 s"});
  expect_error(run(*model_ + " " + *wav_ + " --stride-length 15"), {"stride length 15"});
  expect_error(run(*model_ + " " + *wav_ + " --language fr"), {"<|fr|>"});
  const std::string junk = scratch() + "/junk.wav";
  write(junk, std::string("RIFF\x04\0\0\0WAVEjunk", 16));
  expect_error(run(*model_ + " " + junk), {"junk.wav", "fmt chunk"});
  const std::string empty = scratch() + "/empty.wav";
  write_wav(empty, {}, 44100);
  expect_error(run(*model_ + " " + empty), {"empty.wav", "no audio samples"});
  expect_error(run(*model_ + " /nonexistent.wav"), {"/nonexistent.wav"});
  // A model that is not Whisper.
  expect_error(run(data_dir() + "/hf/bart " + *wav_), {"Whisper", "bart"});
  // Broken generation_config.json fields.
  expect_error(run(make_model("bad_lang", [](json& g) { g["lang_to_id"] = json::array({1}); }) + " " + *wav_),
               {"generation_config.json", "lang_to_id"});
  expect_error(run(make_model("bad_ts", [](json& g) { g["no_timestamps_token_id"] = 1012; }) + " " + *wav_ + " -f srt"),
               {"generation_config.json", "no_timestamps_token_id 1012", "1013"});
  expect_error(run(make_model("big_lang", [](json& g) { g["lang_to_id"]["<|fr|>"] = 5000; }) + " " + *wav_),
               {"generation_config.json", "lang_to_id.<|fr|>", "5000", "1013"});
  expect_error(run(make_model("str_task", [](json& g) { g["task_to_id"]["transcribe"] = "x"; }) + " " + *wav_),
               {"generation_config.json", "task_to_id.transcribe", "\"x\""});
  expect_error(run(make_model("neg_ts", [](json& g) { g["no_timestamps_token_id"] = -5; }) + " " + *wav_),
               {"no_timestamps_token_id", "-5"});
  expect_error(run(make_model("no_ts", [](json& g) { g.erase("no_timestamps_token_id"); }, false) + " " + *wav_ + " -f vtt"),
               {"timestamps need no_timestamps_token_id"});
}

}  // namespace
