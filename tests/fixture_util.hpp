// Helpers shared by the tests that compare tessera with reference outputs.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "tessera/io/json.hpp"
#include "tessera/io/safetensors.hpp"

namespace tessera::testing {

inline std::string data_dir() { return TESSERA_TEST_DATA; }
inline std::string bin(const std::string& tool) { return std::string(TESSERA_BIN_DIR) + "/tessera-" + tool; }

// Fixture directories (holding meta.json) under tests/data/<group>/ whose meta.json "kind"
// is `kind`, sorted; used to instantiate parameterised tests.
inline std::vector<std::string> fixture_dirs(const std::string& kind) {
  std::vector<std::string> out;
  for (const char* group : {"hf", "torch"}) {
    std::filesystem::path root = std::filesystem::path(data_dir()) / group;
    if (!std::filesystem::exists(root)) continue;
    for (const auto& e : std::filesystem::directory_iterator(root)) {
      auto meta = e.path() / "meta.json";
      if (!std::filesystem::exists(meta)) continue;
      auto j = load_json_file(meta.string());
      if (j.value("kind", "") == kind) out.push_back(std::string(group) + "/" + e.path().filename().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

inline std::string test_name(const std::string& fixture) {
  std::string s = fixture;
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

// Runs a shell command, failing the test with its output when it exits non-zero.
inline void run_ok(const std::string& cmd) {
  std::string log = ::testing::TempDir() + "/tessera_cmd.log";
  int rc = std::system((cmd + " > " + log + " 2>&1").c_str());
  if (rc != 0) {
    std::string out;
    try {
      out = read_text_file(log);
    } catch (...) {
    }
    FAIL() << "command failed (" << rc << "): " << cmd << "\n" << out;
  }
}

struct Diff {
  double max_abs_diff = 0, max_abs_ref = 0;
};

// Max |a - b| over the rows of [B, L, ...] tensors whose attention_mask is 1 (all rows when
// mask is empty), and max |b|.
inline Diff compare(const Tensor& a, const Tensor& b, const std::vector<int64_t>& mask = {}) {
  EXPECT_EQ(shape_str(a.shape()), shape_str(b.shape()));
  Diff d;
  if (a.shape() != b.shape()) {
    d.max_abs_diff = INFINITY;
    return d;
  }
  int64_t n = a.numel();
  int64_t per_pos = mask.empty() ? 1 : n / int64_t(mask.size());
  for (int64_t i = 0; i < n; ++i) {
    if (!mask.empty() && mask[size_t(i / per_pos)] == 0) continue;
    double x = a.get_f32(i), y = b.get_f32(i);
    if (std::isnan(x) != std::isnan(y)) d.max_abs_diff = INFINITY;
    d.max_abs_diff = std::max(d.max_abs_diff, std::abs(x - y));
    d.max_abs_ref = std::max(d.max_abs_ref, std::abs(y));
  }
  return d;
}

// Mean negative log-likelihood of ids[1..] under logits [ids.size(), vocab] (row i predicts
// ids[i + 1]), accumulated in double like the reference scripts.
inline double mean_next_token_nll(const Tensor& logits, const std::vector<int32_t>& ids, int64_t vocab) {
  double total = 0;
  for (size_t i = 0; i + 1 < ids.size(); ++i) {
    const float* row = logits.data<float>() + int64_t(i) * vocab;
    double mx = -INFINITY, sum = 0;
    for (int64_t j = 0; j < vocab; ++j) mx = std::max(mx, double(row[j]));
    for (int64_t j = 0; j < vocab; ++j) sum += std::exp(double(row[j]) - mx);
    total += -(double(row[ids[i + 1]]) - mx - std::log(sum));
  }
  return total / double(ids.size() - 1);
}

// Runs tessera-forward on `model` (a directory or .gguf file) with the decoder fixture's
// reference inputs (and --generate when the fixture has generated ids), writing `out`, and
// checks the logits (padded rows masked) and greedy ids. With the exact f32 KV cache the
// logits are within 1e-4 × max(1, max |reference|); with another kv_type (keys and values
// rounded once when cached) within 2e-3 × max(1, max |reference|). Greedy ids identical.
inline void check_decoder_against_reference(const std::string& model, const std::string& fixture_dir,
                                            const std::string& out, const std::string& label,
                                            const std::string& kv_type = "f32") {
  auto ref = SafetensorsFile::open(fixture_dir + "/reference.safetensors");
  std::string cmd = bin("forward") + " " + model + " " + fixture_dir + "/reference.safetensors " + out + " --kv-type " + kv_type;
  const double tol = kv_type == "f32" ? 1e-4 : 2e-3;
  int64_t new_tokens = -1;
  if (ref.has("generated_ids") && ref.has("prompt_ids")) {
    new_tokens = ref.get("generated_ids").dim(1) - ref.get("prompt_ids").dim(1);
    cmd += " --generate " + std::to_string(new_tokens);
  }
  run_ok(cmd);
  if (::testing::Test::HasFatalFailure()) return;
  auto got = SafetensorsFile::open(out);
  ASSERT_TRUE(ref.has("logits"));
  std::vector<int64_t> mask;
  if (ref.has("attention_mask")) mask = ref.get("attention_mask").to_i64();
  Diff d = compare(got.get("logits"), ref.get("logits"), mask);
  EXPECT_LE(d.max_abs_diff, tol * std::max(1.0, d.max_abs_ref))
      << label << " (KV cache " << kv_type << "): max |logit diff| " << d.max_abs_diff << " (reference max "
      << d.max_abs_ref << ")";
  if (new_tokens >= 0) {
    EXPECT_EQ(got.get("generated_ids").to_i64(), ref.get("generated_ids").to_i64()) << label << " (KV cache " << kv_type << ")";
  }
}

}  // namespace tessera::testing
