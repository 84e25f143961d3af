// Ring 3: the bundled trained model (pycode-6m, bf16 weights) end to end against the
// PyTorch figures in its reference.safetensors: logits, held-out NLL and the greedy
// continuation of "def fibonacci(n):\n".
#include <cmath>

#include "fixture_util.hpp"
#include "tessera/generation/generate.hpp"
#include "tessera/models/model.hpp"

using namespace tessera;
using namespace tessera::testing;

namespace {
const std::string kModel = std::string(TESSERA_MODELS_DIR) + "/pycode-6m";
}

TEST(Pycode, LogitsAndHeldOutNll) {
  auto model = load(kModel);
  auto ref = SafetensorsFile::open(kModel + "/reference.safetensors");
  std::vector<int64_t> ids64 = ref.get("eval_ids").to_i64();
  std::vector<int32_t> ids(ids64.begin(), ids64.end());
  auto session = model->new_session();
  Tensor logits;
  model->decode(*session, ids, logits, true);
  Tensor expected = ref.get("eval_logits");
  Diff d = compare(logits.reshaped(expected.shape()), expected);
  EXPECT_LE(d.max_abs_diff, 1e-4 * std::max(1.0, d.max_abs_ref)) << "max |logit diff| " << d.max_abs_diff;

  const double nll = mean_next_token_nll(logits, ids, model->info().vocab_size);
  const double expected_nll = ref.get("eval_nll").get_f32(0);
  EXPECT_NEAR(nll, expected_nll, 2e-3);
}

TEST(Pycode, GreedyContinuationIsTokenIdentical) {
  auto model = load(kModel);
  auto ref = SafetensorsFile::open(kModel + "/reference.safetensors");
  std::vector<int64_t> prompt64 = ref.get("prompt_ids").to_i64(), want = ref.get("generated_ids").to_i64();
  std::vector<int32_t> prompt(prompt64.begin(), prompt64.end());
  GenerationOptions opt;
  opt.max_new_tokens = int64_t(want.size() - prompt.size());
  opt.min_new_tokens = opt.max_new_tokens;  // as the reference: EOS suppressed
  opt.eos_token_ids = model->info().eos_token_ids;
  auto session = model->new_session();
  auto result = generate(*model, *session, prompt, opt);
  std::vector<int64_t> got(prompt64);
  got.insert(got.end(), result.tokens.begin(), result.tokens.end());
  EXPECT_EQ(got, want);
}

// The same continuation through the prefill-all-at-once path and the one-token-at-a-time
// path must agree: the KV cache changes nothing.
TEST(Pycode, IncrementalDecodeEqualsFullPrefill) {
  auto model = load(kModel);
  auto ref = SafetensorsFile::open(kModel + "/reference.safetensors");
  std::vector<int64_t> ids64 = ref.get("eval_ids").to_i64();
  std::vector<int32_t> ids(ids64.begin(), ids64.begin() + 40);
  auto full = model->new_session();
  Tensor all;
  model->decode(*full, ids, all, true);
  auto step = model->new_session();
  const int64_t v = model->info().vocab_size;
  for (size_t i = 0; i < ids.size(); ++i) {
    Tensor one;
    model->decode(*step, std::span<const int32_t>(&ids[i], 1), one, false);
    for (int64_t j = 0; j < v; ++j)
      ASSERT_NEAR(one.data<float>()[j], all.data<float>()[int64_t(i) * v + j], 1e-4) << "position " << i;
  }
}
