// Every kernel on every ISA path this CPU has, against the double-accumulating oracles in
// kernel_reference.hpp: SIMD tails, odd GEMM shapes, all weight dtypes, and thread-count invariance.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "tessera/core/error.hpp"
#include "tessera/core/half.hpp"
#include "tessera/core/parallel.hpp"
#include "tessera/kernels/cpu.hpp"
#include "tessera/kernels/kernels.hpp"
#include "kernel_reference.hpp"

using namespace tessera;
using namespace tessera::kernels;

namespace {

const int64_t kSizes[] = {1, 3, 7, 16, 17, 63, 65, 127, 300};

std::vector<float> random_vec(int64_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(size_t(std::max<int64_t>(n, 0)));
  for (float& x : v) x = d(rng);
  return v;
}

// Weights of the requested dtype, as raw bytes, from f32 values.
std::vector<uint16_t> to_half_bits(const std::vector<float>& v, DType t) {
  std::vector<uint16_t> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = t == DType::F16 ? f32_to_f16(v[i]) : f32_to_bf16(v[i]);
  return out;
}

// max |got - want| must stay below tol times the output's scale (its largest magnitude).
void expect_scaled_close(const float* got, const float* want, int64_t n, double tol,
                         const std::string& what) {
  double scale = 0, worst = 0;
  int64_t at = -1;
  for (int64_t i = 0; i < n; ++i) scale = std::max(scale, std::abs(double(want[i])));
  for (int64_t i = 0; i < n; ++i) {
    const double d = std::abs(double(got[i]) - double(want[i]));
    if (!(d <= worst)) worst = d, at = i;  // also catches NaN
  }
  EXPECT_LE(worst, tol * std::max(scale, 1e-30))
      << what << ": worst at " << at << " got " << (at >= 0 ? got[at] : 0) << " want "
      << (at >= 0 ? want[at] : 0) << " (scale " << scale << ")";
}

// Element-wise relative check, with `floor` as the smallest magnitude the tolerance scales with.
void expect_rel_close(const float* got, const float* want, int64_t n, double rtol, double floor,
                      const std::string& what) {
  for (int64_t i = 0; i < n; ++i) {
    const double d = std::abs(double(got[i]) - double(want[i]));
    const double lim = rtol * std::max(std::abs(double(want[i])), floor);
    if (!(d <= lim)) {
      ADD_FAILURE() << what << ": element " << i << " of " << n << " got " << got[i] << " want "
                    << want[i] << " (rel " << d / std::max(std::abs(double(want[i])), floor) << ")";
      return;
    }
  }
}

class Kernels : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    saved_ = active_isa();
    if (int(GetParam()) > int(detected_isa()))
      GTEST_SKIP() << "this CPU lacks " << isa_name(GetParam());
    set_isa(GetParam());
  }
  void TearDown() override { set_isa(saved_); }
  std::string tag() const { return std::string(isa_name(GetParam())); }

 private:
  Isa saved_ = Isa::Scalar;
};

TEST_P(Kernels, Dot) {
  for (int64_t n : kSizes) {
    auto a = random_vec(n, -1, 1, 1 + uint32_t(n)), b = random_vec(n, -1, 1, 100 + uint32_t(n));
    double mag = 0;
    for (int64_t i = 0; i < n; ++i) mag += std::abs(double(a[i]) * b[i]);
    EXPECT_NEAR(dot(a.data(), b.data(), n), reference::dot(a.data(), b.data(), n), 1e-6 * mag + 1e-30)
        << tag() << " n=" << n;
  }
  EXPECT_EQ(dot(nullptr, nullptr, 0), 0.0f);
}

TEST_P(Kernels, Axpy) {
  for (int64_t n : kSizes) {
    auto x = random_vec(n, -1, 1, 2 + uint32_t(n)), y = random_vec(n + 1, -1, 1, 200 + uint32_t(n));
    auto want = y;
    y[size_t(n)] = want[size_t(n)] = 42.0f;  // one past the end must survive
    axpy(0.37f, x.data(), y.data(), n);
    reference::axpy(0.37f, x.data(), want.data(), n);
    expect_scaled_close(y.data(), want.data(), n + 1, 1e-6, tag() + " axpy n=" + std::to_string(n));
    EXPECT_EQ(y[size_t(n)], 42.0f);
  }
}

TEST_P(Kernels, Softmax) {
  for (int64_t n : kSizes) {
    auto x = random_vec(n, -8, 8, 3 + uint32_t(n));
    if (n > 2) x[1] = -std::numeric_limits<float>::infinity();  // masked position
    auto want = x;
    softmax(x.data(), n);
    reference::softmax(want.data(), n);
    expect_rel_close(x.data(), want.data(), n, 4e-6, 1e-6, tag() + " softmax n=" + std::to_string(n));
    if (n > 2) {
      EXPECT_EQ(x[1], 0.0f);
    }
  }
  std::vector<float> all_masked(17, -std::numeric_limits<float>::infinity());
  softmax(all_masked.data(), 17);
  for (float v : all_masked) EXPECT_EQ(v, 0.0f) << tag();
  std::vector<float> big = {1000.0f, 999.0f, -1000.0f};  // needs the max subtracted
  std::vector<float> big_want = big;
  softmax(big.data(), 3);
  reference::softmax(big_want.data(), 3);
  expect_rel_close(big.data(), big_want.data(), 3, 4e-6, 1e-30, tag() + " softmax large");
}

TEST_P(Kernels, RmsNorm) {
  for (int64_t n : kSizes) {
    auto x = random_vec(n, -3, 3, 4 + uint32_t(n)), w = random_vec(n, 0.5, 1.5, 400 + uint32_t(n));
    for (bool with_w : {false, true}) {
      std::vector<float> y(static_cast<size_t>(n)), want(static_cast<size_t>(n));
      rms_norm(x.data(), with_w ? w.data() : nullptr, y.data(), n, 1e-6f);
      reference::rms_norm(x.data(), with_w ? w.data() : nullptr, want.data(), n, 1e-6f);
      expect_scaled_close(y.data(), want.data(), n, 2e-6, tag() + " rms_norm n=" + std::to_string(n));
      auto inplace = x;  // x and y may alias
      rms_norm(inplace.data(), with_w ? w.data() : nullptr, inplace.data(), n, 1e-6f);
      expect_scaled_close(inplace.data(), want.data(), n, 2e-6, tag() + " rms_norm in place");
    }
  }
}

TEST_P(Kernels, LayerNorm) {
  for (int64_t n : kSizes) {
    // An offset mean tests that the variance is not computed as E[x^2] - E[x]^2.
    auto x = random_vec(n, 99, 101, 5 + uint32_t(n));
    auto g = random_vec(n, 0.5, 1.5, 500 + uint32_t(n)), b = random_vec(n, -1, 1, 600 + uint32_t(n));
    for (int variant = 0; variant < 3; ++variant) {
      const float* gp = variant >= 1 ? g.data() : nullptr;
      const float* bp = variant >= 2 ? b.data() : nullptr;
      std::vector<float> y(static_cast<size_t>(n)), want(static_cast<size_t>(n));
      layer_norm(x.data(), gp, bp, y.data(), n, 1e-5f);
      reference::layer_norm(x.data(), gp, bp, want.data(), n, 1e-5f);
      // Inputs near 100 carry ~1e-5 absolute rounding, so the tolerance is looser here.
      expect_scaled_close(y.data(), want.data(), n, 2e-5, tag() + " layer_norm n=" + std::to_string(n));
      auto inplace = x;
      layer_norm(inplace.data(), gp, bp, inplace.data(), n, 1e-5f);
      expect_scaled_close(inplace.data(), want.data(), n, 2e-5, tag() + " layer_norm in place");
    }
  }
  auto x = random_vec(300, -2, 2, 77);
  std::vector<float> y(300), want(300);
  layer_norm(x.data(), nullptr, nullptr, y.data(), 300, 1e-5f);
  reference::layer_norm(x.data(), nullptr, nullptr, want.data(), 300, 1e-5f);
  expect_scaled_close(y.data(), want.data(), 300, 2e-6, tag() + " layer_norm centred");
}

const Activation kActs[] = {Activation::Silu, Activation::Gelu, Activation::GeluTanh,
                            Activation::Relu, Activation::Identity};

TEST_P(Kernels, Activations) {
  for (Activation act : kActs) {
    for (int64_t n : kSizes) {
      auto x = random_vec(n, -12, 12, 6 + uint32_t(n)), y = random_vec(n, -2, 2, 700 + uint32_t(n));
      auto got = x, want = x;
      activate(act, got.data(), n);
      reference::activate(act, want.data(), n);
      const std::string what = tag() + " act " + std::to_string(int(act)) + " n=" + std::to_string(n);
      expect_rel_close(got.data(), want.data(), n, 2e-6, 1e-3, what);
      got = x, want = x;
      activate_mul(act, got.data(), y.data(), n);
      reference::activate_mul(act, want.data(), y.data(), n);
      expect_rel_close(got.data(), want.data(), n, 2e-6, 1e-3, what + " mul");
    }
  }
  // The named wrappers go to the same code.
  auto x = random_vec(65, -5, 5, 9);
  for (auto [fn, act] : {std::pair{&silu, Activation::Silu}, std::pair{&gelu, Activation::Gelu},
                         std::pair{&gelu_tanh, Activation::GeluTanh}, std::pair{&relu, Activation::Relu}}) {
    auto got = x, want = x;
    fn(got.data(), 65);
    reference::activate(act, want.data(), 65);
    expect_rel_close(got.data(), want.data(), 65, 2e-6, 1e-3, tag() + " named activation");
  }
}

// A dense sweep over every activation. An f32 input is itself only known to half an ulp, so
// the oracle gives a band: its values at x and at x one ulp either side. The vector
// exp/erfc approximations must land within 1e-6 relative of that band everywhere.
TEST_P(Kernels, ActivationAccuracySweep) {
  std::vector<float> x;
  for (double v = -30; v <= 30; v += 0.00731) x.push_back(float(v));
  for (float v : {0.0f, -0.0f, 1e-20f, -1e-20f, 88.0f, -88.0f, 100.0f, -100.0f, 1e6f, -1e6f, 1e20f,
                  -1e20f})
    x.push_back(v);
  const int64_t n = int64_t(x.size());
  for (Activation act : kActs) {
    auto got = x;
    activate(act, got.data(), n);
    double worst = 0;
    float worst_x = 0;
    for (int64_t i = 0; i < n; ++i) {
      const float xi = x[size_t(i)];
      const double g = got[size_t(i)];
      ASSERT_FALSE(std::isnan(g)) << tag() << " act " << int(act) << " x=" << xi;
      const double w = reference::activation(act, xi);
      const double a = reference::activation(act, std::nextafter(xi, -INFINITY));
      const double b = reference::activation(act, std::nextafter(xi, INFINITY));
      const double lo = std::min({w, a, b}), hi = std::max({w, a, b});
      const double out = g < lo ? lo - g : g > hi ? g - hi : 0.0;
      // Below 1e-30 only absolute error matters (and subnormal outputs have few bits).
      const double rel = out / std::max(std::abs(w), 1e-30);
      if (rel > worst) worst = rel, worst_x = xi;
    }
    EXPECT_LE(worst, 1e-6) << tag() << " act " << int(act) << " worst at x=" << worst_x;
  }
}

TEST_P(Kernels, ToF32) {
  std::vector<uint16_t> bits(300);
  std::mt19937 rng(11);
  for (auto& b : bits) b = uint16_t(rng());
  for (int64_t n : kSizes) {
    for (DType t : {DType::F16, DType::BF16}) {
      std::vector<float> got(size_t(n) + 1, 7.0f), want(static_cast<size_t>(n));
      to_f32(bits.data(), t, got.data(), n);
      reference::to_f32(bits.data(), t, want.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        if (std::isnan(want[size_t(i)])) {
          EXPECT_TRUE(std::isnan(got[size_t(i)]));
          continue;
        }
        uint32_t g, w;
        std::memcpy(&g, &got[size_t(i)], 4);
        std::memcpy(&w, &want[size_t(i)], 4);
        EXPECT_EQ(g, w) << tag() << " " << dtype_name(t) << " bits " << std::hex << bits[size_t(i)];
      }
      EXPECT_EQ(got[size_t(n)], 7.0f);
    }
    auto f = random_vec(n, -1, 1, 12);
    std::vector<float> got(static_cast<size_t>(n));
    to_f32(f.data(), DType::F32, got.data(), n);
    EXPECT_EQ(got, f);
  }
  float dummy = 0;
  EXPECT_THROW(to_f32(&dummy, DType::I32, &dummy, 1), Error);
}

struct GemmCase {
  int64_t m, n, k;
  DType t;
  bool bias, accumulate;
  int64_t pad;  // extra row stride on X and Y
};

// Runs one gemm case and checks it against the oracle, including that Y's padding columns
// between rows are left alone. The error allowed for each element scales with the sum of
// the magnitudes of its terms (|y| + |bias| + sum |x w|): that is what rounding in an f32
// accumulation is proportional to, and it does not vanish when the terms cancel.
void check_gemm(const GemmCase& c, const std::string& tag) {
  const int64_t ldx = c.k + c.pad, ldy = c.n + c.pad;
  auto x = random_vec(c.m * ldx, -1, 1, uint32_t(c.m * 131 + c.k));
  auto wf = random_vec(c.n * c.k, -1, 1, uint32_t(c.n * 17 + c.k));
  auto bias = random_vec(c.n, -1, 1, uint32_t(c.n + 5));
  auto y0 = random_vec(c.m * ldy, -1, 1, uint32_t(c.m + c.n));
  std::vector<uint16_t> wh;
  const void* w = wf.data();
  if (c.t != DType::F32) {
    wh = to_half_bits(wf, c.t);
    w = wh.data();
  }
  auto want = y0, got = y0;
  const PackedWeight pw = PackedWeight::pack(w, c.t, c.n, c.k);
  gemm_packed(x.data(), c.m, ldx, pw, got.data(), ldy, c.bias ? bias.data() : nullptr, c.accumulate);
  reference::gemm(x.data(), c.m, c.k, ldx, w, c.t, c.n, want.data(), ldy, c.bias ? bias.data() : nullptr,
                  c.accumulate);

  auto abs_of = [](std::vector<float> v) {
    for (float& e : v) e = std::abs(e);
    return v;
  };
  std::vector<float> wabs(size_t(c.n * c.k));
  reference::to_f32(w, c.t, wabs.data(), c.n * c.k);
  wabs = abs_of(wabs);
  auto mag = abs_of(y0), xabs = abs_of(x), babs = abs_of(bias);
  reference::gemm(xabs.data(), c.m, c.k, ldx, wabs.data(), DType::F32, c.n, mag.data(), ldy,
                  c.bias ? babs.data() : nullptr, c.accumulate);

  const std::string what = tag + " gemm M=" + std::to_string(c.m) + " N=" + std::to_string(c.n) +
                           " K=" + std::to_string(c.k) + " " + std::string(dtype_name(c.t)) +
                           (c.bias ? " bias" : "") + (c.accumulate ? " acc" : "") + " pad=" +
                           std::to_string(c.pad);
  for (int64_t i = 0; i < c.m; ++i) {
    for (int64_t j = 0; j < c.n; ++j) {
      const size_t at = size_t(i * ldy + j);
      const double d = std::abs(double(got[at]) - double(want[at]));
      ASSERT_LE(d, 1e-5 * std::max(double(mag[at]), 1e-30))
          << what << " at (" << i << ", " << j << "): got " << got[at] << " want " << want[at];
    }
    for (int64_t j = c.n; j < ldy; ++j)
      ASSERT_EQ(got[size_t(i * ldy + j)], y0[size_t(i * ldy + j)]) << what << " wrote into padding";
  }
}

TEST_P(Kernels, GemmShapes) {
  const int64_t ms[] = {1, 2, 3, 4, 5, 8, 9, 33, 64, 100};  // 1-4: every row count of the decode tiles
  const std::pair<int64_t, int64_t> nks[] = {{1, 1},   {7, 3},    {16, 16},  {33, 17},
                                             {64, 64}, {97, 255}, {40, 300}, {130, 513}};
  int64_t idx = 0;
  for (int64_t m : ms)
    for (auto [n, k] : nks)
      for (DType t : {DType::F32, DType::F16, DType::BF16})
        for (int flags = 0; flags < 4; ++flags) {
          check_gemm({m, n, k, t, bool(flags & 1), bool(flags & 2), idx++ % 3}, tag());
          if (HasFatalFailure()) return;
        }
}

TEST_P(Kernels, GemmLargeBlocks) {
  // Beyond one cache block in every direction (M, N and K panels), with tails everywhere.
  for (DType t : {DType::F32, DType::F16, DType::BF16}) {
    check_gemm({203, 601, 517, t, true, true, 1}, tag());
    check_gemm({7, 1031, 1029, t, true, false, 0}, tag());
  }
}

TEST_P(Kernels, GemmDegenerate) {
  std::vector<float> y = {1, 2, 3, 4}, bias = {10, 20};
  const float x = 0, w[4] = {0, 0, 0, 0};
  const PackedWeight n2k1 = PackedWeight::pack(w, DType::F32, 2, 1), n0k1 = PackedWeight::pack(w, DType::F32, 0, 1),
                     n2k0 = PackedWeight::pack(nullptr, DType::F32, 2, 0);
  gemm_packed(&x, 0, 1, n2k1, y.data(), 2);  // M = 0: nothing
  gemm_packed(&x, 2, 1, n0k1, y.data(), 2);  // N = 0: nothing
  EXPECT_EQ(y, (std::vector<float>{1, 2, 3, 4}));
  gemm_packed(nullptr, 2, 0, n2k0, y.data(), 2, bias.data(), true);  // K = 0: y + bias
  EXPECT_EQ(y, (std::vector<float>{11, 22, 13, 24}));
  gemm_packed(nullptr, 2, 0, n2k0, y.data(), 2);  // K = 0, no bias: zeros
  EXPECT_EQ(y, (std::vector<float>{0, 0, 0, 0}));
  EXPECT_THROW(PackedWeight::pack(w, DType::I8, 1, 1), Error);
  EXPECT_THROW(PackedWeight::pack(w, DType::F32, -1, 1), Error);
  EXPECT_THROW(gemm_packed(&x, 1, 2, PackedWeight::pack(w, DType::F32, 1, 4), y.data(), 1), Error);  // ldx < K
  EXPECT_THROW(gemm_packed(&x, 1, 1, n2k1, y.data(), 1), Error);  // ldy < N
  EXPECT_THROW(gemm_packed(&x, -1, 1, n2k1, y.data(), 2), Error);  // M < 0
}

// Outputs must be bit-identical whatever the thread count, on every path (decode, N split,
// M split).
TEST_P(Kernels, GemmThreadCountInvariant) {
  const int saved = num_threads();
  struct Shape {
    int64_t m, n, k;
  };
  for (Shape s : {Shape{1, 1030, 300}, Shape{5, 777, 301}, Shape{8, 1024, 64}, Shape{64, 1030, 300},
                  Shape{100, 333, 257}, Shape{300, 40, 100}, Shape{97, 2000, 33}}) {
    for (DType t : {DType::F32, DType::BF16}) {
      auto x = random_vec(s.m * s.k, -1, 1, 21), wf = random_vec(s.n * s.k, -1, 1, 22);
      auto bias = random_vec(s.n, -1, 1, 23);
      std::vector<uint16_t> wh = to_half_bits(wf, DType::BF16);
      const void* w = t == DType::F32 ? static_cast<const void*>(wf.data()) : wh.data();
      std::vector<std::vector<float>> outp;
      const PackedWeight pw = PackedWeight::pack(w, t, s.n, s.k);
      for (int threads : {1, 2, 3}) {
        set_num_threads(threads);
        std::vector<float> yp(size_t(s.m * s.n));
        gemm_packed(x.data(), s.m, s.k, pw, yp.data(), s.n, bias.data());
        outp.push_back(std::move(yp));
      }
      for (size_t i = 1; i < outp.size(); ++i)
        EXPECT_EQ(std::memcmp(outp[0].data(), outp[i].data(), outp[0].size() * 4), 0)
            << tag() << " M=" << s.m << " N=" << s.n << " K=" << s.k << " differs with " << (i + 1)
            << " threads";
    }
  }
  set_num_threads(saved);
}

// Fused attention against the naive oracle: odd head sizes and lengths (tile tails), MHA/GQA/
// MQA, causal and bidirectional, sliding window, additive bias, decode (m = 1 against a long
// cache, where the keys are split between threads), queries starting mid-sequence; every KV
// dtype (the oracle dequantizes the same bytes); bitwise the same at 1, 2, 3 and 8 threads.
// ALiBi cases (slopes as data) are also checked against the same term passed through the
// bias callback, an independent route through the kernel, and must differ from attention
// without it (and, for Falcon's bf16 rounding at long range, from the unrounded term).
float test_bias(const void*, int64_t h, int64_t q, int64_t k) { return 0.1f * float((h * 7 + q * 3 + k) % 11) - 0.5f; }
struct AlibiCtx {
  const float* slopes;
  float scale;
  bool bf16;
};
float alibi_as_bias(const void* ctx, int64_t h, int64_t q, int64_t k) {
  const auto* c = static_cast<const AlibiCtx*>(ctx);
  auto term = [&](int64_t p) {
    const float b = c->slopes[h] * float(p);
    return c->bf16 ? bf16_to_f32(f32_to_bf16(b)) : b;
  };
  return c->scale * (term(k) - term(q));
}
// The largest |x[i] - y[i]|.
double max_abs_diff(const std::vector<float>& x, const std::vector<float>& y) {
  double d = 0;
  for (size_t i = 0; i < x.size(); ++i) d = std::max(d, double(std::fabs(x[i] - y[i])));
  return d;
}

// n rows of kv_heads × hd values as a KV cache in dtype t, rows `stride` bytes apart: each head
// quantize_row'd on its own (Q8_0: whole blocks, the last one zero-padded), as the contract says.
std::vector<unsigned char> kv_bytes(const std::vector<float>& x, int64_t n, int64_t kv_heads, int64_t hd, DType t,
                                    int64_t stride) {
  const int64_t hb = kv_head_bytes(t, hd);
  std::vector<unsigned char> out(size_t(std::max<int64_t>(n, 1) * stride), 0xEE);  // padding: junk
  for (int64_t j = 0; j < n; ++j)
    for (int64_t g = 0; g < kv_heads; ++g) {
      const int64_t padded = t == DType::Q8_0 ? (hd + 31) / 32 * 32 : hd;
      std::vector<float> head(size_t(padded), 0.0f);
      std::copy_n(x.begin() + (j * kv_heads + g) * hd, hd, head.begin());
      quantize_row(t, head.data(), out.data() + j * stride + g * hb, padded);
    }
  return out;
}

TEST_P(Kernels, Attention) {
  const int saved = num_threads();
  struct Case {
    int64_t m, n_keys, heads, kv_heads, hd, pos0;
    bool causal;
    int64_t window;
    bool bias;
    int alibi = 0;  // 1: ALiBi slopes, 2: with Falcon's bf16 rounding
  };
  const Case cases[] = {
      {1, 1, 1, 1, 1, 0, true, 0, false},      {5, 5, 2, 2, 3, 0, true, 0, false},
      {17, 17, 4, 2, 13, 0, true, 0, false},   {65, 65, 3, 1, 64, 0, true, 0, true},
      {130, 130, 4, 4, 32, 0, false, 0, false}, {129, 129, 6, 2, 80, 0, true, 5, false},
      {1, 200, 8, 2, 64, 199, true, 0, false},  {1, 300, 4, 1, 16, 299, true, 70, true},
      {7, 100, 4, 4, 24, 93, true, 0, false},  {33, 71, 2, 1, 40, 0, false, 0, true},
      {20, 140, 32, 1, 8, 120, true, 64, false}, {3, 0, 2, 1, 8, 0, false, 0, false},
      // long contexts: several key slices, split between threads for the few-row ones
      {1, 1000, 4, 1, 40, 999, true, 0, false}, {1, 777, 6, 3, 72, 776, true, 300, true},
      {3, 900, 2, 2, 33, 0, false, 0, false},   {2, 1300, 8, 2, 64, 1298, true, 0, false},
      {40, 600, 4, 2, 20, 560, true, 0, false},
      // bidirectional windows (|j - p| < window): inside one tile, across tiles and slices, with a bias
      {13, 13, 4, 4, 16, 0, false, 3, false},  {150, 150, 2, 1, 24, 0, false, 40, true},
      {600, 600, 2, 2, 16, 0, false, 129, false},
      // ALiBi: odd heads and sizes, decode against long caches, with a bias and bidirectional
      {1, 1, 1, 1, 1, 0, true, 0, false, 1},     {17, 17, 6, 2, 13, 0, true, 0, false, 2},
      {65, 65, 5, 1, 33, 0, true, 0, false, 1},  {7, 300, 12, 4, 16, 293, true, 0, false, 2},
      {1, 777, 6, 3, 24, 776, true, 0, false, 2}, {1, 1300, 4, 1, 40, 1299, true, 0, false, 1},
      {40, 600, 8, 8, 20, 560, true, 0, false, 2}, {33, 71, 3, 1, 40, 0, false, 0, true, 1},
  };
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q8_0})
    for (const Case& c : cases) {
      const std::string what = tag() + " attention " + std::string(dtype_name(t)) + " m=" + std::to_string(c.m) +
                               " keys=" + std::to_string(c.n_keys) + " heads=" + std::to_string(c.heads) + "/" +
                               std::to_string(c.kv_heads) + " hd=" + std::to_string(c.hd) +
                               (c.alibi ? c.alibi == 2 ? " alibi bf16" : " alibi" : "");
      const int64_t ldq = c.heads * c.hd + 3, ldo = c.heads * c.hd + 2, width = c.kv_heads * c.hd;
      // f32 rows with a float of padding (read in place), others with 3 bytes (converted)
      // Rows longer than the heads need (the gap is junk, never read), keeping the element
      // alignment the kernel requires.
      const int64_t stride = c.kv_heads * kv_head_bytes(t, c.hd) + (t == DType::F32 ? 4 : 2);
      auto q = random_vec(c.m * ldq, -2, 2, uint32_t(c.m + c.hd));
      auto kf = random_vec(std::max<int64_t>(c.n_keys, 1) * width, -2, 2, uint32_t(c.n_keys + 1));
      auto vf = random_vec(std::max<int64_t>(c.n_keys, 1) * width, -1, 1, uint32_t(c.n_keys + 2));
      auto k = kv_bytes(kf, c.n_keys, c.kv_heads, c.hd, t, stride), v = kv_bytes(vf, c.n_keys, c.kv_heads, c.hd, t, stride);
      AttentionArgs a;
      a.q = q.data();
      a.ldq = ldq;
      a.k = k.data();
      a.v = v.data();
      a.kv_type = t;
      a.kv_stride = stride;
      a.ldo = ldo;
      a.m = c.m;
      a.n_keys = c.n_keys;
      a.heads = c.heads;
      a.kv_heads = c.kv_heads;
      a.head_dim = c.hd;
      a.q_pos0 = c.pos0;
      a.causal = c.causal;
      a.window = c.window;
      a.scale = 1.0f / std::sqrt(float(c.hd));
      if (c.bias) a.bias = test_bias;
      // slopes that are not powers of two (2^(-8/12·(h+1)), as 12 heads get), so bf16 rounding shows
      std::vector<float> slopes(size_t(c.heads));
      for (int64_t h = 0; h < c.heads; ++h) slopes[size_t(h)] = float(std::pow(2.0, -8.0 / 12.0 * double(h + 1)));
      if (c.alibi) {
        a.alibi = slopes.data();
        a.alibi_scale = 0.75f;
        a.alibi_bf16 = c.alibi == 2;
      }
      std::vector<float> want(size_t(c.m * ldo), 5.0f);
      a.out = want.data();
      reference::attention(a);
      if (!c.causal && c.window > 0) {
        // The oracle's window against the window written as a bias: -inf where |j - p| >= window.
        struct WindowBias {
          int64_t window;
          bool bias;
        } wb{c.window, c.bias};
        AttentionArgs b = a;
        b.window = 0;
        b.bias = [](const void* ctx, int64_t h, int64_t q, int64_t k) {
          const auto* w = static_cast<const WindowBias*>(ctx);
          if (std::abs(k - q) >= w->window) return -std::numeric_limits<float>::infinity();
          return w->bias ? test_bias(nullptr, h, q, k) : 0.0f;
        };
        b.bias_ctx = &wb;
        std::vector<float> masked(size_t(c.m * ldo), 5.0f);
        b.out = masked.data();
        reference::attention(b);
        expect_scaled_close(want.data(), masked.data(), int64_t(want.size()), 1e-6, what + " window as a mask");
      }
      std::vector<std::vector<float>> outs;
      for (int threads : {1, 2, 3, 8}) {
        set_num_threads(threads);
        std::vector<float> got(size_t(c.m * ldo), 5.0f);
        a.out = got.data();
        attention(a);
        if (threads == 1) expect_scaled_close(got.data(), want.data(), int64_t(got.size()), 2e-6, what);
        outs.push_back(std::move(got));
      }
      for (size_t i = 1; i < outs.size(); ++i) EXPECT_EQ(outs[0], outs[i]) << what << ": thread count changes the result";
      if (c.alibi && !c.bias) {
        AttentionArgs b = a;
        AlibiCtx ctx{slopes.data(), a.alibi_scale, a.alibi_bf16};
        b.alibi = nullptr;
        b.bias = alibi_as_bias;
        b.bias_ctx = &ctx;
        std::vector<float> via_bias(size_t(c.m * ldo), 5.0f), plain(size_t(c.m * ldo), 5.0f), unrounded = plain;
        b.out = via_bias.data();
        set_num_threads(1);
        attention(b);
        expect_scaled_close(outs[0].data(), via_bias.data(), int64_t(via_bias.size()), 1e-6, what + " vs bias callback");
        b.bias = nullptr;
        b.out = plain.data();
        reference::attention(b);
        if (c.n_keys > 4) {
          EXPECT_GT(max_abs_diff(want, plain), 1e-2) << what << ": ALiBi had no effect";
        }
        b = a;
        b.alibi_bf16 = false;
        b.out = unrounded.data();
        reference::attention(b);
        if (c.alibi == 2 && c.n_keys > 200) {
          EXPECT_GT(max_abs_diff(want, unrounded), 1e-4) << what << ": bf16 rounding of slope·position had no effect";
        }
      }
      // Batch invariance: each row alone (a decode step at its position over the keys it
      // sees) gives the same bits as within the block.
      if (c.causal && c.n_keys == c.pos0 + c.m)
        for (int threads : {1, 2}) {
          set_num_threads(threads);
          for (int64_t i = 0; i < c.m; ++i) {
            AttentionArgs one = a;
            one.q = q.data() + i * ldq;
            one.m = 1;
            one.q_pos0 = c.pos0 + i;
            one.n_keys = c.pos0 + i + 1;
            std::vector<float> row(size_t(ldo), 5.0f);
            one.out = row.data();
            attention(one);
            EXPECT_EQ(std::memcmp(row.data(), outs[0].data() + i * ldo, size_t(c.heads * c.hd) * 4), 0)
                << what << ": row " << i << " alone differs (" << threads << " threads)";
          }
        }
    }
  set_num_threads(saved);
}

TEST(Attention, RejectsBadKvArguments) {
  std::vector<float> q(8), out(8);
  std::vector<unsigned char> kv(64);
  AttentionArgs a;
  a.q = q.data();
  a.ldq = 8;
  a.k = kv.data();
  a.v = kv.data();
  a.out = out.data();
  a.ldo = 8;
  a.m = 1;
  a.n_keys = 1;
  a.heads = a.kv_heads = 1;
  a.head_dim = 8;
  a.kv_type = DType::Q4_0;
  a.kv_stride = 64;
  EXPECT_THROW(attention(a), Error);
  a.kv_type = DType::F16;
  a.kv_stride = 15;  // one head of 8 f16 values needs 16 bytes
  EXPECT_THROW(attention(a), Error);
  a.kv_stride = 17;  // long enough, but rows would be misaligned for 16-bit values
  EXPECT_THROW(attention(a), Error);
  a.kv_stride = 16;
  EXPECT_NO_THROW(attention(a));
}

INSTANTIATE_TEST_SUITE_P(Isa, Kernels, ::testing::Values(Isa::Scalar, Isa::Avx2, Isa::Avx512),
                         [](const auto& info) { return std::string(isa_name(info.param)); });

TEST(Cpu, DetectionAndOverride) {
  const Isa saved = active_isa();
  EXPECT_LE(int(active_isa()), int(detected_isa()));
  EXPECT_EQ(isa_name(Isa::Scalar), "scalar");
  EXPECT_EQ(isa_name(Isa::Avx2), "avx2");
  EXPECT_EQ(isa_name(Isa::Avx512), "avx512");
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
    if (int(isa) <= int(detected_isa())) {
      set_isa(isa);
      EXPECT_EQ(active_isa(), isa);
    } else {
      EXPECT_THROW(set_isa(isa), Error);
    }
  }
  set_isa(saved);
}

}  // namespace
