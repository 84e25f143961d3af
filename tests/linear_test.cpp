// Linear::fuse (and PackedWeight::concat under it): one projection computing several side by
// side must give exactly what the parts give one by one, on every ISA path, for the decode
// (m = 1..4) and the prefill (tiled) shapes, with odd sizes and a mix of bias / no bias.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "tessera/blocks/linear.hpp"
#include "tessera/core/half.hpp"
#include "tessera/kernels/cpu.hpp"

namespace tessera {
namespace {

Tensor random_weight(DType type, int64_t out, int64_t in, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Tensor w = Tensor::zeros(type, {out, in});
  for (int64_t i = 0; i < out * in; ++i) {
    const float v = u(rng);
    if (type == DType::F32) w.data<float>()[i] = v;
    else if (type == DType::F16) static_cast<uint16_t*>(w.raw())[i] = f32_to_f16(v);
    else static_cast<uint16_t*>(w.raw())[i] = f32_to_bf16(v);
  }
  return w;
}

std::vector<float> random_bias(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> b(static_cast<size_t>(n));
  for (float& v : b) v = u(rng);
  return b;
}

class LinearFuse : public ::testing::TestWithParam<kernels::Isa> {
 protected:
  void SetUp() override {
    saved_ = kernels::active_isa();
    if (int(GetParam()) > int(kernels::detected_isa())) GTEST_SKIP() << "this CPU lacks " << kernels::isa_name(GetParam());
    kernels::set_isa(GetParam());
  }
  void TearDown() override { kernels::set_isa(saved_); }

 private:
  kernels::Isa saved_ = kernels::Isa::Scalar;
};

TEST_P(LinearFuse, EqualsThePartsBitForBit) {
  for (DType type : {DType::F32, DType::F16, DType::BF16}) {
    const int64_t in = 45;
    // Outputs 64 and 32 (whole panels), then 19 (the last part may end mid-panel).
    const std::vector<int64_t> outs = {64, 32, 19};
    std::vector<Linear> parts;
    for (size_t p = 0; p < outs.size(); ++p)  // the middle part has no bias
      parts.emplace_back(random_weight(type, outs[p], in, 10 + uint32_t(p)),
                         p == 1 ? std::vector<float>{} : random_bias(outs[p], 20 + uint32_t(p)));
    auto fused = Linear::fuse({&parts[0], &parts[1], &parts[2]});
    ASSERT_TRUE(fused.has_value());
    const int64_t total = 64 + 32 + 19;
    EXPECT_EQ(fused->out_features(), total);
    EXPECT_EQ(fused->in_features(), in);
    for (int64_t m : {1, 2, 3, 4, 5, 17, 40}) {
      std::vector<float> x = random_bias(m * in, 99 + uint32_t(m));
      std::vector<float> want(size_t(m * total)), got(size_t(m * total));
      int64_t col = 0;
      for (size_t p = 0; p < parts.size(); ++p) {
        parts[p].forward(x.data(), m, want.data() + col, -1, total);
        col += outs[p];
      }
      fused->forward(x.data(), m, got.data());
      for (size_t i = 0; i < got.size(); ++i)
        ASSERT_EQ(got[i], want[i]) << dtype_name(type) << " m=" << m << " element " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, LinearFuse, ::testing::Values(kernels::Isa::Scalar, kernels::Isa::Avx2, kernels::Isa::Avx512),
                         [](const auto& info) { return std::string(kernels::isa_name(info.param)); });

TEST(LinearFuse, RefusesPartsThatCannotSharePanels) {
  Linear a(random_weight(DType::F32, 40, 16, 1), {}), b(random_weight(DType::F32, 32, 16, 2), {});
  Linear c(random_weight(DType::F16, 32, 16, 3), {}), d(random_weight(DType::F32, 32, 8, 4), {});
  EXPECT_FALSE(Linear::fuse({&a, &b}).has_value());  // 40 outputs: not whole panels before another part
  EXPECT_TRUE(Linear::fuse({&b, &a}).has_value());   // ... fine as the last part
  EXPECT_FALSE(Linear::fuse({&b, &c}).has_value());  // dtypes differ
  EXPECT_FALSE(Linear::fuse({&b, &d}).has_value());  // input sizes differ
  EXPECT_FALSE(Linear::fuse({}).has_value());
}

// Empty weights go through the packed engine like any other (there is no second GEMM): with no
// inputs Y is the bias (plus Y when accumulating), with no outputs nothing is written.
TEST(Linear, EmptyWeights) {
  for (DType t : {DType::F32, DType::BF16, DType::Q8_0}) {
    Linear no_inputs(Tensor::zeros(t, {3, 0}), {1.5f, -2.0f, 4.0f});
    EXPECT_EQ(no_inputs.in_features(), 0);
    EXPECT_EQ(no_inputs.out_features(), 3);
    std::vector<float> y = {9, 9, 9, 9, 9, 9};
    no_inputs.forward(nullptr, 2, y.data());
    EXPECT_EQ(y, (std::vector<float>{1.5f, -2.0f, 4.0f, 1.5f, -2.0f, 4.0f})) << dtype_name(t);
    no_inputs.forward(nullptr, 2, y.data(), -1, -1, /*accumulate=*/true);
    EXPECT_EQ(y, (std::vector<float>{3.0f, -4.0f, 8.0f, 3.0f, -4.0f, 8.0f})) << dtype_name(t);
  }
  Linear no_outputs(Tensor::zeros(DType::F32, {0, 4}), {});
  const float x[4] = {1, 2, 3, 4};
  float y = 7;
  no_outputs.forward(x, 1, &y);
  EXPECT_EQ(y, 7.0f);
  EXPECT_THROW(Linear(Tensor::zeros(DType::F32, {4}), {}), Error);  // not a matrix
  EXPECT_THROW(Linear().forward(x, 1, &y), Error);                  // no weight at all
}

}  // namespace
}  // namespace tessera
