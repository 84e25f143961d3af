// Ring 2 for decoders: every decoder fixture (Hugging Face's in tests/data/hf, our PyTorch
// re-implementation's in tests/data/torch) run through tessera-forward: logits within
// 1e-4 × max(1, max |reference|) and greedy generation token-identical.
#include "fixture_util.hpp"

using namespace tessera;
using namespace tessera::testing;

class DecoderFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(DecoderFixture, MatchesReference) {
  const std::string dir = data_dir() + "/" + GetParam();
  check_decoder_against_reference(dir, dir, ::testing::TempDir() + "/" + test_name(GetParam()) + ".out.safetensors", GetParam());
}

INSTANTIATE_TEST_SUITE_P(All, DecoderFixture, ::testing::ValuesIn(fixture_dirs("decoder")),
                         [](const auto& info) { return test_name(info.param); });
