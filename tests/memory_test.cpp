// Peak memory while loading stays near the checkpoint's size: a ~170 MB f32 Llama written to a
// temp dir (a real file, so that it is mmapped) is loaded and run once while /proc/self/status
// is watched. Mapped file pages only become resident when read, belong to the page cache and
// can be dropped by the kernel; anonymous memory (where a hidden copy would live) cannot.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tessera/models/load.hpp"
#include "tessera/models/model.hpp"

using namespace tessera;

namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

// A field of /proc/self/status in bytes (VmHWM: peak resident set; RssAnon: anonymous pages).
int64_t status_bytes(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) return std::stoll(line.substr(field.size() + 1)) * 1024;
  ADD_FAILURE() << "no " << field << " in /proc/self/status";
  return 0;
}

// Writes an f32 safetensors file tensor by tensor through a small buffer, so that making the
// file does not itself raise this process's peak RSS.
size_t write_checkpoint(const std::string& path, const std::map<std::string, Shape>& shapes) {
  nlohmann::json header = nlohmann::json::object();
  size_t offset = 0;
  for (const auto& [name, shape] : shapes) {
    size_t n = 1;
    for (int64_t d : shape) n *= size_t(d);
    header[name] = {{"dtype", "F32"}, {"shape", shape}, {"data_offsets", {offset, offset + 4 * n}}};
    offset += 4 * n;
  }
  std::string h = header.dump();
  while ((8 + h.size()) % 8 != 0) h.push_back(' ');
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  const uint64_t len = h.size();
  out.write(reinterpret_cast<const char*>(&len), 8);
  out.write(h.data(), std::streamsize(h.size()));
  std::vector<float> buf(1 << 16);
  uint32_t state = 12345;
  for (const auto& [name, shape] : shapes) {
    size_t n = 1;
    for (int64_t d : shape) n *= size_t(d);
    const bool ones = shape.size() == 1;  // norm weights
    for (size_t done = 0; done < n; done += buf.size()) {
      const size_t k = std::min(buf.size(), n - done);
      for (size_t i = 0; i < k; ++i) {
        state = state * 1664525u + 1013904223u;
        buf[i] = ones ? 1.0f : (float(state >> 9) / float(1 << 23) - 0.5f) * 0.04f;
      }
      out.write(reinterpret_cast<const char*>(buf.data()), std::streamsize(k * sizeof(float)));
    }
  }
  if (!out) ADD_FAILURE() << "cannot write " << path;
  return 8 + h.size() + offset;
}

// A ~170 MB f32 Llama checkpoint in a temp dir, and the bytes of its matrices that go through
// Linear layers (everything but the embedding table and the norm vectors).
struct Checkpoint {
  std::string dir;
  int64_t file_bytes = 0, linear_bytes = 0;
};

const Checkpoint& checkpoint() {
  static const Checkpoint c = [] {
    namespace fs = std::filesystem;
    Checkpoint c;
    // per process: ctest runs the tests of this file in parallel processes
    const fs::path dir = fs::path(::testing::TempDir()) / ("tessera_memory_test_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const int64_t d = 1024, ffn = 2816, vocab = 8192, layers = 2;
    std::map<std::string, Shape> shapes = {{"model.embed_tokens.weight", {vocab, d}},
                                           {"model.norm.weight", {d}},
                                           {"lm_head.weight", {vocab, d}}};
    for (int64_t l = 0; l < layers; ++l) {
      const std::string p = "model.layers." + std::to_string(l) + ".";
      for (const char* n : {"input_layernorm", "post_attention_layernorm"}) shapes[p + n + ".weight"] = {d};
      for (const char* n : {"q_proj", "k_proj", "v_proj", "o_proj"}) shapes[p + "self_attn." + n + ".weight"] = {d, d};
      shapes[p + "mlp.gate_proj.weight"] = {ffn, d};
      shapes[p + "mlp.up_proj.weight"] = {ffn, d};
      shapes[p + "mlp.down_proj.weight"] = {d, ffn};
    }
    for (const auto& [name, shape] : shapes)
      if (shape.size() == 2 && name != "model.embed_tokens.weight") c.linear_bytes += 4 * shape[0] * shape[1];
    c.file_bytes = int64_t(write_checkpoint((dir / "model.safetensors").string(), shapes));
    std::ofstream(dir / "config.json") << nlohmann::json{{"model_type", "llama"},
                                                          {"hidden_size", d},
                                                          {"intermediate_size", ffn},
                                                          {"num_attention_heads", 16},
                                                          {"num_key_value_heads", 16},
                                                          {"num_hidden_layers", layers},
                                                          {"vocab_size", vocab},
                                                          {"max_position_embeddings", 256},
                                                          {"tie_word_embeddings", false}}
                                                              .dump();
    c.dir = dir.string();
    return c;
  }();
  static const struct Remove {
    ~Remove() { std::filesystem::remove_all(c.dir); }
  } remove;
  return c;
}

struct Usage {
  int64_t peak_load, anon_load, anon_forward, peak_forward;  // growth over the state before load
};

// Loads the checkpoint (or `path`) and runs one forward pass; the growth of peak RSS and
// anonymous memory.
Usage measure(std::string path = "") {
  const Checkpoint& c = checkpoint();
  if (path.empty()) path = c.dir;
  const int64_t peak0 = status_bytes("VmHWM"), anon0 = status_bytes("RssAnon");
  auto model = load(path);
  Usage u{};
  u.peak_load = status_bytes("VmHWM") - peak0;
  u.anon_load = status_bytes("RssAnon") - anon0;
  auto session = model->new_session({.max_context = 16});
  Tensor logits;
  model->decode(*session, std::vector<int32_t>{1, 2, 3, 4}, logits, true);
  u.anon_forward = status_bytes("RssAnon") - anon0;
  u.peak_forward = status_bytes("VmHWM") - peak0;
  std::printf("checkpoint %.1f MB (%.1f MB in Linear layers); load: peak RSS +%.1f MB, anonymous +%.1f MB; "
              "after a forward pass: anonymous +%.1f MB, peak RSS +%.1f MB\n",
              c.file_bytes / 1e6, c.linear_bytes / 1e6, u.peak_load / 1e6, u.anon_load / 1e6, u.anon_forward / 1e6,
              u.peak_forward / 1e6);
  return u;
}

// The process's peak RSS while loading grows by about the checkpoint's size at most: the
// weights are either read in place from the mapping or re-laid out once with the mapped
// source pages released, never held twice.
TEST(Memory, PeakRssWhileLoadingStaysNearTheFileSize) {
  if (kSanitized) GTEST_SKIP() << "RSS is meaningless under sanitizers (shadow memory)";
  const int64_t file = checkpoint().file_bytes;
  ASSERT_GT(file, 150 << 20);
  const Usage u = measure();
  EXPECT_LT(u.peak_load, file + file / 10) << "loading a " << file << "-byte checkpoint raised the peak RSS by "
                                           << u.peak_load << " bytes";
}

// At most one copy of the weights exists in anonymous memory, even after every weight was
// used: the packed layout of the Linear layers (same dtype, same bytes) and nothing else (no
// f32 conversions, no second copy), plus a few MB of activations, caches and norm vectors.
TEST(Memory, AtMostOneCopyOfTheWeights) {
  if (kSanitized) GTEST_SKIP() << "RSS is meaningless under sanitizers (shadow memory)";
  const Checkpoint& c = checkpoint();
  const Usage u = measure();
  const int64_t allowed = c.linear_bytes + c.linear_bytes / 20 + (16 << 20);
  EXPECT_LT(u.anon_load, allowed) << "anonymous memory after load";
  EXPECT_LT(u.anon_forward, allowed) << "anonymous memory after a forward pass";
}

// A quantized GGUF holds one copy of its weights: the matrices re-laid out into panels (the
// same bytes, anonymous memory; the file's pages of them are let go), the embedding table left
// in the mapping. The peak RSS grows by about the file's size, plus at most one matrix: while a
// matrix is re-laid out, its file pages and its panels are both resident.
TEST(Memory, QuantizedGgufHoldsOneCopy) {
  if (kSanitized) GTEST_SKIP() << "RSS is meaningless under sanitizers (shadow memory)";
  const Checkpoint& c = checkpoint();
  const std::string gguf = c.dir + "/model-q8_0.gguf";
  // written by another process, so that quantizing does not raise this one's peak RSS
  const std::string cmd = std::string(TESSERA_BIN_DIR) + "/tessera-quantize " + c.dir + " " + gguf + " q8_0 > /dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const int64_t file = int64_t(std::filesystem::file_size(gguf));
  const int64_t panels = c.linear_bytes / 4 / 32 * int64_t(dtype_block_bytes(DType::Q8_0));  // f32 -> Q8_0 bytes
  const int64_t largest = int64_t(dtype_bytes(DType::Q8_0, 8192 * 1024));  // lm_head
  const Usage u = measure(gguf);
  EXPECT_LT(u.peak_load, file + file / 10 + largest)
      << "loading a " << file << "-byte GGUF raised the peak RSS by " << u.peak_load;
  EXPECT_LT(u.anon_load, panels + (16 << 20)) << "anonymous memory after loading a " << file << "-byte GGUF";
  EXPECT_LT(u.anon_forward, panels + (16 << 20)) << "anonymous memory after a forward pass";
}

}  // namespace
