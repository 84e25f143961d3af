// Composing blocks by hand through the public API: a DiT block with adaLN-Zero (modulated
// residuals) against a PyTorch re-implementation, MLP writing instead of accumulating
// (hand-derived values), the layer's checks, and layers that stay valid when copied.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "fixture_util.hpp"
#include "tessera/blocks/layer.hpp"
#include "tessera/blocks/stack.hpp"
#include "tessera/models/encoder_decoder.hpp"
#include "tessera/models/load.hpp"
#include "tessera/models/scope.hpp"

namespace tessera {
namespace {

using testing::compare;
using testing::data_dir;
using testing::Diff;

Linear matrix(int64_t out, int64_t in, std::vector<float> values, std::vector<float> bias = {}) {
  return Linear(Tensor::from_f32({out, in}, values), std::move(bias));
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// tools/reference/dit_block.py: the block from the paper's equations in PyTorch, random weights.
TEST(Composition, DitBlockWithAdaLnZeroMatchesPyTorch) {
  const std::string dir = data_dir() + "/torch/dit-block";
  const WeightStore store = WeightStore::open_dir(dir);
  const Scope w(store);
  const int64_t d = 64, heads = 4, hd = d / heads, ffn = 256;

  Layer layer(d);
  layer.modulate(Modulation{w.pp("adaLN_modulation").linear("1", d, 6 * d, true)});  // SiLU, then Linear
  const Norm norm(NormKind::LayerNorm, d, 1e-6f);  // no scale, no bias
  layer.add(Residual::modulated(norm, /*shift=*/0, /*scale=*/1, /*gate=*/2),
            SelfAttention(Attention(AttentionConfig{d, heads, heads, hd, /*causal=*/false, 0, float(1.0 / std::sqrt(hd))},
                                    w.linear("attn.qkv", d, 3 * d, true), w.linear("attn.proj", d, d, true))));
  layer.add(Residual::modulated(norm, 3, 4, 5),
            FeedForward(MLP::dense(kernels::Activation::GeluTanh, w.linear("mlp.fc1", d, ffn, true),
                                   w.linear("mlp.fc2", ffn, d, true))));

  auto ref = SafetensorsFile::open(dir + "/reference.safetensors");
  Tensor x = ref.get("x").to_f32(), cond = ref.get("condition").to_f32();
  x = Tensor::from_f32(x.shape(), std::vector<float>(x.data<float>(), x.data<float>() + x.numel()));  // writable copy
  const std::vector<int64_t> lengths = ref.get("lengths").to_i64();
  ASSERT_EQ(lengths.size(), 2u);
  // Two sequences packed, each with its own conditioning vector; attention within each.
  std::vector<Segment> segs{Segment{0, lengths[0], 0, {}, {}, cond.data<float>()},
                            Segment{lengths[0], lengths[1], 0, {}, {}, cond.data<float>() + d}};
  LayerScratch scratch;
  layer.forward(x.data<float>(), x.dim(0), LayerCall{segs, scratch});
  Diff diff = compare(x, ref.get("out"));
  EXPECT_LE(diff.max_abs_diff, 1e-4 * std::max(1.0, diff.max_abs_ref)) << "max |diff| " << diff.max_abs_diff;

  // Each sequence reads its own conditioning vector: swapped, the output is another one.
  Tensor swapped = ref.get("x").to_f32();
  swapped = Tensor::from_f32(swapped.shape(), std::vector<float>(swapped.data<float>(), swapped.data<float>() + swapped.numel()));
  std::vector<Segment> crossed = segs;
  std::swap(crossed[0].condition, crossed[1].condition);
  layer.forward(swapped.data<float>(), swapped.dim(0), LayerCall{crossed, scratch});
  EXPECT_GT(compare(swapped, ref.get("out")).max_abs_diff, 1e-2);

  // A stack of this one layer, looped twice, equals the layer applied twice.
  Stack stack;
  stack.layers.push_back(layer);
  Tensor y = ref.get("x").to_f32();
  y = Tensor::from_f32(y.shape(), std::vector<float>(y.data<float>(), y.data<float>() + y.numel()));
  stack.run_layers(y.data<float>(), y.dim(0), segs, scratch, StackOptions{.loops = 2});
  layer.forward(x.data<float>(), x.dim(0), LayerCall{segs, scratch});
  EXPECT_EQ(compare(y, x).max_abs_diff, 0.0);
}

TEST(Composition, ModulatedLayerNeedsEachSequencesCondition) {
  const int64_t d = 2;
  Layer layer(d);
  layer.modulate(Modulation{matrix(3 * d, 1, std::vector<float>(3 * d, 0.5f))});
  layer.add(Residual::modulated(Norm(NormKind::RMSNorm, d, 1e-6f), 0, 1, 2),
            FeedForward(MLP::dense(kernels::Activation::Relu, matrix(2, 2, {1, 0, 0, 1}), matrix(2, 2, {1, 0, 0, 1}))));
  std::vector<float> x{1, 2};
  std::vector<Segment> segs{Segment{0, 1, 0, {}, {}, nullptr}};
  LayerScratch scratch;
  EXPECT_NE(error_of([&] { layer.forward(x.data(), 1, LayerCall{segs, scratch}); }).find("conditioning vector"),
            std::string::npos);
}

// Dense ReLU MLP, hidden 2, ffn 3, worked by hand: x = [2, -3]; fc1 rows [1 0], [0 1], [1 -1]
// give [2, -3, 5], ReLU [2, 0, 5]; fc2 rows [1 1 1], [0 2 -1] give [7, -5].
TEST(Composition, MlpWritesOrAccumulates) {
  MLP mlp = MLP::dense(kernels::Activation::Relu, matrix(3, 2, {1, 0, 0, 1, 1, -1}), matrix(2, 3, {1, 1, 1, 0, 2, -1}));
  const std::vector<float> x{2, -3};
  std::vector<float> out{100, 100}, scratch;
  mlp.forward(x.data(), 1, out.data(), scratch, /*accumulate=*/true);
  EXPECT_EQ(out, (std::vector<float>{107, 95}));
  mlp.forward(x.data(), 1, out.data(), scratch, /*accumulate=*/false);
  EXPECT_EQ(out, (std::vector<float>{7, -5}));
  // Gated, same numbers: ReLU(gate·x) ⊙ up·x with gate = fc1, up rows [1 1], [1 0], [0 1]
  // (up·x = [-1, 2, -3]): [2, 0, 5] ⊙ [-1, 2, -3] = [-2, 0, -15]; down: [-17, 15].
  MLP gated = MLP::gated(kernels::Activation::Relu, matrix(3, 2, {1, 0, 0, 1, 1, -1}), matrix(3, 2, {1, 1, 1, 0, 0, 1}),
                         matrix(2, 3, {1, 1, 1, 0, 2, -1}));
  out = {100, 100};
  gated.forward(x.data(), 1, out.data(), scratch, /*accumulate=*/false);
  EXPECT_EQ(out, (std::vector<float>{-17, 15}));
}

TEST(Composition, LayerRefusesWhatItCannotRun) {
  auto ffn = [] { return FeedForward(MLP::dense(kernels::Activation::Relu, matrix(2, 2, {1, 0, 0, 1}), matrix(2, 2, {1, 0, 0, 1}))); };
  EXPECT_NE(error_of([] { Layer bad(0); }).find("width must be positive"), std::string::npos);
  EXPECT_NE(error_of([&] { Layer(2).add(Residual::pre_norm(Norm(NormKind::RMSNorm, 3, 1e-6f)), ffn()); })
                .find("norm over 3 features in a layer of width 2"),
            std::string::npos);
  EXPECT_NE(error_of([&] { Layer(2).add(Residual::parallel_to_previous(), ffn()); }).find("first sublayer"), std::string::npos);
  EXPECT_NE(error_of([&] { Layer(2).add(Residual::modulated(Norm(NormKind::RMSNorm, 2, 1e-6f), 0, 1, 2), ffn()); })
                .find("modulation chunk 0"),
            std::string::npos);
  EXPECT_NE(error_of([] { Norm(NormKind::RMSNorm, 2, 1e-6f, {1, 2, 3}); }).find("3 scale values for 2 features"),
            std::string::npos);
  EXPECT_NE(error_of([] { MLP::dense(kernels::Activation::Relu, matrix(3, 2, std::vector<float>(6)), matrix(2, 2, std::vector<float>(4))); })
                .find("down projection is [2, 2], expected [2, 3]"),
            std::string::npos);
  EXPECT_NE(error_of([] { Linear(Tensor::from_f32({2, 2}, {1, 2, 3, 4}), {1, 2, 3}); }).find("3 bias values for 2 outputs"),
            std::string::npos);
  auto attn = [] {
    return Attention(AttentionConfig{2, 1, 1, 2, true, 0, 1.0f}, matrix(2, 2, {1, 0, 0, 1}), matrix(2, 2, {1, 0, 0, 1}),
                     matrix(2, 2, {1, 0, 0, 1}), matrix(2, 2, {1, 0, 0, 1}));
  };
  EXPECT_NE(error_of([&] { Layer(2).add(Residual::pre_norm(), SelfAttention(attn())).add(Residual::pre_norm(), SelfAttention(attn())); })
                .find("at most one self-attention"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              Attention(AttentionConfig{2, 1, 1, 2, true, 0, 1.0f}, matrix(2, 2, {1, 0, 0, 1}), matrix(2, 2, {1, 0, 0, 1}),
                        matrix(2, 2, {1, 0, 0, 1}), matrix(3, 2, std::vector<float>(6)));
            }).find("o projection is [3, 2], expected [2, 2]"),
            std::string::npos);
}

// T5's relative bias is held by the attention blocks (shared ownership): a copy of the model
// keeps it alive and gives the reference logits after the original is gone.
TEST(Composition, CopiedT5KeepsItsRelativeBias) {
  const std::string dir = data_dir() + "/hf/t5";
  std::shared_ptr<const Model> original = load(dir);
  const auto& t5 = dynamic_cast<const EncoderDecoderModel&>(*original);
  const Attention* self = t5.decoder.layers.back().self_attention();
  ASSERT_NE(self, nullptr);
  std::weak_ptr<const ScoreBias> bias = self->bias;
  ASSERT_FALSE(bias.expired());
  auto copy = std::make_shared<EncoderDecoderModel>(t5);
  original.reset();
  EXPECT_FALSE(bias.expired());

  auto ref = SafetensorsFile::open(dir + "/reference.safetensors");
  std::map<std::string, Tensor> inputs{{"input_ids", ref.get("input_ids")},
                                       {"attention_mask", ref.get("attention_mask")},
                                       {"decoder_input_ids", ref.get("decoder_input_ids")}};
  SessionOptions f32;
  f32.kv_type = DType::F32;
  auto out = copy->forward_named(inputs, -1, f32);
  Diff diff = compare(out.at("logits"), ref.get("logits"));
  EXPECT_LE(diff.max_abs_diff, 1e-4 * std::max(1.0, diff.max_abs_ref)) << "max |diff| " << diff.max_abs_diff;
}

// Scopes name the full tensor in their errors.
TEST(Composition, ScopeNamesTheFullTensor) {
  std::map<std::string, Tensor> tensors{{"model.layers.0.q_proj.weight", Tensor::from_f32({2, 3}, std::vector<float>(6))},
                                        {"model.layers.0.q_proj.bias", Tensor::zeros(DType::I32, {2})}};
  const WeightStore store = WeightStore::from_tensors("mem", tensors);
  const Scope layer = Scope(store).pp("model").pp("layers").pp(0);
  EXPECT_EQ(layer.name("q_proj.weight"), "model.layers.0.q_proj.weight");
  EXPECT_EQ(layer.linear("q_proj", 3, 2).out_features(), 2);
  EXPECT_NE(error_of([&] { layer.linear("k_proj", 3, 2); }).find("model.layers.0.k_proj.weight"), std::string::npos);
  EXPECT_NE(error_of([&] { layer.linear("q_proj", 2, 3); }).find("expected shape [3, 2], found [2, 3]"), std::string::npos);
  const std::string dtype = error_of([&] { layer.linear("q_proj", 3, 2, /*bias=*/true); });
  EXPECT_NE(dtype.find("'model.layers.0.q_proj.bias'"), std::string::npos) << dtype;
  EXPECT_NE(dtype.find("I32"), std::string::npos) << dtype;
}

}  // namespace
}  // namespace tessera
