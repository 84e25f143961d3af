// Ring 2 for decoders: every decoder fixture (Hugging Face's in tests/data/hf, our PyTorch
// re-implementation's in tests/data/torch) run through tessera-forward: logits within
// 1e-4 × max(1, max |reference|) and greedy generation token-identical.
#include "fixture_util.hpp"

using namespace tessera;
using namespace tessera::testing;

class DecoderFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(DecoderFixture, MatchesReference) {
  const std::string dir = data_dir() + "/" + GetParam();
  const std::string out = ::testing::TempDir() + "/" + test_name(GetParam()) + ".out.safetensors";
  auto ref = SafetensorsFile::open(dir + "/reference.safetensors");
  std::string cmd = bin("forward") + " " + dir + " " + dir + "/reference.safetensors " + out;
  int64_t new_tokens = -1;
  if (ref.has("generated_ids") && ref.has("prompt_ids")) {
    new_tokens = ref.get("generated_ids").dim(1) - ref.get("prompt_ids").dim(1);
    cmd += " --generate " + std::to_string(new_tokens);
  }
  run_ok(cmd);
  if (HasFatalFailure()) return;
  auto got = SafetensorsFile::open(out);

  ASSERT_TRUE(ref.has("logits"));
  std::vector<int64_t> mask;
  if (ref.has("attention_mask")) mask = ref.get("attention_mask").to_i64();
  Diff d = compare(got.get("logits"), ref.get("logits"), mask);
  const double tol = 1e-4 * std::max(1.0, d.max_abs_ref);
  EXPECT_LE(d.max_abs_diff, tol) << GetParam() << ": max |logit diff| " << d.max_abs_diff << " (reference max "
                                 << d.max_abs_ref << ")";
  if (new_tokens >= 0) {
    EXPECT_EQ(got.get("generated_ids").to_i64(), ref.get("generated_ids").to_i64()) << GetParam();
  }
}

INSTANTIATE_TEST_SUITE_P(All, DecoderFixture, ::testing::ValuesIn(fixture_dirs("decoder")),
                         [](const auto& info) { return test_name(info.param); });
