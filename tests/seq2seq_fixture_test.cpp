// Ring 2 for encoder-decoders (T5, BART, Marian, Whisper): every fixture whose meta.json kind
// is "encoder-decoder" or "speech-encoder-decoder" run through tessera-forward: logits and
// encoder_last_hidden_state (real positions only) within 1e-4 × max(1, max |reference|), and
// greedy generation from the decoder start token identical.
#include "fixture_util.hpp"

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
  Diff d = compare(got.get("logits"), ref.get("logits"));
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
