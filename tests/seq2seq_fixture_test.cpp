// Ring 2 for encoder-decoders (T5, mT5, BART, Marian, mBART, Pegasus, Whisper): every fixture
// whose meta.json kind is "encoder-decoder" or "speech-encoder-decoder" run through
// tessera-forward: logits (real decoder positions only, where the fixture has a
// decoder_attention_mask) and encoder_last_hidden_state (real positions only) within
// 1e-4 × max(1, max |reference|), and greedy generation from the decoder start token identical.
#include <filesystem>
#include <fstream>

#include "fixture_util.hpp"
#include "tessera/generation/beam_search.hpp"
#include "tessera/generation/generate.hpp"

using namespace tessera;
using namespace tessera::testing;

namespace {
std::vector<std::string> seq2seq_fixtures() {
  auto a = fixture_dirs("encoder-decoder");
  auto b = fixture_dirs("speech-encoder-decoder");
  a.insert(a.end(), b.begin(), b.end());
  return a;
}
}  // namespace

class Seq2SeqFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(Seq2SeqFixture, MatchesReference) {
  const std::string dir = data_dir() + "/" + GetParam();
  const std::string out = ::testing::TempDir() + "/" + test_name(GetParam()) + ".out.safetensors";
  auto ref = SafetensorsFile::open(dir + "/reference.safetensors");
  std::string cmd = bin("forward") + " " + dir + " " + dir + "/reference.safetensors " + out + " --kv-type f32";
  int64_t new_tokens = -1;
  if (ref.has("generated_ids")) {
    new_tokens = ref.get("generated_ids").dim(1) - 1;  // the decoder start token + N new
    cmd += " --generate " + std::to_string(new_tokens);
  }
  run_ok(cmd);
  if (HasFatalFailure()) return;
  auto got = SafetensorsFile::open(out);

  ASSERT_TRUE(ref.has("logits"));
  std::vector<int64_t> dec_mask;  // a right-padded decoder row's padded positions are not compared
  if (ref.has("decoder_attention_mask")) dec_mask = ref.get("decoder_attention_mask").to_i64();
  Diff d = compare(got.get("logits"), ref.get("logits"), dec_mask);
  EXPECT_LE(d.max_abs_diff, 1e-4 * std::max(1.0, d.max_abs_ref))
      << GetParam() << ": max |logit diff| " << d.max_abs_diff << " (reference max " << d.max_abs_ref << ")";
  std::vector<int64_t> mask;
  if (ref.has("attention_mask")) mask = ref.get("attention_mask").to_i64();
  Diff e = compare(got.get("encoder_last_hidden_state"), ref.get("encoder_last_hidden_state"), mask);
  EXPECT_LE(e.max_abs_diff, 1e-4 * std::max(1.0, e.max_abs_ref))
      << GetParam() << ": max |encoder state diff| " << e.max_abs_diff << " (reference max " << e.max_abs_ref << ")";
  std::cout << "[ diff     ] " << GetParam() << ": logits " << d.max_abs_diff << ", encoder_last_hidden_state "
            << e.max_abs_diff << "\n";
  if (new_tokens >= 0) {
    EXPECT_EQ(got.get("generated_ids").to_i64(), ref.get("generated_ids").to_i64()) << GetParam();
  }
}

INSTANTIATE_TEST_SUITE_P(All, Seq2SeqFixture, ::testing::ValuesIn(seq2seq_fixtures()),
                         [](const auto& info) { return test_name(info.param); });

// Greedy through the library's other two paths: sampling restricted to the most likely token
// (top_k 1) and beam search with one beam must reproduce the reference's greedy ids for every
// text encoder-decoder fixture, with forced_bos_token_id (mBART-50's language code) read from
// the model's files as Hugging Face's generate() does.
class Seq2SeqGenerationPaths : public ::testing::TestWithParam<std::string> {};

TEST_P(Seq2SeqGenerationPaths, SamplingTopOneAndOneBeamGiveTheReferenceGreedyIds) {
  const std::string dir = data_dir() + "/" + GetParam();
  auto ref = SafetensorsFile::open(dir + "/reference.safetensors");
  if (!ref.has("generated_ids") || !ref.has("input_ids")) GTEST_SKIP() << "no text generation reference";
  const std::vector<int64_t> want = ref.get("generated_ids").to_i64();
  const Tensor ids = ref.get("input_ids");
  std::vector<int64_t> all = ids.to_i64(), mask;
  if (ref.has("attention_mask")) mask = ref.get("attention_mask").to_i64();
  std::vector<int32_t> source;  // row 0, real tokens only
  for (int64_t i = 0; i < ids.dim(1); ++i)
    if (mask.empty() || mask[size_t(i)] != 0) source.push_back(int32_t(all[size_t(i)]));
  auto model = load(dir);
  const int64_t n = int64_t(want.size()) - 1;
  std::vector<int32_t> prompt{int32_t(want[0])};

  GenerationOptions g = GenerationOptions::for_model(*model);
  g.max_new_tokens = n;
  g.eos_token_ids.clear();
  g.sampling = SamplingOptions{};
  g.sampling.do_sample = true;
  g.sampling.top_k = 1;
  g.sampling.seed = 7;
  auto session = model->new_session({.max_context = n + 1, .kv_type = DType::F32});
  model->set_source(*session, source);
  auto r = generate(*model, *session, prompt, g);
  std::vector<int64_t> got{want[0]};
  got.insert(got.end(), r.tokens.begin(), r.tokens.end());
  EXPECT_EQ(got, want) << GetParam() << ": sampling with top_k 1";

  BeamSearchOptions b = BeamSearchOptions::for_model(*model);
  b.num_beams = 1;
  b.num_return_sequences = 1;
  b.max_new_tokens = n;
  b.eos_token_ids.clear();
  b.forced_eos_token_id.reset();
  b.no_repeat_ngram_size = 0;
  b.repetition_penalty = 1.0f;
  b.min_length = 0;
  b.min_new_tokens = 0;
  auto session2 = model->new_session({.max_context = n + 1, .kv_type = DType::F32});
  model->set_source(*session2, source);
  auto beams = beam_search(*model, *session2, prompt, b);
  ASSERT_EQ(beams.hypotheses.size(), 1u);
  std::vector<int64_t> got_beam{want[0]};
  got_beam.insert(got_beam.end(), beams.hypotheses[0].tokens.begin(), beams.hypotheses[0].tokens.end());
  EXPECT_EQ(got_beam, want) << GetParam() << ": beam search with one beam";
}

INSTANTIATE_TEST_SUITE_P(All, Seq2SeqGenerationPaths, ::testing::ValuesIn(seq2seq_fixtures()),
                         [](const auto& info) { return test_name(info.param); });

// mBART-50's forced language code must be a token of the vocabulary: an Error naming the
// field, not an out-of-bounds write.
TEST(Seq2SeqForcedBos, OutOfVocabularyIsAnError) {
  auto model = load(data_dir() + "/torch/mbart-50-forcedbos-v5cfg");
  GenerationOptions g = GenerationOptions::for_model(*model);
  ASSERT_TRUE(g.forced_bos_token_id.has_value());
  EXPECT_EQ(*g.forced_bos_token_id, 305);  // generation_config.json
  g.forced_bos_token_id = 320;             // vocab_size 320
  g.max_new_tokens = 2;
  auto session = model->new_session();
  model->set_source(*session, std::vector<int32_t>{5, 6, 7});
  try {
    generate(*model, *session, std::vector<int32_t>{2}, g);
    FAIL() << "expected a tessera::Error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("forced_bos_token_id 320 is outside the vocabulary [0, 320)"), std::string::npos) << what;
  }
}

// Without decoder_start_token_id (MBartConfig has no default; mbart-large-cc25 leaves it out),
// Hugging Face's generate() starts the decoder from bos_token_id; a config with neither is an
// Error naming both fields.
TEST(Seq2SeqDecoderStart, MBartFallsBackToBosThenFails) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(::testing::TempDir()) / "mbart_no_decoder_start";
  fs::remove_all(dir);
  fs::copy(data_dir() + "/torch/mbart-cc25-langstart-v4cfg", dir);
  auto cfg = load_json_file((dir / "config.json").string());
  ASSERT_EQ(cfg["decoder_start_token_id"].get<int64_t>(), 310);
  cfg.erase("decoder_start_token_id");
  auto write = [&] { std::ofstream((dir / "config.json").string()) << cfg.dump(1); };
  write();
  EXPECT_EQ(load(dir.string())->info().decoder_start_token_id, std::optional<int64_t>(0));  // bos_token_id 0
  cfg.erase("bos_token_id");
  write();
  try {
    load(dir.string());
    FAIL() << "expected a tessera::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("neither decoder_start_token_id nor bos_token_id is set"), std::string::npos)
        << e.what();
  }
}

// A config with fewer layers than its checkpoint would silently run a smaller model: an Error
// naming the first extra tensor and the config field (both stacks, T5 and BART layouts).
TEST(Seq2SeqLayerCount, FewerLayersThanTheCheckpointIsAnError) {
  namespace fs = std::filesystem;
  struct Case {
    const char* fixture;
    const char* field;
    const char* tensor;
  };
  for (const Case& c : {Case{"torch/mbart-50-forcedbos-v5cfg", "encoder_layers", "model.encoder.layers.2."},
                        Case{"torch/pegasus-xsum-relu-v4cfg", "decoder_layers", "model.decoder.layers.1."},
                        Case{"torch/mt5-untied-v4cfg", "num_decoder_layers", "decoder.block.1."},
                        Case{"torch/mt5-untied-v4cfg", "num_layers", "encoder.block.2."}}) {
    const fs::path dir = fs::path(::testing::TempDir()) / "seq2seq_fewer_layers";
    fs::remove_all(dir);
    fs::copy(data_dir() + "/" + c.fixture, dir);
    auto cfg = load_json_file((dir / "config.json").string());
    cfg[c.field] = cfg[c.field].get<int64_t>() - 1;
    std::ofstream((dir / "config.json").string()) << cfg.dump(1);
    try {
      load(dir.string());
      ADD_FAILURE() << c.fixture << " with one " << c.field << " fewer: expected a tessera::Error";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(c.tensor), std::string::npos) << what;
      EXPECT_NE(what.find(std::string(c.field) + " = "), std::string::npos) << what;
    }
  }
}
