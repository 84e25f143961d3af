// ggml's block formats against ggml itself: tests/data/quant/vectors.bin holds what llama.cpp's
// ggml-base (quantize_row_*_ref, dequantize_row_*, its f16/bf16 row converters) produced for fixed
// inputs, written by tools/peers/quant_vectors.c outside this build. quantize_row must give the
// same bytes and dequantize_row the same floats, bit for bit, for every type.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "tessera/core/error.hpp"
#include "tessera/kernels/quant.hpp"

// The bulk inputs below must be the same floats the C generator made: no fused multiply-add
// even when the tests are built with FMA enabled (-march=native).
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace tessera {
// gtest prints parameters through this (otherwise a DType shows as "1-byte object <01>").
inline void PrintTo(DType t, std::ostream* os) { *os << dtype_name(t); }
}  // namespace tessera

using namespace tessera;
using tessera::kernels::dequantize_row;
using tessera::kernels::quantize_row;

namespace {

constexpr DType kTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q4_0, DType::Q4_1,
                            DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::Q2_K, DType::Q3_K,
                            DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::Q8_K};

// One block of reference data: kind 0 quantizes the shared inputs, kind 1 is arbitrary blocks
// (dequantization only), kind 2 quantizes its own special floats (F16/BF16), kind 3 quantizes the
// extra weight-like rows (bytes only, no dequantized floats).
struct Entry {
  DType type;
  uint32_t kind, rows, cols, row_bytes;
  std::vector<float> src;
  std::vector<uint8_t> bytes;
  std::vector<float> deq;
};

struct Vectors {
  uint32_t rows = 0, cols = 0, extra_rows = 0;
  std::vector<float> inputs, extra;
  std::vector<Entry> entries;
};

class Reader {
 public:
  explicit Reader(std::vector<uint8_t> data) : data_(std::move(data)) {}
  void bytes(void* dst, size_t n) {
    if (n > data_.size() - pos_) fail("vectors.bin: truncated at byte {} (wanted {} more)", pos_, n);
    std::memcpy(dst, data_.data() + pos_, n);
    pos_ += n;
  }
  uint32_t u32() {
    uint32_t v;
    bytes(&v, 4);
    return v;
  }
  std::vector<float> floats(size_t n) {
    std::vector<float> v(n);
    bytes(v.data(), n * 4);
    return v;
  }
  bool done() const { return pos_ == data_.size(); }

 private:
  std::vector<uint8_t> data_;
  size_t pos_ = 0;
};

DType type_named(const std::string& name) {
  for (DType t : kTypes)
    if (dtype_name(t) == name) return t;
  fail("vectors.bin: unknown type name '{}'", name);
}

const Vectors& vectors() {
  static const Vectors v = [] {
    const std::string path = std::string(TESSERA_TEST_DATA) + "/quant/vectors.bin";
    std::ifstream f(path, std::ios::binary);
    if (!f) fail("cannot open {}", path);
    Reader r(std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {}));
    char magic[4];
    r.bytes(magic, 4);
    if (std::memcmp(magic, "TQV1", 4) != 0) fail("{}: bad magic", path);
    Vectors out;
    out.rows = r.u32();
    out.cols = r.u32();
    out.inputs = r.floats(size_t(out.rows) * out.cols);
    out.extra_rows = r.u32();
    out.extra = r.floats(size_t(out.extra_rows) * out.cols);
    const uint32_t n = r.u32();
    for (uint32_t i = 0; i < n; ++i) {
      char name[9] = {};
      r.bytes(name, 8);
      Entry e;
      e.type = type_named(name);
      e.kind = r.u32();
      e.rows = r.u32();
      e.cols = r.u32();
      e.row_bytes = r.u32();
      if (e.row_bytes != dtype_bytes(e.type, e.cols)) fail("{}: {} row_bytes {} != {}", path, name, e.row_bytes, dtype_bytes(e.type, e.cols));
      if (e.kind == 2) e.src = r.floats(size_t(e.rows) * e.cols);
      e.bytes.resize(size_t(e.rows) * e.row_bytes);
      r.bytes(e.bytes.data(), e.bytes.size());
      if (e.kind != 3) e.deq = r.floats(size_t(e.rows) * e.cols);
      out.entries.push_back(std::move(e));
    }
    if (!r.done()) fail("{}: trailing bytes", path);
    return out;
  }();
  return v;
}

std::string hex_bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return fmt::format("{:#010x}", b);
}

// Bitwise float comparison that names the first differing element.
::testing::AssertionResult same_floats(const float* got, const float* want, int64_t n) {
  if (std::memcmp(got, want, size_t(n) * 4) == 0) return ::testing::AssertionSuccess();
  int64_t bad = 0, first = -1;
  for (int64_t i = 0; i < n; ++i) {
    if (std::memcmp(&got[i], &want[i], 4) != 0) {
      if (first < 0) first = i;
      ++bad;
    }
  }
  return ::testing::AssertionFailure() << bad << " of " << n << " floats differ; first at " << first << ": got "
                                       << got[first] << " (" << hex_bits(got[first]) << "), ggml " << want[first]
                                       << " (" << hex_bits(want[first]) << ")";
}

::testing::AssertionResult same_bytes(const uint8_t* got, const uint8_t* want, size_t n, size_t block_bytes) {
  if (std::memcmp(got, want, n) == 0) return ::testing::AssertionSuccess();
  size_t bad = 0, first = n;
  for (size_t i = 0; i < n; ++i) {
    if (got[i] != want[i]) {
      if (first == n) first = i;
      ++bad;
    }
  }
  return ::testing::AssertionFailure() << bad << " of " << n << " bytes differ; first at byte " << first << " (block "
                                       << first / block_bytes << ", offset " << first % block_bytes << "): got "
                                       << int(got[first]) << ", ggml " << int(want[first]);
}

class QuantFormatsVsGgml : public ::testing::TestWithParam<DType> {
 protected:
  std::vector<const Entry*> entries(uint32_t kind) const {
    std::vector<const Entry*> out;
    for (const Entry& e : vectors().entries)
      if (e.type == GetParam() && e.kind == kind) out.push_back(&e);
    return out;
  }
};

// quantize_row on the shared inputs (normal, uniform, outliers, all zero, tiny, one huge value,
// positive only, exact ties) gives ggml's bytes; for the block types also on 64 weight-like rows
// (normal, laplace, student-t, sparse outliers, biased, per-block scales); for F16/BF16 also on
// NaN/inf/subnormal floats.
TEST_P(QuantFormatsVsGgml, QuantizeGivesGgmlBytes) {
  const auto plain = entries(0);
  ASSERT_EQ(plain.size(), 1u) << "vectors.bin has no quantization entry for " << dtype_name(GetParam());
  const Vectors& v = vectors();
  const size_t block_bytes = dtype_block_bytes(GetParam());
  for (const Entry* e : plain) {
    std::vector<uint8_t> got(e->row_bytes);
    for (uint32_t r = 0; r < e->rows; ++r) {
      std::memset(got.data(), 0xa5, got.size());  // every byte must be written
      quantize_row(GetParam(), v.inputs.data() + size_t(r) * v.cols, got.data(), v.cols);
      EXPECT_TRUE(same_bytes(got.data(), e->bytes.data() + size_t(r) * e->row_bytes, e->row_bytes, block_bytes))
          << dtype_name(GetParam()) << " input row " << r;
    }
  }
  for (const Entry* e : entries(3)) {
    std::vector<uint8_t> got(e->row_bytes);
    for (uint32_t r = 0; r < e->rows; ++r) {
      quantize_row(GetParam(), v.extra.data() + size_t(r) * v.cols, got.data(), v.cols);
      EXPECT_TRUE(same_bytes(got.data(), e->bytes.data() + size_t(r) * e->row_bytes, e->row_bytes, block_bytes))
          << dtype_name(GetParam()) << " extra row " << r;
    }
  }
  for (const Entry* e : entries(2)) {
    std::vector<uint8_t> got(e->bytes.size());
    quantize_row(GetParam(), e->src.data(), got.data(), int64_t(e->rows) * e->cols);
    EXPECT_TRUE(same_bytes(got.data(), e->bytes.data(), got.size(), block_bytes))
        << dtype_name(GetParam()) << " special floats";
  }
}

// dequantize_row on ggml's own blocks, on arbitrary blocks (random bits: scale encodings the
// quantizer never writes), and on F16/BF16 specials gives ggml's floats, bitwise.
TEST_P(QuantFormatsVsGgml, DequantizeGivesGgmlFloats) {
  size_t checked = 0;
  for (uint32_t kind : {0u, 1u, 2u}) {
    for (const Entry* e : entries(kind)) {
      std::vector<float> got(e->cols);
      for (uint32_t r = 0; r < e->rows; ++r) {
        dequantize_row(GetParam(), e->bytes.data() + size_t(r) * e->row_bytes, got.data(), e->cols);
        EXPECT_TRUE(same_floats(got.data(), e->deq.data() + size_t(r) * e->cols, e->cols))
            << dtype_name(GetParam()) << " kind " << kind << " row " << r;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 0u);
}

std::string type_param_name(const ::testing::TestParamInfo<DType>& info) { return std::string(dtype_name(info.param)); }

INSTANTIATE_TEST_SUITE_P(AllTypes, QuantFormatsVsGgml, ::testing::ValuesIn(kTypes), type_param_name);

// ---------------------------------------------------------------------------------------------
// Bulk: a million values per type, regenerated here exactly as tools/peers/quant_vectors.c's
// bulk_row does (integer PRNG, exact float operations, no libm), compared through 64-bit FNV-1a
// hashes of ggml's bytes and floats (tests/data/quant/bulk_hashes.txt). This catches rounding-order
// slips in the scale searches that flip one block in tens of thousands.

constexpr int kBulkRows = 4096, kBulkCols = 256;

class BulkInput {
 public:
  explicit BulkInput(int row) : state_(0xb01dfaceULL + uint64_t(row)) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  float u() { return float(next() >> 40) * 0x1p-24f; }

 private:
  uint64_t state_;
};

void bulk_row(int r, float* x) {
  BulkInput g(r);
  float scale = 1.0f;
  for (int c = 0; c < kBulkCols; ++c) {
    if (c % 32 == 0) {
      const int k = int(g.next() % 18) - 14;
      scale = (1.0f + g.u()) * (k >= 0 ? float(1 << k) : 1.0f / float(1 << -k));
    }
    const float u1 = g.u(), u2 = g.u(), u3 = g.u(), u4 = g.u();
    const float ih = u1 + u2 + u3 + u4 - 2.0f;
    float v;
    switch (r % 5) {
      case 0: v = ih; break;
      case 1: v = 2.0f * g.u() - 1.0f; break;
      case 2: v = ih / (g.u() + 0.05f); break;
      case 3: v = 0.2f * ih + 0.3f; break;
      default: v = (g.next() % 64 == 0) ? 8.0f * ih : 0.1f * ih; break;
    }
    x[c] = v * scale;
  }
}

uint64_t fnv1a(uint64_t h, const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 0x100000001b3ULL;
  return h;
}

std::map<std::string, std::pair<uint64_t, uint64_t>> bulk_hashes() {
  const std::string path = std::string(TESSERA_TEST_DATA) + "/quant/bulk_hashes.txt";
  std::ifstream f(path);
  if (!f) fail("cannot open {}", path);
  std::map<std::string, std::pair<uint64_t, uint64_t>> out;
  std::string line;
  while (std::getline(f, line)) {
    if (line.empty() || line[0] == '#') continue;
    char name[32];
    unsigned long long hb, hf;
    if (std::sscanf(line.c_str(), "%31s %llx %llx", name, &hb, &hf) != 3) fail("{}: bad line '{}'", path, line);
    out[name] = {hb, hf};
  }
  return out;
}

TEST_P(QuantFormatsVsGgml, BulkQuantizeAndDequantizeHashesMatchGgml) {
  if (!is_quantized(GetParam())) GTEST_SKIP() << "float types are covered value by value";
  const auto hashes = bulk_hashes();
  const auto it = hashes.find(std::string(dtype_name(GetParam())));
  ASSERT_NE(it, hashes.end()) << "bulk_hashes.txt has no " << dtype_name(GetParam());
  const size_t row_bytes = dtype_bytes(GetParam(), kBulkCols);
  std::vector<float> row(kBulkCols), back(kBulkCols);
  std::vector<uint8_t> q(row_bytes);
  uint64_t hb = 0xcbf29ce484222325ULL, hf = 0xcbf29ce484222325ULL;
  for (int r = 0; r < kBulkRows; ++r) {
    bulk_row(r, row.data());
    quantize_row(GetParam(), row.data(), q.data(), kBulkCols);
    dequantize_row(GetParam(), q.data(), back.data(), kBulkCols);
    hb = fnv1a(hb, q.data(), row_bytes);
    hf = fnv1a(hf, back.data(), back.size() * sizeof(float));
  }
  EXPECT_EQ(fmt::format("{:016x}", hb), fmt::format("{:016x}", it->second.first)) << "quantized bytes";
  EXPECT_EQ(fmt::format("{:016x}", hf), fmt::format("{:016x}", it->second.second)) << "dequantized floats";
}

// Every 16-bit pattern widens to ggml's f32 bits, NaNs included (ggml quiets signalling NaNs).
TEST(QuantFormats, EveryF16AndBf16PatternDequantizesLikeGgml) {
  const auto hashes = bulk_hashes();
  std::vector<uint16_t> all(65536);
  for (size_t i = 0; i < all.size(); ++i) all[i] = uint16_t(i);
  std::vector<float> wide(all.size());
  for (DType t : {DType::F16, DType::BF16}) {
    const auto it = hashes.find(std::string(dtype_name(t)) + "_ALL_PATTERNS");
    ASSERT_NE(it, hashes.end()) << dtype_name(t);
    ASSERT_EQ(fnv1a(0xcbf29ce484222325ULL, all.data(), all.size() * 2), it->second.first);
    dequantize_row(t, all.data(), wide.data(), int64_t(all.size()));
    EXPECT_EQ(fmt::format("{:016x}", fnv1a(0xcbf29ce484222325ULL, wide.data(), wide.size() * 4)),
              fmt::format("{:016x}", it->second.second))
        << dtype_name(t);
  }
}

// A row that is not a whole number of blocks, or a type with no block format, is an error that
// names the type.
TEST(QuantFormats, RejectsPartialBlocksAndUnsupportedTypes) {
  std::vector<float> x(600, 1.0f), y(600);
  std::vector<uint8_t> q(4096);
  auto message = [](auto&& fn) {
    try {
      fn();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("<no error>");
  };
  EXPECT_NE(message([&] { quantize_row(DType::Q4_0, x.data(), q.data(), 33); }).find("Q4_0"), std::string::npos);
  EXPECT_NE(message([&] { dequantize_row(DType::Q8_0, q.data(), y.data(), 48); }).find("Q8_0"), std::string::npos);
  EXPECT_NE(message([&] { quantize_row(DType::Q4_K, x.data(), q.data(), 288); }).find("Q4_K"), std::string::npos);
  EXPECT_NE(message([&] { dequantize_row(DType::Q6_K, q.data(), y.data(), 128); }).find("Q6_K"), std::string::npos);
  EXPECT_NE(message([&] { dequantize_row(DType::Q2_K, q.data(), y.data(), -256); }).find("Q2_K"), std::string::npos);
  EXPECT_NE(message([&] { quantize_row(DType::I32, x.data(), q.data(), 4); }).find("I32"), std::string::npos);
  EXPECT_NE(message([&] { dequantize_row(DType::F64, q.data(), y.data(), 4); }).find("F64"), std::string::npos);
  // Whole blocks are fine, and n == 0 is an empty row.
  EXPECT_NO_THROW(quantize_row(DType::Q4_K, x.data(), q.data(), 512));
  EXPECT_NO_THROW(dequantize_row(DType::Q4_K, q.data(), y.data(), 0));
}

// The reference file covers every type in every direction it should.
TEST(QuantFormats, VectorsCoverEveryType) {
  std::map<std::pair<std::string, uint32_t>, int> seen;
  for (const Entry& e : vectors().entries) ++seen[{std::string(dtype_name(e.type)), e.kind}];
  for (DType t : kTypes) {
    EXPECT_EQ((seen[{std::string(dtype_name(t)), 0u}]), 1) << dtype_name(t);
    if (t != DType::F32) {
      EXPECT_EQ((seen[{std::string(dtype_name(t)), 1u}]), 1) << dtype_name(t);
    }
    if (is_quantized(t)) {
      EXPECT_EQ((seen[{std::string(dtype_name(t)), 3u}]), 1) << dtype_name(t);
    }
  }
  EXPECT_EQ((seen[{"F16", 2u}]), 1);
  EXPECT_EQ((seen[{"BF16", 2u}]), 1);
}

}  // namespace
