// The hostile GGUF corpus (tests/data/hostile/gguf, written by tools/hostile/make_gguf_hostile.py):
// every broken file gives a tessera::Error whose message names the file and the key or tensor
// and says what was expected and what was found; never a crash, an out-of-bounds read or an
// allocation sized by a hostile count. One test per file, as in hostile_test.cpp; the ok*
// files load, and every prefix of ok.gguf is refused.
#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "tessera/io/gguf.hpp"

using namespace tessera;

namespace {

std::string hostile(const std::string& rel) { return std::string(TESSERA_TEST_DATA) + "/hostile/gguf/" + rel; }

struct GgufCase {
  const char* file;                    // relative to tests/data/hostile/gguf
  std::vector<const char*> fragments;  // the Error message must contain each, and the file's path
};

void PrintTo(const GgufCase& c, std::ostream* os) { *os << c.file; }

class GgufHostile : public ::testing::TestWithParam<GgufCase> {};

TEST_P(GgufHostile, GivesAClearError) {
  const GgufCase& c = GetParam();
  const std::string path = hostile(c.file);
  ASSERT_TRUE(std::filesystem::exists(path)) << path << ": run tools/hostile/make_gguf_hostile.py";
  try {
    GgufFile::open(path);
    FAIL() << c.file << ": expected a tessera::Error, nothing was thrown";
  } catch (const Error& e) {
    const std::string what = e.what();
    for (const char* f : c.fragments) EXPECT_NE(what.find(f), std::string::npos) << "missing '" << f << "' in: " << what;
    EXPECT_EQ(what.rfind(path + ": ", 0), 0u) << "the message must start with " << path << ": " << what;
  } catch (const std::exception& e) {
    FAIL() << c.file << ": threw a " << typeid(e).name() << " instead of tessera::Error: " << e.what();
  }
}

// clang-format off
const std::vector<GgufCase> kCases = {
  // the header
  {"empty.gguf", {"not a GGUF file: 0 bytes"}},
  {"short.gguf", {"not a GGUF file: 2 bytes"}},
  {"bad_magic.gguf", {"not a GGUF file: it starts with 'GGML', expected 'GGUF'"}},
  {"magic_binary.gguf", {"not a GGUF file: it starts with '\\x00\\xffGU'"}},
  {"version_0.gguf", {"GGUF version 0"}},
  {"version_1.gguf", {"GGUF version 1", "not supported"}},
  {"version_4.gguf", {"GGUF version 4 is not supported (tessera reads versions 2 and 3)"}},
  {"version_byteswapped.gguf", {"0x03000000", "big-endian"}},
  {"tensor_count_absurd.gguf", {"tensor count 4611686018427387904 is impossible"}},
  {"tensor_count_negative.gguf", {"tensor count 18446744073709551615 is impossible"}},
  {"kv_count_absurd.gguf", {"key/value count 1099511627776 is impossible"}},
  {"tensor_count_lies.gguf", {"tensor count 3 is impossible", "at least 32 bytes and 74 bytes follow the key/values"}},
  {"kv_count_lies.gguf", {"truncated", "the name of key #7"}},
  {"truncated_version.gguf", {"truncated: the version needs 4 bytes at offset 4, the file has 2 left"}},
  {"truncated_counts.gguf", {"truncated: the key/value count needs 8 bytes at offset 16, the file has 4 left"}},
  {"truncated_key_length.gguf", {"truncated: the length of the name of key #1 needs 8 bytes at offset 69, the file has 3 left"}},
  {"truncated_key_name.gguf", {"the name of key #1: string of 12 bytes at offset 77 runs past the end of the file (5 bytes left)"}},
  {"truncated_value_type.gguf", {"truncated: the value type of key 'general.name' needs 4 bytes"}},
  {"truncated_string_value.gguf", {"key 'general.name': string of 4 bytes", "runs past the end of the file (2 bytes left)"}},
  {"truncated_array.gguf", {"key 'tokenizer.ggml.tokens' element 2", "string of 2 bytes", "runs past the end"}},
  {"truncated_tensor_name.gguf", {"truncated: the length of the name of tensor #1 needs 8 bytes"}},
  {"truncated_tensor_dims.gguf", {"truncated: dimension 0 of tensor 'w' needs 8 bytes"}},
  {"truncated_tensor_type.gguf", {"truncated: the type of tensor 'w' needs 4 bytes"}},
  {"truncated_tensor_offset.gguf", {"truncated: the data offset of tensor 'w' needs 8 bytes"}},
  {"truncated_padding.gguf", {"the data section starts at byte", "past the end of the file"}},
  {"truncated_data.gguf", {"tensor 'w': offset 32 + 36 bytes runs past the end of the 63-byte data section"}},
  // key/values
  {"key_length_past_end.gguf", {"the name of key #0", "string of 1099511627776 bytes", "runs past the end"}},
  {"key_empty.gguf", {"key #0 has an empty name"}},
  {"key_duplicate.gguf", {"duplicate key 'general.architecture' (keys #0 and #7)"}},
  {"string_past_end.gguf", {"key 'general.name'", "string of 1000000 bytes", "(6 bytes left)"}},
  {"string_length_huge.gguf", {"key 'general.name'", "string of 18446744073709551615 bytes"}},
  {"value_type_bad.gguf", {"key 'general.name': value type 13 is not a GGUF value type (0..12)"}},
  {"value_type_huge.gguf", {"key 'general.name': value type 4294967295 is not a GGUF value type"}},
  {"array_elem_type_bad.gguf", {"key 'tokenizer.ggml.scores': array element type 99 is not a GGUF value type"}},
  {"array_nested.gguf", {"key 'tokenizer.ggml.merges': arrays of arrays are not supported"}},
  {"array_length_past_end.gguf", {"key 'tokenizer.ggml.token_type': array of 1099511627776 I32 elements", "4 bytes left"}},
  {"array_length_wraps.gguf", {"key 'tokenizer.ggml.token_type': array of 4611686018427387904 I32 elements"}},
  {"string_array_count_huge.gguf", {"key 'tokenizer.ggml.tokens': array of 2305843009213693952 STRING elements"}},
  {"string_array_element_past_end.gguf", {"key 'tokenizer.ggml.tokens' element 1", "string of 8589934592 bytes"}},
  {"bool_bad.gguf", {"key 'tokenizer.ggml.add_bos_token': bool value 2, expected 0 or 1"}},
  {"bool_array_bad.gguf", {"key 'flags': element 2: bool value 7, expected 0 or 1"}},
  {"alignment_zero.gguf", {"key 'general.alignment': 0 is not a nonzero power of two"}},
  {"alignment_not_power_of_two.gguf", {"key 'general.alignment': 48 is not a nonzero power of two"}},
  {"alignment_huge.gguf", {"the data section starts at byte 2147483648", "alignment 2147483648", "past the end of the file"}},
  {"alignment_wrong_type.gguf", {"key 'general.alignment': expected U32, found U64"}},
  // tensor infos
  {"tensor_duplicate.gguf", {"duplicate tensor name 'a' (tensors #0 and #1)"}},
  {"tensor_name_too_long.gguf", {"tensor #0: name of 64 bytes is longer than ggml's limit of 63"}},
  {"tensor_name_past_end.gguf", {"the name of tensor #0", "string of 1125899906842624 bytes", "runs past the end"}},
  {"rank_zero.gguf", {"tensor 's': 0 dimensions, expected 1 to 4"}},
  {"rank_5.gguf", {"tensor 'r': 5 dimensions, expected 1 to 4"}},
  {"rank_huge.gguf", {"tensor 'r': 4294967295 dimensions, expected 1 to 4"}},
  {"dim_negative.gguf", {"tensor 't': dimension ne[1] is -2, expected >= 0"}},
  {"dims_overflow.gguf", {"tensor 't': dimensions (ne) [4294967296, 4294967296, 4] have more elements than fit in 64 bits"}},
  {"bytes_overflow.gguf", {"tensor 't': 4611686018427387904 elements of F64 need more than 2^64 bytes"}},
  {"type_unknown.gguf", {"tensor 'blk.0.attn_q.weight' has type 99, which is not a ggml type (supported: F32, F16, BF16"}},
  {"type_huge.gguf", {"tensor 'blk.0.attn_q.weight' has type 4294967295, which is not a ggml type"}},
  {"type_iq2_xxs.gguf", {"tensor 'blk.0.attn_q.weight' has type IQ2_XXS, which tessera does not support (supported: F32, F16, BF16, F64, I8, I16, I32, I64, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K)"}},
  {"type_removed_q4_2.gguf", {"tensor 'blk.0.attn_q.weight' has type Q4_2, which tessera does not support"}},
  {"type_block_mismatch.gguf", {"tensor 'blk.0.ffn_down.weight' of type Q4_K has 32 elements per row (ne[0]), not a multiple of its block size 256"}},
  // tensor data
  {"offset_misaligned.gguf", {"tensor 'w': offset 36 is not a multiple of the alignment 32"}},
  {"offset_past_end.gguf", {"tensor 'w': offset 1099511627776 + 36 bytes runs past the end of the 68-byte data section"}},
  {"offset_wraps.gguf", {"tensor 'w': offset 18446744073709551584 + 36 bytes runs past the end"}},
  {"tensor_past_end.gguf", {"tensor 'w': offset 32 + 72 bytes runs past the end of the 68-byte data section"}},
  {"overlap_same_offset.gguf", {"tensors 'a' (data bytes 0..16) and 'w' (0..36) overlap"}},
  {"overlap_partial.gguf", {"tensors 'a' (data bytes 0..64) and 'b' (32..64) overlap"}},
  {"data_section_past_end.gguf", {"the data section starts at byte", "past the end of the file"}},
};
// clang-format on

std::string case_name(const ::testing::TestParamInfo<GgufCase>& info) {
  std::string n = info.param.file;
  n = n.substr(0, n.find('.'));
  for (char& ch : n)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(Gguf, GgufHostile, ::testing::ValuesIn(kCases), case_name);

// Every file in the corpus directory is either listed above or an ok* file, so a case the
// generator adds cannot go untested.
TEST(GgufHostileCorpus, EveryFileIsChecked) {
  std::set<std::string> listed;
  for (const auto& c : kCases) listed.insert(c.file);
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(hostile(""))) {
    const std::string name = e.path().filename().string();
    if (name.rfind("ok", 0) == 0) continue;
    EXPECT_TRUE(listed.count(name)) << name << " is not in kCases";
    ++n;
  }
  EXPECT_EQ(size_t(n), kCases.size());
}

TEST(GgufHostileCorpus, ValidFilesLoad) {
  auto ok = GgufFile::open(hostile("ok.gguf"));
  EXPECT_EQ(ok.keys().size(), 7u);
  EXPECT_EQ(ok.get_string("general.architecture"), "llama");
  EXPECT_EQ(ok.get_int("llama.block_count"), 2);
  EXPECT_TRUE(ok.get_bool("tokenizer.ggml.add_bos_token"));
  EXPECT_EQ(ok.get_string_array("tokenizer.ggml.tokens"), (std::vector<std::string>{"a", "b", "ab"}));
  EXPECT_EQ(ok.tensor_names(), (std::vector<std::string>{"a", "w"}));
  Tensor a = ok.tensor("a");
  EXPECT_EQ(a.shape(), (Shape{4}));
  EXPECT_EQ(a.get_f32(1), -2.0f);
  EXPECT_EQ(a.get_f32(2), 3.5f);
  const auto& w = ok.tensor_info("w");
  EXPECT_EQ(w.dtype, DType::Q4_0);
  EXPECT_EQ(w.shape, (Shape{2, 32}));
  EXPECT_EQ(w.bytes, 36u);
  Tensor wt = ok.tensor("w");
  for (int i = 0; i < 36; ++i) EXPECT_EQ(static_cast<const unsigned char*>(wt.raw())[i], i);

  EXPECT_TRUE(GgufFile::open(hostile("ok_no_tensors.gguf")).tensor_names().empty());
  auto empty = GgufFile::open(hostile("ok_empty.gguf"));
  EXPECT_TRUE(empty.keys().empty());
  EXPECT_EQ(empty.data_offset(), 24u);
  auto z = GgufFile::open(hostile("ok_zero_elements.gguf"));
  EXPECT_EQ(z.tensor("z").shape(), (Shape{3, 0}));
  EXPECT_EQ(z.tensor("a").get_f32(3), 4.0f);
  auto a8 = GgufFile::open(hostile("ok_alignment_8.gguf"));
  EXPECT_EQ(a8.alignment(), 8u);
  EXPECT_EQ(a8.tensor("b").get_f32(0), 3.0f);
}

// ok.gguf cut at every length: each prefix is an Error naming the file (this walks through
// every field of the header, not only the truncation points the corpus keeps).
TEST(GgufHostileCorpus, EveryPrefixOfAValidFileIsRefused) {
  std::ifstream in(hostile("ok.gguf"), std::ios::binary);
  const std::string bytes(std::istreambuf_iterator<char>(in), {});
  ASSERT_GT(bytes.size(), 100u);
  const std::string path = ::testing::TempDir() + "/gguf_prefix.gguf";
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), std::streamsize(n));
    try {
      GgufFile::open(path);
      ADD_FAILURE() << "a prefix of " << n << " bytes opened";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).rfind(path + ": ", 0), 0u) << n << ": " << e.what();
    }
  }
}

}  // namespace
