// safetensors: round trips, sharded checkpoints, and hostile headers that must give an
// Error naming the file and the problem (never a crash or an out-of-bounds read).
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "tessera/io/json.hpp"
#include "tessera/io/safetensors.hpp"

using namespace tessera;

namespace {

std::string tmp(const std::string& name) { return ::testing::TempDir() + "/" + name; }

void write_raw(const std::string& path, const std::string& header, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  uint64_t n = header.size();
  out.write(reinterpret_cast<const char*>(&n), 8);
  out << header << data;
}

// The Error message thrown by opening `path`, or "" when it opened.
std::string open_error(const std::string& path) {
  try {
    SafetensorsFile::open(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Safetensors, RoundTripKeepsDtypesShapesAndBytes) {
  Tensor a = Tensor::from_f32({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = Tensor::zeros(DType::I64, {4});
  for (int i = 0; i < 4; ++i) b.data<int64_t>()[i] = -i;
  Tensor c = Tensor::zeros(DType::BF16, {1});
  c.data<uint16_t>()[0] = 0x3f80;  // 1.0
  save_safetensors(tmp("rt.safetensors"), {{"a", a}, {"b", b}, {"c", c}}, {{"format", "pt"}});
  auto f = SafetensorsFile::open(tmp("rt.safetensors"));
  EXPECT_EQ(f.names(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(f.get("a").shape(), (Shape{2, 3}));
  EXPECT_EQ(f.get("a").get_f32(5), 6.0f);
  EXPECT_EQ(f.get("b").to_i64(), (std::vector<int64_t>{0, -1, -2, -3}));
  EXPECT_EQ(f.get("c").get_f32(0), 1.0f);
  EXPECT_EQ(f.metadata().at("format"), "pt");
}

TEST(Safetensors, ShardedCheckpointThroughIndex) {
  namespace fs = std::filesystem;
  fs::path dir = tmp("sharded");
  fs::create_directories(dir);
  save_safetensors((dir / "model-00001-of-00002.safetensors").string(), {{"x", Tensor::from_f32({2}, {1, 2})}});
  save_safetensors((dir / "model-00002-of-00002.safetensors").string(), {{"y", Tensor::from_f32({1}, {3})}});
  std::ofstream(dir / "model.safetensors.index.json")
      << R"({"metadata": {}, "weight_map": {"x": "model-00001-of-00002.safetensors", "y": "model-00002-of-00002.safetensors"}})";
  auto store = WeightStore::open_dir(dir.string());
  EXPECT_EQ(store.get("x").get_f32(1), 2.0f);
  EXPECT_EQ(store.get("y", {1}).get_f32(0), 3.0f);
  EXPECT_THROW(store.get("y", {2}), Error);
  EXPECT_THROW(store.get("z"), Error);

  std::ofstream(dir / "model.safetensors.index.json") << R"({"weight_map": {"x": "missing.safetensors"}})";
  try {
    WeightStore::open_dir(dir.string());
    FAIL() << "a shard that does not exist must be an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.safetensors"), std::string::npos) << e.what();
  }
  std::ofstream(dir / "model.safetensors.index.json") << R"({"weight_map": {"x": "../../etc/passwd"}})";
  EXPECT_THROW(WeightStore::open_dir(dir.string()), Error);
}

struct HostileCase {
  const char* name;
  std::string header, data;
  const char* expect;  // a fragment the message must contain
};

TEST(Safetensors, HostileHeadersGiveClearErrors) {
  const std::string f32x2 = std::string(8, '\0');
  std::vector<HostileCase> cases = {
      {"not_json", "{not json", "", "invalid JSON"},
      {"not_object", "[1,2]", "", "must be a JSON object"},
      {"deep", std::string(200, '[') + std::string(200, ']'), "", "nested deeper"},
      {"bad_dtype", R"({"t":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}})", f32x2, "unsupported dtype"},
      {"past_end", R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}})", f32x2, "outside"},
      {"size_mismatch", R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", f32x2, "needs 12 bytes"},
      {"overflow", R"({"t":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}})", f32x2, "too many elements"},
      {"negative", R"({"t":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", f32x2, "non-negative"},
      {"reversed", R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", f32x2, "outside"},
      {"overlap", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", f32x2, "overlap"},
      {"no_offsets", R"({"t":{"dtype":"F32","shape":[2]}})", f32x2, "data_offsets"},
  };
  for (const auto& c : cases) {
    std::string path = tmp(std::string("hostile_") + c.name + ".safetensors");
    write_raw(path, c.header, c.data);
    std::string msg = open_error(path);
    EXPECT_NE(msg.find(c.expect), std::string::npos) << c.name << ": got '" << msg << "'";
    EXPECT_NE(msg.find(path), std::string::npos) << c.name << ": the message must name the file: " << msg;
  }
}

TEST(Safetensors, HeaderLengthPastTheEndAndTruncatedFiles) {
  std::string path = tmp("hostile_len.safetensors");
  {
    std::ofstream out(path, std::ios::binary);
    uint64_t n = 1000;
    out.write(reinterpret_cast<const char*>(&n), 8);
    out << "{}";
  }
  EXPECT_NE(open_error(path).find("past the end"), std::string::npos);
  std::ofstream(tmp("tiny.safetensors"), std::ios::binary) << "abc";
  EXPECT_NE(open_error(tmp("tiny.safetensors")).find("at least 8"), std::string::npos);
  EXPECT_NE(open_error(tmp("does_not_exist.safetensors")).find("cannot open"), std::string::npos);
}

TEST(Json, ConfigErrorsNameFieldAndExpectation) {
  JsonObject cfg(parse_json(R"({"hidden_size": "big", "layers": -3, "eps": 1e-5})", "config.json"), "config.json");
  try {
    cfg.get_size("hidden_size");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'hidden_size'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("integer"), std::string::npos) << e.what();
  }
  EXPECT_THROW(cfg.get_size("layers"), Error);
  EXPECT_THROW(cfg.get_int("missing"), Error);
  EXPECT_EQ(cfg.get_int("missing", 7), 7);
  EXPECT_FLOAT_EQ(float(cfg.get_float("eps")), 1e-5f);
}
