// Ring 2 for decoders: every decoder fixture (Hugging Face's in tests/data/hf, our PyTorch
// re-implementation's in tests/data/torch) run through tessera-forward: logits within
// 1e-4 × max(1, max |reference|) with the f32 KV cache, 2e-3 with the default f16 cache, and
// greedy generation token-identical with both.
#include "fixture_util.hpp"

using namespace tessera;
using namespace tessera::testing;

class DecoderFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(DecoderFixture, MatchesReference) {
  const std::string dir = data_dir() + "/" + GetParam();
  check_decoder_against_reference(dir, dir, ::testing::TempDir() + "/" + test_name(GetParam()) + ".out.safetensors", GetParam());
}

TEST_P(DecoderFixture, MatchesReferenceWithF16Cache) {
  const std::string dir = data_dir() + "/" + GetParam();
  check_decoder_against_reference(dir, dir, ::testing::TempDir() + "/" + test_name(GetParam()) + ".f16.out.safetensors",
                                  GetParam(), "f16");
}

INSTANTIATE_TEST_SUITE_P(All, DecoderFixture, ::testing::ValuesIn(fixture_dirs("decoder")),
                         [](const auto& info) { return test_name(info.param); });
