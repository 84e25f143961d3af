// Ring 3: the bundled trained model (pycode-6m, bf16 weights) end to end against the
// PyTorch figures in its reference.safetensors: logits, held-out NLL and the greedy
// continuation of "def fibonacci(n):\n".
#include <cmath>
#include <cstdio>

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
  auto session = model->new_session({.kv_type = DType::F32});
  Tensor logits;
  model->decode(*session, ids, logits, true);
  Tensor expected = ref.get("eval_logits");
  Diff d = compare(logits.reshaped(expected.shape()), expected);
  EXPECT_LE(d.max_abs_diff, 1e-4 * std::max(1.0, d.max_abs_ref)) << "max |logit diff| " << d.max_abs_diff;

  const double nll = mean_next_token_nll(logits, ids, model->info().vocab_size);
  const double expected_nll = ref.get("eval_nll").get_f32(0);
  EXPECT_NEAR(nll, expected_nll, 2e-3);
}

// The smaller KV caches against the same PyTorch figures (f32 throughout): f16 and bf16
// logits within 2e-3 relative, and the NLL of eval_ids with every cache type within 0.01 of
// PyTorch's (reference.safetensors' eval_nll, meta.json's reference.eval_nll_value).
TEST(Pycode, SmallerKvCachesStayCloseToTheReference) {
  auto model = load(kModel);
  auto ref = SafetensorsFile::open(kModel + "/reference.safetensors");
  std::vector<int64_t> ids64 = ref.get("eval_ids").to_i64();
  std::vector<int32_t> ids(ids64.begin(), ids64.end());
  Tensor expected = ref.get("eval_logits");
  const double expected_nll = ref.get("eval_nll").get_f32(0);
  for (DType t : {DType::F16, DType::BF16, DType::Q8_0}) {
    auto session = model->new_session({.kv_type = t});
    Tensor logits;
    model->decode(*session, ids, logits, true);
    Diff d = compare(logits.reshaped(expected.shape()), expected);
    const double nll = mean_next_token_nll(logits, ids, model->info().vocab_size);
    std::printf("[ kv cache ] %s: max |logit diff| %.3g (reference max %.3g), NLL %.5f (reference %.5f)\n",
                std::string(dtype_name(t)).c_str(), d.max_abs_diff, d.max_abs_ref, nll, expected_nll);
    if (t == DType::F16) {
      EXPECT_LE(d.max_abs_diff, 2e-3 * std::max(1.0, d.max_abs_ref)) << dtype_name(t);
    }
    EXPECT_NEAR(nll, expected_nll, 0.01) << dtype_name(t);
  }
}

// Greedy continuation with the exact cache and the default f16 one.
TEST(Pycode, GreedyContinuationIsTokenIdentical) {
  auto model = load(kModel);
  auto ref = SafetensorsFile::open(kModel + "/reference.safetensors");
  std::vector<int64_t> prompt64 = ref.get("prompt_ids").to_i64(), want = ref.get("generated_ids").to_i64();
  std::vector<int32_t> prompt(prompt64.begin(), prompt64.end());
  GenerationOptions opt;
  opt.max_new_tokens = int64_t(want.size() - prompt.size());
  opt.min_new_tokens = opt.max_new_tokens;  // as the reference: EOS suppressed
  opt.eos_token_ids = model->info().eos_token_ids;
  for (DType t : {DType::F32, DType::F16}) {
    auto session = model->new_session({.kv_type = t});
    auto result = generate(*model, *session, prompt, opt);
    std::vector<int64_t> got(prompt64);
    got.insert(got.end(), result.tokens.begin(), result.tokens.end());
    EXPECT_EQ(got, want) << dtype_name(t);
  }
}

// The same continuation through the prefill-all-at-once path and the one-token-at-a-time
// path must agree, with every cache type. The f32 cache changes nothing (1e-4). A smaller
// cache rounds each key/value once, and the two paths' projections differ in the last f32
// bits (a 40-row GEMM against a 1-row one), which can move a value across a rounding
// boundary: one f16 step is 2^-11 relative, a bf16 step 2^-8, a q8_0 step amax/127 of its
// block; the bounds allow that for a few values (logits here are within ±25; measured on
// this machine: f16 8e-4, bf16 1e-3, q8_0 8e-3), and a row read from the wrong position
// would move logits by whole units.
TEST(Pycode, IncrementalDecodeEqualsFullPrefill) {
  auto model = load(kModel);
  auto ref = SafetensorsFile::open(kModel + "/reference.safetensors");
  std::vector<int64_t> ids64 = ref.get("eval_ids").to_i64();
  std::vector<int32_t> ids(ids64.begin(), ids64.begin() + 40);
  for (auto [t, tol] : {std::pair{DType::F32, 1e-4}, std::pair{DType::F16, 5e-3}, std::pair{DType::BF16, 5e-2},
                        std::pair{DType::Q8_0, 5e-2}}) {
    auto full = model->new_session({.kv_type = t});
    Tensor all;
    model->decode(*full, ids, all, true);
    auto step = model->new_session({.kv_type = t});
    const int64_t v = model->info().vocab_size;
    double worst = 0;
    for (size_t i = 0; i < ids.size(); ++i) {
      Tensor one;
      model->decode(*step, std::span<const int32_t>(&ids[i], 1), one, false);
      for (int64_t j = 0; j < v; ++j)
        worst = std::max(worst, double(std::abs(one.data<float>()[j] - all.data<float>()[int64_t(i) * v + j])));
    }
    std::printf("[ kv cache ] %s: max |incremental - prefill| %.3g\n", std::string(dtype_name(t)).c_str(), worst);
    EXPECT_LE(worst, tol) << dtype_name(t);
  }
}
