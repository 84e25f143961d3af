// GGUF: the writer's bytes against a file laid out by hand from the format, round trips of
// every value type and of quantized tensor bytes, and the two llama.cpp-written pycode-6m
// files read back with the values llama.cpp's own gguf-py reader reports for them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include "tessera/io/gguf.hpp"

using namespace tessera;

namespace {

std::string tmp(const std::string& name) { return ::testing::TempDir() + "/" + name; }
std::string gguf_data(const std::string& name) { return std::string(TESSERA_TEST_DATA) + "/gguf/" + name; }

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// zlib's CRC-32 (reflected polynomial 0xEDB88320), the checksum Python's zlib.crc32 gives.
uint32_t crc32(const void* data, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

// Little-endian encoders for the hand-made file.
template <typename T>
std::string le(T v) {
  return std::string(reinterpret_cast<const char*>(&v), sizeof(T));
}
std::string gstr(const std::string& s) { return le<uint64_t>(s.size()) + s; }

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

// The writer's output, byte for byte, against a file encoded by hand from gguf.h's layout.
TEST(Gguf, WriterBytesMatchTheFormat) {
  GgufWriter w;
  w.set("general.architecture", GgufValue("llama"));
  w.set("n", GgufValue(uint32_t(7)));
  w.set("ids", GgufValue::array(std::vector<int32_t>{-1, 2}));
  Tensor t = Tensor::from_f32({2, 3}, {1, 2, 3, 4, 5, 6});  // ne = [3, 2]
  w.add_tensor("t", t);
  w.write(tmp("hand.gguf"));

  std::string want = "GGUF" + le<uint32_t>(3) + le<uint64_t>(1) + le<uint64_t>(3);
  want += gstr("general.architecture") + le<uint32_t>(8) + gstr("llama");
  want += gstr("n") + le<uint32_t>(4) + le<uint32_t>(7);
  want += gstr("ids") + le<uint32_t>(9) + le<uint32_t>(5) + le<uint64_t>(2) + le<int32_t>(-1) + le<int32_t>(2);
  want += gstr("t") + le<uint32_t>(2) + le<int64_t>(3) + le<int64_t>(2) + le<uint32_t>(0) + le<uint64_t>(0);
  want.resize((want.size() + 31) / 32 * 32, '\0');
  for (float v : {1.f, 2.f, 3.f, 4.f, 5.f, 6.f}) want += le<float>(v);
  want.resize(want.size() + 8, '\0');  // 24 data bytes padded to 32
  EXPECT_EQ(read_bytes(tmp("hand.gguf")), want);
}

TEST(Gguf, RoundTripEveryValueTypeAndTensorType) {
  GgufWriter w;
  w.set("u8", GgufValue(uint8_t(200)));
  w.set("i8", GgufValue(int8_t(-100)));
  w.set("u16", GgufValue(uint16_t(60000)));
  w.set("i16", GgufValue(int16_t(-30000)));
  w.set("u32", GgufValue(uint32_t(4000000000u)));
  w.set("i32", GgufValue(int32_t(-2000000000)));
  w.set("f32", GgufValue(1.5f));
  w.set("bool", GgufValue(true));
  w.set("str", GgufValue(std::string("h\xc3\xa9llo")));
  w.set("u64", GgufValue(uint64_t(18446744073709551615ull)));
  w.set("i64", GgufValue(int64_t(-9000000000000000000ll)));
  w.set("f64", GgufValue(-2.25e300));
  w.set("a.u8", GgufValue::array(std::vector<uint8_t>{1, 255}));
  w.set("a.i16", GgufValue::array(std::vector<int16_t>{-5, 7}));
  w.set("a.u32", GgufValue::array(std::vector<uint32_t>{1, 2, 3}));
  w.set("a.i64", GgufValue::array(std::vector<int64_t>{-1, 1ll << 40}));
  w.set("a.f32", GgufValue::array(std::vector<float>{0.5f, -0.25f}));
  w.set("a.f64", GgufValue::array(std::vector<double>{1e-300}));
  w.set("a.bool", GgufValue::array(std::vector<bool>{true, false, true}));
  w.set("a.str", GgufValue::array(std::vector<std::string>{"", "a", std::string("x\0y", 3)}));
  w.set("a.empty", GgufValue::array(std::vector<int32_t>{}));
  w.set("i32", GgufValue(int32_t(-2000000001)));  // replaces, keeping its place

  // Tensors: plain types and quantized blocks (bytes are arbitrary: the file does not care).
  Tensor f16 = Tensor::zeros(DType::F16, {3});
  for (int i = 0; i < 3; ++i) f16.data<uint16_t>()[i] = uint16_t(0x3c00 + i);
  Tensor i32 = Tensor::zeros(DType::I32, {2, 2, 1});
  for (int i = 0; i < 4; ++i) i32.data<int32_t>()[i] = -i;
  Tensor q4k = Tensor::zeros(DType::Q4_K, {2, 512});  // 2 rows of 2 super-blocks
  for (size_t i = 0; i < q4k.nbytes(); ++i) static_cast<unsigned char*>(q4k.raw())[i] = uint8_t(i * 7 + 1);
  Tensor q8 = Tensor::zeros(DType::Q8_0, {1, 1, 3, 32});
  for (size_t i = 0; i < q8.nbytes(); ++i) static_cast<unsigned char*>(q8.raw())[i] = uint8_t(255 - i);
  w.add_tensor("f16", f16);
  w.add_tensor("blk.0.ffn_down.weight", q4k);
  w.add_tensor("i32", i32);
  w.add_tensor("q8", q8);
  w.add_tensor("empty", Tensor::zeros(DType::F32, {0, 4}));
  w.write(tmp("rt.gguf"));

  auto f = GgufFile::open(tmp("rt.gguf"));
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 32u);
  EXPECT_EQ(f.data_offset() % 32, 0u);
  EXPECT_EQ(f.keys(), (std::vector<std::string>{"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str", "u64",
                                                "i64", "f64", "a.u8", "a.i16", "a.u32", "a.i64", "a.f32", "a.f64",
                                                "a.bool", "a.str", "a.empty"}));
  using T = GgufValue::Type;
  const std::map<std::string, T> types = {{"u8", T::U8},   {"i8", T::I8},   {"u16", T::U16},   {"i16", T::I16},
                                          {"u32", T::U32}, {"i32", T::I32}, {"f32", T::F32},   {"bool", T::Bool},
                                          {"str", T::String}, {"u64", T::U64}, {"i64", T::I64}, {"f64", T::F64}};
  for (const auto& [k, t] : types) EXPECT_EQ(f.get(k).type(), t) << k;
  EXPECT_EQ(f.get_int("u8"), 200);
  EXPECT_EQ(f.get_int("i8"), -100);
  EXPECT_EQ(f.get_int("u16"), 60000);
  EXPECT_EQ(f.get_int("i16"), -30000);
  EXPECT_EQ(f.get_int("u32"), 4000000000ll);
  EXPECT_EQ(f.get_int("i32"), -2000000001);
  EXPECT_EQ(f.get_float("f32"), 1.5);
  EXPECT_TRUE(f.get_bool("bool"));
  EXPECT_EQ(f.get_string("str"), "h\xc3\xa9llo");
  EXPECT_EQ(f.get("u64").as_uint(), 18446744073709551615ull);
  EXPECT_EQ(f.get_int("i64"), -9000000000000000000ll);
  EXPECT_EQ(f.get_float("f64"), -2.25e300);
  EXPECT_EQ(f.get("a.u8").elem_type(), T::U8);
  EXPECT_EQ(f.get_int_array("a.u8"), (std::vector<int64_t>{1, 255}));
  EXPECT_EQ(f.get_int_array("a.i16"), (std::vector<int64_t>{-5, 7}));
  EXPECT_EQ(f.get_int_array("a.u32"), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(f.get_int_array("a.i64"), (std::vector<int64_t>{-1, 1ll << 40}));
  EXPECT_EQ(f.get_float_array("a.f32"), (std::vector<float>{0.5f, -0.25f}));
  EXPECT_EQ(f.get("a.f64").float_at(0), 1e-300);
  EXPECT_EQ(f.get("a.bool").size(), 3u);
  EXPECT_TRUE(f.get("a.bool").bool_at(0));
  EXPECT_FALSE(f.get("a.bool").bool_at(1));
  EXPECT_EQ(f.get_string_array("a.str"), (std::vector<std::string>{"", "a", std::string("x\0y", 3)}));
  EXPECT_EQ(f.get("a.str").type_name(), "array of STRING");
  EXPECT_EQ(f.get("a.empty").size(), 0u);
  EXPECT_EQ(f.get("a.empty").elem_type(), T::I32);

  EXPECT_EQ(f.tensor_names(), (std::vector<std::string>{"f16", "blk.0.ffn_down.weight", "i32", "q8", "empty"}));
  for (const auto& [name, orig] : std::vector<std::pair<std::string, Tensor>>{
           {"f16", f16}, {"blk.0.ffn_down.weight", q4k}, {"i32", i32}, {"q8", q8}}) {
    const auto& info = f.tensor_info(name);
    EXPECT_EQ(info.dtype, orig.dtype()) << name;
    EXPECT_EQ(info.shape, orig.shape()) << name;
    EXPECT_EQ(info.bytes, orig.nbytes()) << name;
    EXPECT_EQ((info.offset - f.data_offset()) % 32, 0u) << name;
    Tensor t = f.tensor(name);
    EXPECT_EQ(t.dtype(), orig.dtype());
    EXPECT_EQ(t.shape(), orig.shape());
    ASSERT_EQ(t.nbytes(), orig.nbytes());
    EXPECT_EQ(std::memcmp(t.raw(), orig.raw(), t.nbytes()), 0) << name;
  }
  EXPECT_EQ(f.tensor_info("blk.0.ffn_down.weight").bytes, 2u * 2 * 144);
  EXPECT_EQ(f.tensor("empty").numel(), 0);
}

TEST(Gguf, TensorsOutliveTheFileAndCopyOnlyWhenMisaligned) {
  GgufWriter w;
  w.set("general.alignment", GgufValue(uint32_t(1)));
  Tensor one = Tensor::zeros(DType::I8, {1});
  one.data<int8_t>()[0] = 9;
  w.add_tensor("one", one);
  w.add_tensor("x", Tensor::from_f32({2}, {1.25f, -3.5f}));  // at data byte 1: misaligned
  w.write(tmp("align1.gguf"));
  Tensor x;
  {
    auto f = GgufFile::open(tmp("align1.gguf"));
    EXPECT_EQ(f.alignment(), 1u);
    EXPECT_EQ(f.tensor_info("x").offset, f.data_offset() + 1);
    x = f.tensor("x");
    f.release("x");
  }
  EXPECT_EQ(x.get_f32(0), 1.25f);
  EXPECT_EQ(x.get_f32(1), -3.5f);

  // general.alignment 64 is honoured by the writer and the reader.
  GgufWriter w64;
  w64.set("general.alignment", GgufValue(uint32_t(64)));
  w64.add_tensor("a", Tensor::from_f32({3}, {1, 2, 3}));
  w64.add_tensor("b", Tensor::from_f32({1}, {4}));
  w64.write(tmp("align64.gguf"));
  auto f = GgufFile::open(tmp("align64.gguf"));
  EXPECT_EQ(f.alignment(), 64u);
  EXPECT_EQ(f.data_offset() % 64, 0u);
  EXPECT_EQ(f.tensor_info("b").offset - f.data_offset(), 64u);
  EXPECT_EQ(f.tensor("b").get_f32(0), 4.0f);
}

TEST(Gguf, TypedGettersSayWhatTheyExpectedAndFound) {
  GgufWriter w;
  w.set("name", GgufValue("pycode"));
  w.set("count", GgufValue(uint16_t(12)));
  w.set("big", GgufValue(uint64_t(1) << 63));
  w.set("eps", GgufValue(1e-5f));
  w.set("flag", GgufValue(uint8_t(1)));
  w.set("tokens", GgufValue::array(std::vector<std::string>{"a"}));
  w.write(tmp("getters.gguf"));
  auto f = GgufFile::open(tmp("getters.gguf"));
  const std::string p = tmp("getters.gguf");

  EXPECT_EQ(f.get_int("count"), 12);
  EXPECT_EQ(f.get_float("count"), 12.0);  // an integer is a number
  EXPECT_FLOAT_EQ(float(f.get_float("eps")), 1e-5f);
  EXPECT_EQ(f.get_int("missing", -3), -3);
  EXPECT_EQ(f.get_string("missing", "x"), "x");
  EXPECT_TRUE(f.get_bool("missing", true));
  EXPECT_EQ(f.get_float("missing", 0.5), 0.5);

  EXPECT_EQ(error_of([&] { f.get_int("name"); }), p + ": key 'name': expected an integer, found STRING");
  EXPECT_EQ(error_of([&] { f.get_int("name", 1); }), p + ": key 'name': expected an integer, found STRING");
  EXPECT_EQ(error_of([&] { f.get_string("count"); }), p + ": key 'count': expected STRING, found U16");
  EXPECT_EQ(error_of([&] { f.get_bool("flag"); }), p + ": key 'flag': expected BOOL, found U8");
  EXPECT_EQ(error_of([&] { f.get_float("name"); }), p + ": key 'name': expected a number, found STRING");
  EXPECT_EQ(error_of([&] { f.get_string("tokens"); }), p + ": key 'tokens': expected STRING, found array of STRING");
  EXPECT_EQ(error_of([&] { f.get_int_array("tokens"); }), p + ": key 'tokens': expected an integer, found STRING");
  EXPECT_EQ(error_of([&] { f.get_string_array("count"); }), p + ": key 'count': expected an array of STRING, found U16");
  EXPECT_NE(error_of([&] { f.get_int("big"); }).find("key 'big': expected an integer, found U64 9223372036854775808"),
            std::string::npos);
  EXPECT_EQ(error_of([&] { f.get("nope"); }), p + ": missing key 'nope'");
  EXPECT_EQ(error_of([&] { f.tensor("nope"); }), p + ": no tensor named 'nope'");
  EXPECT_FALSE(f.has_tensor("nope"));
}

TEST(Gguf, WriterRefusesWhatGgufCannotHold) {
  GgufWriter w;
  EXPECT_NE(error_of([&] { w.add_tensor("u8", Tensor::zeros(DType::U8, {4})); }).find("dtype U8 cannot be stored"),
            std::string::npos);
  EXPECT_NE(error_of([&] { w.add_tensor("r5", Tensor::zeros(DType::F32, {1, 1, 1, 1, 2})); }).find("rank 5"),
            std::string::npos);
  EXPECT_NE(error_of([&] { w.add_tensor("q", Tensor::zeros(DType::Q4_0, {2, 32}).reshaped({4, 16})); })
                .find("tensor 'q' of type Q4_0 has rows of 16 elements, not a multiple of its block size 32"),
            std::string::npos);
  w.add_tensor("a", Tensor::zeros(DType::F32, {1}));
  EXPECT_NE(error_of([&] { w.add_tensor("a", Tensor::zeros(DType::F32, {1})); }).find("added twice"),
            std::string::npos);
  EXPECT_NE(error_of([&] { w.add_tensor(std::string(64, 'n'), Tensor::zeros(DType::F32, {1})); }).find("limit of 63"),
            std::string::npos);
  w.set("general.alignment", GgufValue(uint32_t(24)));
  EXPECT_NE(error_of([&] { w.write(tmp("never.gguf")); }).find("24 is not a nonzero power of two"), std::string::npos);
  w.set("general.alignment", GgufValue(int32_t(32)));
  EXPECT_NE(error_of([&] { w.write(tmp("never.gguf")); }).find("expected U32, found I32"), std::string::npos);
}

TEST(Gguf, TypeIdsAndNames) {
  EXPECT_EQ(gguf_type_of(DType::Q4_K), 12u);
  EXPECT_EQ(gguf_type_of(DType::BF16), 30u);
  EXPECT_EQ(dtype_from_gguf_type(14, "t"), DType::Q6_K);
  EXPECT_EQ(ggml_type_name(16), "IQ2_XXS");
  EXPECT_EQ(ggml_type_name(39), "MXFP4");
  EXPECT_EQ(ggml_type_name(43), "");
  EXPECT_NE(error_of([] { dtype_from_gguf_type(15, "tensor 'x'"); })
                .find("tensor 'x' has type Q8_K, which tessera does not support (supported: F32, F16, BF16"),
            std::string::npos);
}

// ---------------------------------------------------------------------------------------
// The files llama.cpp wrote (shared/models/pycode-6m-gguf, copied to tests/data/gguf). Every
// expected value below is what llama.cpp's gguf-py (GGUFReader, /work/peers/llama.cpp/gguf-py
// at 34af94c) reports for the same file: fields, tensor types, ne, absolute data offsets,
// byte counts, zlib.crc32 of each tensor's bytes and its first floats.

struct RealTensor {
  const char* name;
  DType dtype;
  Shape shape;  // gguf-py's shape (ne) reversed
  size_t offset, bytes;
  uint32_t crc;
};

void check_pycode_metadata(const GgufFile& f) {
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 32u);
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_EQ(f.get_string("general.name"), "pycode-6m");
  EXPECT_EQ(f.get("llama.block_count").type(), GgufValue::Type::U32);
  EXPECT_EQ(f.get_int("llama.block_count"), 6);
  EXPECT_EQ(f.get_int("llama.context_length"), 512);
  EXPECT_EQ(f.get_int("llama.embedding_length"), 256);
  EXPECT_EQ(f.get_int("llama.feed_forward_length"), 704);
  EXPECT_EQ(f.get_int("llama.attention.head_count"), 4);
  EXPECT_EQ(f.get_int("llama.attention.head_count_kv"), 2);
  EXPECT_EQ(f.get("llama.rope.freq_base").type(), GgufValue::Type::F32);
  EXPECT_EQ(f.get_float("llama.rope.freq_base"), 10000.0);
  EXPECT_EQ(f.get_float("llama.attention.layer_norm_rms_epsilon"), 9.999999747378752e-06);
  EXPECT_EQ(f.get_int("llama.rope.dimension_count"), 64);
  EXPECT_EQ(f.get_int("llama.vocab_size"), 4096);
  EXPECT_EQ(f.get_string("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(f.get_string("tokenizer.ggml.pre"), "gpt-2");
  const auto& tokens = f.get("tokenizer.ggml.tokens").strings();
  ASSERT_EQ(tokens.size(), 4096u);
  EXPECT_EQ(tokens[0], "<|endoftext|>");
  EXPECT_EQ(tokens[10], "*");
  EXPECT_EQ(tokens[100], "\xc2\xa6");  // '¦'
  EXPECT_EQ(tokens[4095], "\xc4\xa0readline");  // 'Ġreadline'
  auto types = f.get_int_array("tokenizer.ggml.token_type");
  ASSERT_EQ(types.size(), 4096u);
  EXPECT_EQ(f.get("tokenizer.ggml.token_type").elem_type(), GgufValue::Type::I32);
  EXPECT_EQ(types[0], 3);
  EXPECT_EQ(std::count(types.begin(), types.end(), 1), 4095);
  auto merges = f.get_string_array("tokenizer.ggml.merges");
  ASSERT_EQ(merges.size(), 3839u);
  EXPECT_EQ(merges[0], "\xc4\xa0 \xc4\xa0");  // 'Ġ Ġ'
  EXPECT_EQ(merges[3838], "\xc4\xa0read line");
  EXPECT_EQ(f.get_int("tokenizer.ggml.bos_token_id"), 0);
  EXPECT_EQ(f.get_int("tokenizer.ggml.eos_token_id"), 0);
  EXPECT_FALSE(f.get_bool("tokenizer.ggml.add_bos_token"));
  EXPECT_EQ(f.tensor_names().size(), 56u);
}

void check_tensors(const GgufFile& f, const std::vector<RealTensor>& want) {
  for (const auto& w : want) {
    SCOPED_TRACE(w.name);
    const auto& info = f.tensor_info(w.name);
    EXPECT_EQ(info.dtype, w.dtype);
    EXPECT_EQ(info.shape, w.shape);
    EXPECT_EQ(info.offset, w.offset);
    EXPECT_EQ(info.bytes, w.bytes);
    Tensor t = f.tensor(w.name);
    ASSERT_EQ(t.nbytes(), w.bytes);
    EXPECT_EQ(crc32(t.raw(), t.nbytes()), w.crc);
  }
}

TEST(GgufLlamaCpp, F32FileMatchesGgufPy) {
  const std::string path = gguf_data("pycode-6m-F32.gguf");
  ASSERT_TRUE(std::filesystem::exists(path)) << path << ": copy shared/models/pycode-6m-gguf/*.gguf to tests/data/gguf";
  auto f = GgufFile::open(path);
  check_pycode_metadata(f);
  EXPECT_EQ(f.keys().size(), 21u);
  EXPECT_EQ(f.get_int("general.file_type"), 0);
  EXPECT_FALSE(f.has("general.quantization_version"));
  EXPECT_EQ(f.data_offset(), 130944u);
  auto names = f.tensor_names();
  EXPECT_EQ(names.front(), "token_embd.weight");
  EXPECT_EQ(names.back(), "output_norm.weight");
  for (const auto& n : names) EXPECT_EQ(f.tensor_info(n).dtype, DType::F32) << n;
  check_tensors(f, {
                       {"token_embd.weight", DType::F32, {4096, 256}, 130944, 4194304, 0xd3d89966},
                       {"output_norm.weight", DType::F32, {256}, 22032256, 1024, 0xab636856},
                       {"blk.0.attn_norm.weight", DType::F32, {256}, 7274368, 1024, 0x4145614f},
                       {"blk.0.ffn_down.weight", DType::F32, {256, 704}, 6553472, 720896, 0x0dd4717d},
                       {"blk.5.ffn_down.weight", DType::F32, {256, 704}, 21309312, 720896, 0xfdeb3388},
                   });
  Tensor emb = f.tensor("token_embd.weight");
  EXPECT_EQ(emb.get_f32(0), -0.08203125f);
  EXPECT_EQ(emb.get_f32(1), 0.059326171875f);
  EXPECT_EQ(emb.get_f32(emb.numel() - 1), -0.28515625f);
  Tensor down = f.tensor("blk.0.ffn_down.weight");
  EXPECT_EQ(down.get_f32(1), -0.004058837890625f);
}

TEST(GgufLlamaCpp, Q4KMFileMatchesGgufPy) {
  const std::string path = gguf_data("pycode-6m-Q4_K_M.gguf");
  ASSERT_TRUE(std::filesystem::exists(path)) << path << ": copy shared/models/pycode-6m-gguf/*.gguf to tests/data/gguf";
  auto f = GgufFile::open(path);
  check_pycode_metadata(f);
  EXPECT_EQ(f.keys().size(), 22u);
  EXPECT_EQ(f.get_int("general.file_type"), 15);  // LLAMA_FTYPE_MOSTLY_Q4_K_M
  EXPECT_EQ(f.get_int("general.quantization_version"), 2);
  EXPECT_EQ(f.data_offset(), 130976u);
  auto names = f.tensor_names();
  EXPECT_EQ(names.front(), "output_norm.weight");
  EXPECT_EQ(names.back(), "blk.5.ffn_up.weight");
  std::map<DType, int> counts;
  for (const auto& n : names) ++counts[f.tensor_info(n).dtype];
  EXPECT_EQ(counts, (std::map<DType, int>{
                        {DType::F32, 13}, {DType::Q4_K, 34}, {DType::Q5_0, 4}, {DType::Q6_K, 3}, {DType::Q8_0, 2}}));
  check_tensors(f, {
                       {"token_embd.weight", DType::Q6_K, {4096, 256}, 132000, 860160, 0x7eb5bbf0},
                       {"output_norm.weight", DType::F32, {256}, 130976, 1024, 0xab636856},
                       {"blk.0.attn_norm.weight", DType::F32, {256}, 1010592, 1024, 0x4145614f},
                       {"blk.0.ffn_down.weight", DType::Q5_0, {256, 704}, 1103776, 123904, 0xb11c0f30},
                       {"blk.2.ffn_down.weight", DType::Q8_0, {256, 704}, 1990816, 191488, 0x47f70a55},
                       {"blk.5.ffn_down.weight", DType::Q8_0, {256, 704}, 3384736, 191488, 0x344b627b},
                   });
  EXPECT_EQ(f.tensor_info("blk.0.attn_k.weight").dtype, DType::Q4_K);
  EXPECT_EQ(f.tensor_info("blk.0.attn_k.weight").shape, (Shape{128, 256}));
  EXPECT_EQ(f.tensor_info("blk.0.attn_k.weight").bytes, 18432u);
  EXPECT_EQ(f.tensor_info("blk.2.attn_v.weight").dtype, DType::Q6_K);
}

// The writer's output of a real file's whole content reads back identical: every key and
// tensor of the Q4_K_M file through GgufWriter, then compared with the original.
TEST(GgufLlamaCpp, RewritingTheQ4KMFileKeepsEverything) {
  const std::string path = gguf_data("pycode-6m-Q4_K_M.gguf");
  ASSERT_TRUE(std::filesystem::exists(path)) << path;
  auto f = GgufFile::open(path);
  GgufWriter w;
  for (const auto& k : f.keys()) w.set(k, f.get(k));
  for (const auto& n : f.tensor_names()) w.add_tensor(n, f.tensor(n));
  w.write(tmp("rewritten.gguf"));
  // llama.cpp lays its files out exactly as the writer does (same order, 32-byte padding):
  // the bytes are identical.
  EXPECT_EQ(read_bytes(tmp("rewritten.gguf")), read_bytes(path));
}
