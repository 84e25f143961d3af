// gemm_quant over every ggml weight type, on every ISA path this CPU has and several thread
// counts, against two independent references:
//  (a) the product of ggml's own dequantizations, W from dequantize_row and X quantized to the
//      activation type the kernel uses (Q8_0 or Q8_K, quantize_row) and dequantized, summed in
//      double: the kernel must agree to float rounding: 1e-5 of the output's scale, or for an
//      element whose terms cancel, 4e-6 of Σ|w·x| (a few dozen roundings of 6e-8 each: one
//      per block in each of 8 lanes, the lanes' sum);
//  (b) the plain f32 product with the dequantized W: the kernel may differ only by the
//      activation quantization, whose error per element is at most half a step (amax/127/2)
//      of its block, so |got - f32| <= Σ|w|·step/2 (plus rounding) bounds every element.
// Then the invariances the design promises, bit for bit: the same result for every thread
// count (within one ISA), row i of an M=17 call equals the M=1 call on that row, bias and
// accumulate compose as y + (x·W + b), and row strides ldx > k, ldy > n are honoured.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "tessera/core/error.hpp"
#include "tessera/core/parallel.hpp"
#include "tessera/kernels/cpu.hpp"
#include "tessera/kernels/quant.hpp"

using namespace tessera;
using namespace tessera::kernels;

namespace {

const DType kTypes[] = {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0,
                        DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K};

bool is_k(DType t) { return dtype_block_elems(t) == 256; }
DType act_type(DType t) { return is_k(t) ? DType::Q8_K : DType::Q8_0; }

std::vector<Isa> isas() {
  std::vector<Isa> v;
  for (Isa i : {Isa::Scalar, Isa::Avx2, Isa::Avx512})
    if (int(i) <= int(detected_isa())) v.push_back(i);
  return v;
}

// Values with some spread in magnitude between blocks, so the scales differ.
std::vector<float> random_matrix(int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(size_t(rows * cols));
  for (int64_t i = 0; i < rows * cols; ++i) {
    const float block_scale = 0.25f + float((i / 32) % 5);
    v[size_t(i)] = u(rng) * block_scale;
  }
  return v;
}

struct Quantized {
  std::vector<unsigned char> bytes;
  std::vector<float> deq;  // dequantize_row of each row
  QuantWeight w;
};

Quantized quantize_weight(DType t, const std::vector<float>& w, int64_t n, int64_t k) {
  Quantized q;
  const size_t rb = dtype_bytes(t, k);
  q.bytes.resize(rb * size_t(n) + 1);
  q.deq.resize(size_t(n * k));
  for (int64_t r = 0; r < n; ++r) {
    quantize_row(t, w.data() + r * k, q.bytes.data() + size_t(r) * rb, k);
    dequantize_row(t, q.bytes.data() + size_t(r) * rb, q.deq.data() + r * k, k);
  }
  q.w = QuantWeight(q.bytes.data(), t, n, k, nullptr);
  return q;
}

// X as the kernel sees it: each row quantized to the activation type, dequantized.
std::vector<float> act_roundtrip(DType t, const std::vector<float>& x, int64_t m, int64_t k) {
  const DType at = act_type(t);
  std::vector<unsigned char> buf(dtype_bytes(at, k));
  std::vector<float> out(size_t(m * k));
  for (int64_t i = 0; i < m; ++i) {
    quantize_row(at, x.data() + i * k, buf.data(), k);
    dequantize_row(at, buf.data(), out.data() + i * k, k);
  }
  return out;
}

// Half the activation quantization step of the block each element of row x falls in.
std::vector<double> half_steps(DType t, const float* x, int64_t k) {
  const int64_t be = dtype_block_elems(act_type(t));
  std::vector<double> h(static_cast<size_t>(k));
  for (int64_t b = 0; b < k; b += be) {
    double amax = 0;
    for (int64_t j = b; j < b + be; ++j) amax = std::max(amax, std::abs(double(x[j])));
    for (int64_t j = b; j < b + be; ++j) h[size_t(j)] = amax / 127.0 / 2.0 * 1.001 + 1e-30;
  }
  return h;
}

std::string shape(DType t, int64_t m, int64_t n, int64_t k) {
  return std::string(dtype_name(t)) + " M=" + std::to_string(m) + " N=" + std::to_string(n) + " K=" + std::to_string(k);
}

// Runs gemm_quant with the given ISA and thread count; y is [m, ldy] with ldy = n + 3, and its
// padding is checked untouched.
std::vector<float> run(const std::vector<float>& x, int64_t m, int64_t ldx, const QuantWeight& w, Isa isa,
                       int threads, const float* bias = nullptr, const std::vector<float>* init = nullptr) {
  const int64_t n = w.n(), ldy = n + 3;
  std::vector<float> y(size_t(m * ldy), 777.0f);
  if (init) y = *init;
  const Isa saved_isa = active_isa();
  const int saved_threads = num_threads();
  set_isa(isa);
  set_num_threads(threads);
  gemm_quant(x.data(), m, ldx, w, y.data(), ldy, bias, init != nullptr);
  set_isa(saved_isa);
  set_num_threads(saved_threads);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = n; j < ldy; ++j)
      if (y[size_t(i * ldy + j)] != (init ? (*init)[size_t(i * ldy + j)] : 777.0f)) {
        ADD_FAILURE() << "padding of row " << i << " written";
        return y;
      }
  return y;
}

class QuantGemm : public ::testing::TestWithParam<DType> {};

TEST_P(QuantGemm, MatchesReferencesOnEveryIsaAndThreadCount) {
  const DType t = GetParam();
  const std::vector<int64_t> ks = is_k(t) ? std::vector<int64_t>{256, 512, 768} : std::vector<int64_t>{32, 96, 256, 768};
  uint32_t seed = 1;
  for (int64_t k : ks)
    for (int64_t n : {1, 7, 32, 33, 65})
      for (int64_t m : {1, 2, 3, 4, 5, 17, 33, 64}) {
        const std::string what = shape(t, m, n, k);
        const std::vector<float> wf = random_matrix(n, k, seed++);
        const Quantized q = quantize_weight(t, wf, n, k);
        // X with a row stride larger than K (ldx = k + 5); the gap holds NaN, never read.
        const int64_t ldx = k + 5;
        const std::vector<float> xd = random_matrix(m, k, seed++);
        std::vector<float> x(size_t(m * ldx), std::nanf(""));
        for (int64_t i = 0; i < m; ++i) std::copy(xd.begin() + i * k, xd.begin() + (i + 1) * k, x.begin() + i * ldx);
        const std::vector<float> xq = act_roundtrip(t, xd, m, k);
        const int64_t ldy = n + 3;

        // References, in double.
        std::vector<double> ref_q(size_t(m * n)), ref_f(size_t(m * n)), bound(size_t(m * n)), mag(size_t(m * n));
        double scale = 0;
        for (int64_t i = 0; i < m; ++i) {
          const std::vector<double> h = half_steps(t, xd.data() + i * k, k);
          for (int64_t j = 0; j < n; ++j) {
            double sq = 0, sf = 0, b = 0, a = 0;
            for (int64_t p = 0; p < k; ++p) {
              const double wv = q.deq[size_t(j * k + p)];
              sq += wv * xq[size_t(i * k + p)];
              a += std::abs(wv * xq[size_t(i * k + p)]);
              sf += wv * xd[size_t(i * k + p)];
              b += std::abs(wv) * h[size_t(p)];
            }
            ref_q[size_t(i * n + j)] = sq, ref_f[size_t(i * n + j)] = sf, bound[size_t(i * n + j)] = b;
            mag[size_t(i * n + j)] = a;
            scale = std::max(scale, std::abs(sq));
          }
        }

        std::vector<float> y_avx2;
        for (Isa isa : isas()) {
          const std::vector<float> y1 = run(x, m, ldx, q.w, isa, 1);
          // The AVX-512 table runs the AVX2 kernels, with VNNI's dot products where the CPU
          // has them: the same integers, so the same bits.
          if (isa == Isa::Avx2) y_avx2 = y1;
          if (isa == Isa::Avx512)
            ASSERT_EQ(0, std::memcmp(y1.data(), y_avx2.data(), y1.size() * sizeof(float))) << what << ": avx512 differs from avx2";
          for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < n; ++j) {
              const double got = y1[size_t(i * ldy + j)];
              const double rq = ref_q[size_t(i * n + j)], rf = ref_f[size_t(i * n + j)];
              ASSERT_LE(std::abs(got - rq), std::max(1e-5 * scale, 4e-6 * mag[size_t(i * n + j)]) + 1e-30)
                  << what << " " << isa_name(isa) << " (" << i << "," << j << ") got " << got << " want " << rq;
              ASSERT_LE(std::abs(got - rf), bound[size_t(i * n + j)] + 1e-5 * scale)
                  << what << " " << isa_name(isa) << " (" << i << "," << j << ") vs f32 " << rf;
            }
          for (int threads : {2, 3}) {
            const std::vector<float> yt = run(x, m, ldx, q.w, isa, threads);
            ASSERT_EQ(0, std::memcmp(y1.data(), yt.data(), y1.size() * sizeof(float)))
                << what << " " << isa_name(isa) << ": " << threads << " threads differ from 1";
          }
        }
      }
}

// Row i of a 17-row call is bit-identical with the 1-row call on that row (decode and prefill
// agree), on every ISA and with 1 and 3 threads.
TEST_P(QuantGemm, BatchInvariant) {
  const DType t = GetParam();
  const int64_t m = 17, n = 67, k = 768;
  const Quantized q = quantize_weight(t, random_matrix(n, k, 11), n, k);
  const std::vector<float> x = random_matrix(m, k, 12);
  const int64_t ldy = n + 3;
  for (Isa isa : isas())
    for (int threads : {1, 3}) {
      const std::vector<float> all = run(x, m, k, q.w, isa, threads);
      for (int64_t i = 0; i < m; ++i) {
        const std::vector<float> row(x.begin() + i * k, x.begin() + (i + 1) * k);
        const std::vector<float> one = run(row, 1, k, q.w, isa, threads);
        ASSERT_EQ(0, std::memcmp(all.data() + i * ldy, one.data(), size_t(n) * sizeof(float)))
            << dtype_name(t) << " " << isa_name(isa) << " threads=" << threads << ": row " << i;
      }
      // And a prefix of the rows (a different M, so different row tiles) agrees too.
      const std::vector<float> first5(x.begin(), x.begin() + 5 * k);
      const std::vector<float> five = run(first5, 5, k, q.w, isa, threads);
      ASSERT_EQ(0, std::memcmp(all.data(), five.data(), five.size() * sizeof(float))) << dtype_name(t);
    }
}

// y = init + (x·W + bias), as float operations in that order: exact against the plain result.
TEST_P(QuantGemm, BiasAndAccumulate) {
  const DType t = GetParam();
  const int64_t m = 6, n = 35, k = 512, ldy = n + 3;
  const Quantized q = quantize_weight(t, random_matrix(n, k, 21), n, k);
  const std::vector<float> x = random_matrix(m, k, 22);
  const std::vector<float> bias = random_matrix(1, n, 23);
  const std::vector<float> init = random_matrix(m, ldy, 24);
  for (Isa isa : isas()) {
    const std::vector<float> plain = run(x, m, k, q.w, isa, 1);
    const std::vector<float> with_bias = run(x, m, k, q.w, isa, 1, bias.data());
    const std::vector<float> acc = run(x, m, k, q.w, isa, 2, bias.data(), &init);
    const std::vector<float> acc_nobias = run(x, m, k, q.w, isa, 2, nullptr, &init);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        const size_t e = size_t(i * ldy + j);
        const float v = plain[e] + bias[size_t(j)];
        ASSERT_EQ(with_bias[e], v) << dtype_name(t) << " " << isa_name(isa);
        ASSERT_EQ(acc[e], init[e] + v) << dtype_name(t) << " " << isa_name(isa);
        ASSERT_EQ(acc_nobias[e], init[e] + plain[e]) << dtype_name(t) << " " << isa_name(isa);
      }
  }
}

INSTANTIATE_TEST_SUITE_P(Types, QuantGemm, ::testing::ValuesIn(kTypes),
                         [](const ::testing::TestParamInfo<DType>& i) { return std::string(dtype_name(i.param)); });

// Q8_0 blocks may hold -128 (ggml's quantizer never writes it, a file can): |q| = 128 must not
// overflow the u8·s8 pair sums. X of all zeros (scale 0) gives exact zeros.
TEST(QuantGemmEdge, Q8_0ExtremesAndZeroRows) {
  const int64_t n = 3, k = 64;
  std::vector<blocks::Q8_0> w(size_t(n * k / 32));
  for (auto& b : w) {
    b.d = 0x3c00;  // 1.0
    for (int i = 0; i < 32; ++i) b.qs[i] = int8_t(i % 2 ? -128 : 127);
  }
  const QuantWeight qw(w.data(), DType::Q8_0, n, k, nullptr);
  std::vector<float> x(size_t(2 * k));
  for (int64_t i = 0; i < k; ++i) x[size_t(i)] = (i % 2 ? -1.0f : 1.0f);  // quantizes to ±127 exactly
  for (Isa isa : isas()) {
    const std::vector<float> y = run(x, 2, k, qw, isa, 1);
    std::vector<float> deq(static_cast<size_t>(k)), xq(static_cast<size_t>(k));
    dequantize_row(DType::Q8_0, w.data(), deq.data(), k);
    std::vector<unsigned char> xb(dtype_bytes(DType::Q8_0, k));
    quantize_row(DType::Q8_0, x.data(), xb.data(), k);
    dequantize_row(DType::Q8_0, xb.data(), xq.data(), k);
    double ref = 0;
    for (int64_t p = 0; p < k; ++p) ref += double(deq[size_t(p)]) * xq[size_t(p)];
    for (int64_t j = 0; j < n; ++j) {
      EXPECT_NEAR(y[size_t(j)], ref, 1e-6 * std::abs(ref)) << isa_name(isa);
      EXPECT_EQ(y[size_t(n + 3 + j)], 0.0f) << isa_name(isa);
    }
  }
}

// Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K and Q6_K are read from panels (16 rows side by side, sums
// in 16-bit lanes on AVX2): the largest values every sum can reach (all quant bits set, every Q4_K/Q5_K scale
// and min 63, every Q6_K scale -128, X at full scale) must come out exact, on every ISA, for N
// not a multiple of 16.
TEST(QuantGemmEdge, PanelTypesAtTheirLargestSums) {
  const int64_t n = 19, k = 512;
  for (DType t : {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
    std::vector<unsigned char> w(dtype_bytes(t, k) * size_t(n));
    if (t == DType::Q4_0) {
      auto* b = reinterpret_cast<blocks::Q4_0*>(w.data());
      for (int64_t i = 0; i < n * k / 32; ++i) {
        b[i].d = 0x3c00;  // 1.0
        std::memset(b[i].qs, 0xFF, sizeof(b[i].qs));
      }
    } else if (t == DType::Q4_1) {
      auto* b = reinterpret_cast<blocks::Q4_1*>(w.data());
      for (int64_t i = 0; i < n * k / 32; ++i) {
        b[i].d = 0x3c00;
        b[i].m = 0x3800;  // 0.5
        std::memset(b[i].qs, 0xFF, sizeof(b[i].qs));
      }
    } else if (t == DType::Q5_1) {
      auto* b = reinterpret_cast<blocks::Q5_1*>(w.data());
      for (int64_t i = 0; i < n * k / 32; ++i) {
        b[i].d = 0x3c00;
        b[i].m = 0x3800;
        std::memset(b[i].qh, 0xFF, sizeof(b[i].qh));
        std::memset(b[i].qs, 0xFF, sizeof(b[i].qs));
      }
    } else if (t == DType::Q5_0) {
      auto* b = reinterpret_cast<blocks::Q5_0*>(w.data());
      for (int64_t i = 0; i < n * k / 32; ++i) {
        b[i].d = 0x3c00;
        std::memset(b[i].qh, 0xFF, sizeof(b[i].qh));  // every value 31 - 16
        std::memset(b[i].qs, 0xFF, sizeof(b[i].qs));
      }
    } else if (t == DType::Q6_K) {
      auto* b = reinterpret_cast<blocks::Q6_K*>(w.data());
      for (int64_t i = 0; i < n * k / 256; ++i) {
        b[i].d = 0x3c00;
        std::memset(b[i].ql, 0xFF, sizeof(b[i].ql));
        std::memset(b[i].qh, 0xFF, sizeof(b[i].qh));
        for (int8_t& s : b[i].scales) s = -128;
      }
    } else if (t == DType::Q5_K) {
      auto* b = reinterpret_cast<blocks::Q5_K*>(w.data());
      for (int64_t i = 0; i < n * k / 256; ++i) {
        b[i].d = 0x3c00;
        b[i].dmin = 0x3800;
        std::memset(b[i].scales, 0xFF, sizeof(b[i].scales));
        std::memset(b[i].qh, 0xFF, sizeof(b[i].qh));  // every value 31
        std::memset(b[i].qs, 0xFF, sizeof(b[i].qs));
      }
    } else {
      auto* b = reinterpret_cast<blocks::Q4_K*>(w.data());
      for (int64_t i = 0; i < n * k / 256; ++i) {
        b[i].d = 0x3c00;
        b[i].dmin = 0x3800;  // 0.5
        std::memset(b[i].scales, 0xFF, sizeof(b[i].scales));  // every 6-bit scale and min = 63
        std::memset(b[i].qs, 0xFF, sizeof(b[i].qs));
      }
    }
    const QuantWeight qw(w.data(), t, n, k, nullptr);
    EXPECT_TRUE(qw.repacked()) << dtype_name(t);
    const std::vector<float> x(static_cast<size_t>(k), 1.0f);  // quantizes to 127 with scale 1/127
    std::vector<float> deq(static_cast<size_t>(k)), xq(static_cast<size_t>(k));
    std::vector<unsigned char> xb(dtype_bytes(act_type(t), k));
    quantize_row(act_type(t), x.data(), xb.data(), k);
    dequantize_row(act_type(t), xb.data(), xq.data(), k);
    for (Isa isa : isas()) {
      const std::vector<float> y = run(x, 1, k, qw, isa, 1);
      for (int64_t j = 0; j < n; ++j) {
        dequantize_row(t, w.data() + size_t(j) * dtype_bytes(t, k), deq.data(), k);
        double ref = 0;
        for (int64_t p = 0; p < k; ++p) ref += double(deq[size_t(p)]) * xq[size_t(p)];
        EXPECT_NEAR(y[size_t(j)], ref, 1e-5 * std::abs(ref)) << dtype_name(t) << " " << isa_name(isa) << " row " << j;
      }
    }
  }
}

// QuantWeight::concat (Linear::fuse's q|k|v and gate|up for quantized panels): the joined
// weight gives, bit for bit, the parts' outputs side by side, for M = 1 (decode) and M = 5, on
// every ISA; parts that cannot be joined give an empty result.
TEST(QuantGemmEdge, ConcatenatedPanelsEqualTheParts) {
  const int64_t k = 512;
  for (DType t : {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
    std::vector<Quantized> parts;
    std::vector<const QuantWeight*> ptrs;
    uint32_t seed = 40;
    for (int64_t n : {32, 16, 7}) parts.push_back(quantize_weight(t, random_matrix(n, k, seed++), n, k));
    for (const Quantized& q : parts) ptrs.push_back(&q.w);
    const QuantWeight joined = QuantWeight::concat(ptrs);
    ASSERT_TRUE(joined.repacked()) << dtype_name(t);
    ASSERT_EQ(joined.n(), 55);
    for (int64_t m : {1, 5}) {
      const std::vector<float> x = random_matrix(m, k, 99);
      for (Isa isa : isas()) {
        const std::vector<float> y = run(x, m, k, joined, isa, 2);
        int64_t col = 0;
        for (const Quantized& q : parts) {
          const std::vector<float> yp = run(x, m, k, q.w, isa, 1);
          for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < q.w.n(); ++j)
              ASSERT_EQ(y[size_t(i * (55 + 3) + col + j)], yp[size_t(i * (q.w.n() + 3) + j)])
                  << dtype_name(t) << " " << isa_name(isa) << " M=" << m << " row " << i << " col " << col + j;
          col += q.w.n();
        }
      }
    }
    // A part other than the last that is not a whole number of panels, or another type: no join.
    EXPECT_FALSE(QuantWeight::concat({&parts[2].w, &parts[0].w}).repacked());
    const Quantized other = quantize_weight(t == DType::Q8_0 ? DType::Q4_0 : DType::Q8_0, random_matrix(16, k, 7), 16, k);
    EXPECT_FALSE(QuantWeight::concat({&parts[0].w, &other.w}).repacked());
  }
}

TEST(QuantGemmEdge, BadArguments) {
  std::vector<blocks::Q4_0> w(4);
  EXPECT_THROW(QuantWeight(w.data(), DType::Q4_0, 2, 48, nullptr), Error);  // K not a multiple of 32
  EXPECT_THROW(QuantWeight(w.data(), DType::F32, 2, 64, nullptr), Error);
  EXPECT_THROW(QuantWeight(w.data(), DType::Q8_K, 2, 256, nullptr), Error);
  EXPECT_THROW(QuantWeight(nullptr, DType::Q4_0, 2, 64, nullptr), Error);
  const QuantWeight qw(w.data(), DType::Q4_0, 2, 64, nullptr);
  std::vector<float> x(64), y(2);
  EXPECT_THROW(gemm_quant(x.data(), 1, 32, qw, y.data(), 2), Error);  // ldx < K
  EXPECT_THROW(gemm_quant(x.data(), 1, 64, qw, y.data(), 1), Error);  // ldy < N
  EXPECT_THROW(gemm_quant(x.data(), -1, 64, qw, y.data(), 2), Error);
  gemm_quant(x.data(), 0, 64, qw, y.data(), 2);  // M = 0: nothing to do
}

}  // namespace
