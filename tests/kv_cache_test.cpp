// KvCache: rows stored in the cache's dtype, converted once when written; the layout
// kernels::attention reads (heads of kv_head_bytes each, Q8_0 heads in their own zero-padded
// blocks); copies (beam search) keep dtype and bytes; bad types and overflow are Errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "tessera/blocks/kv_cache.hpp"
#include "tessera/core/half.hpp"

using namespace tessera;

namespace {

// Head h of row `pos` of the keys, read back by hand from the documented layout.
std::vector<float> read_head(const KvCache& c, int64_t pos, int64_t h) {
  const auto* row = static_cast<const unsigned char*>(c.key_data()) + pos * c.row_bytes();
  const int64_t hd = c.head_dim();
  std::vector<float> out(static_cast<size_t>(hd));
  if (c.dtype() == DType::Q8_0) {
    const unsigned char* head = row + h * ((hd + 31) / 32) * 34;
    for (int64_t i = 0; i < hd; ++i) {
      const unsigned char* blk = head + (i / 32) * 34;
      uint16_t d;
      std::memcpy(&d, blk, 2);
      out[size_t(i)] = f16_to_f32(d) * float(int8_t(blk[2 + i % 32]));
    }
    return out;
  }
  const size_t es = dtype_size(c.dtype());
  for (int64_t i = 0; i < hd; ++i) {
    const unsigned char* p = row + size_t(h * hd + i) * es;
    uint16_t u;
    std::memcpy(&u, p, 2);
    float f;
    std::memcpy(&f, p, 4 * (es == 4));
    out[size_t(i)] = c.dtype() == DType::F32 ? f : c.dtype() == DType::F16 ? f16_to_f32(u) : bf16_to_f32(u);
  }
  return out;
}

}  // namespace

TEST(KvCache, RowBytesFollowTheDtype) {
  // 3 heads of 40: f32 480 bytes, f16/bf16 240, q8_0 two 34-byte blocks per head = 204.
  EXPECT_EQ(KvCache(3, 40, 8, DType::F32).row_bytes(), 480);
  EXPECT_EQ(KvCache(3, 40, 8, DType::F16).row_bytes(), 240);
  EXPECT_EQ(KvCache(3, 40, 8, DType::BF16).row_bytes(), 240);
  EXPECT_EQ(KvCache(3, 40, 8, DType::Q8_0).row_bytes(), 204);
  EXPECT_THROW(KvCache(3, 40, 8, DType::Q4_0), Error);
  EXPECT_THROW(KvCache(3, 40, 8, DType::I32), Error);
}

TEST(KvCache, WritesConvertOnce) {
  const int64_t heads = 2, hd = 40;
  // Values chosen by hand: multiples of 1/8 (exact in f16 and bf16), and ties.
  std::vector<float> row(size_t(heads * hd));
  for (int64_t i = 0; i < heads * hd; ++i) row[size_t(i)] = float(i - 37) / 8.0f;
  row[3] = 1.0f + 1.0f / 2048.0f;  // halfway between f16 1 and 1 + 2^-10: rounds to even (1)
  row[4] = 1.0f + 1.0f / 256.0f;   // halfway between bf16 1 and 1 + 2^-7: rounds to even (1)
  for (DType t : {DType::F32, DType::F16, DType::BF16}) {
    KvCache c(heads, hd, 4, t);
    c.write(c.append(1), 1, row.data(), row.data(), heads * hd);
    for (int64_t h = 0; h < heads; ++h) {
      auto got = read_head(c, 0, h);
      for (int64_t i = 0; i < hd; ++i) {
        float want = row[size_t(h * hd + i)];
        if (h == 0 && i == 3 && t == DType::F16) want = 1.0f;
        if (h == 0 && (i == 3 || i == 4) && t == DType::BF16) want = 1.0f;
        EXPECT_EQ(got[size_t(i)], want) << dtype_name(t) << " head " << h << " value " << i;
      }
    }
  }
  // Q8_0, ggml's rule: d = amax / 127 per block, q = round(x / d). Block 0 of head 0 holds
  // -37/8 .. -6/8, amax 37/8, so -37/8 is exactly -127 · d; every value within d / 2 (+ the
  // f16 rounding of d). Head 0's second block holds 8 values and 24 zeros of padding.
  KvCache c(heads, hd, 4, DType::Q8_0);
  c.write(c.append(1), 1, row.data(), row.data(), heads * hd);
  for (int64_t h = 0; h < heads; ++h) {
    auto got = read_head(c, 0, h);
    for (int64_t i = 0; i < hd; ++i) {
      const int64_t b0 = h * hd + i / 32 * 32, b1 = std::min(b0 + 32, h * hd + hd);
      float amax = 0;
      for (int64_t j = b0; j < b1; ++j) amax = std::max(amax, std::abs(row[size_t(j)]));
      const float d = amax / 127.0f;
      EXPECT_NEAR(got[size_t(i)], row[size_t(h * hd + i)], d / 2 + amax * 1e-3f) << "head " << h << " value " << i;
    }
  }
  const auto* head0 = static_cast<const unsigned char*>(c.key_data());
  EXPECT_EQ(int8_t(head0[2]), -127);  // -37/8 is the block's largest magnitude
  for (int j = 8; j < 32; ++j) EXPECT_EQ(head0[34 + 2 + j], 0) << "padding " << j;
}

TEST(KvCache, CopiesKeepDtypeAndBytes) {
  KvCache a(1, 8, 16, DType::Q8_0);
  std::vector<float> row = {1, 2, 3, 4, 5, 6, 7, 8};
  a.write(a.append(1), 1, row.data(), row.data(), 8);
  KvCache b = a;
  EXPECT_EQ(b.dtype(), DType::Q8_0);
  EXPECT_EQ(b.length(), 1);
  EXPECT_EQ(std::memcmp(a.key_data(), b.key_data(), size_t(a.row_bytes())), 0);
  EXPECT_EQ(std::memcmp(a.value_data(), b.value_data(), size_t(a.row_bytes())), 0);
}

TEST(KvCache, AppendingPastCapacityIsAnError) {
  KvCache c(1, 4, 3, DType::F16);
  c.append(3);
  EXPECT_THROW(c.append(1), Error);
  std::vector<float> row(4);
  EXPECT_THROW(c.write(3, 1, row.data(), row.data(), 4), Error);
}
