// tessera-bench -d: pp/tg rows after D tokens of context, named as llama-bench names them
// ("pp8 @ d64"), and the KV cache type and its bytes a position in --json.
#include <fmt/core.h>

#include "fixture_util.hpp"

using namespace tessera;
using namespace tessera::testing;

TEST(BenchTool, DepthRowsAndKvTypeInJson) {
  const std::string out = ::testing::TempDir() + "/bench_depth.json";
  run_ok(fmt::format("({} {}/pycode-6m -p 8 -n 4 -d 0,64 -r 1 -t 1 --kv-type Q8_0 --json > {})", bin("bench"),
                     TESSERA_MODELS_DIR, out));
  if (HasFatalFailure()) return;
  const auto rows = nlohmann::json::parse(read_text_file(out));
  std::vector<std::string> tests;
  for (const auto& r : rows) {
    tests.push_back(r["test"].get<std::string>());
    EXPECT_EQ(r["kv_type"], "q8_0");
    // pycode-6m: 6 layers × (keys + values) × 2 kv heads × head_dim 64, in q8_0 two blocks
    // of 34 bytes a head: 6 × 2 × 2 × 68 = 1632.
    EXPECT_EQ(r["kv_bytes_per_position"].get<int64_t>(), 1632);
    EXPECT_GT(r["tokens_per_second"].get<double>(), 0.0);
  }
  EXPECT_EQ(tests, (std::vector<std::string>{"pp8", "tg4", "pp8 @ d64", "tg4 @ d64"}));
}
