// The open model-type registry: an application registers its own model_type, written only
// against the public headers (config helpers, scopes, blocks, the stack), and tessera::load
// then loads it. Checked on the Llama fixture renamed to that type, against the Hugging Face
// logits and greedy ids.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "fixture_util.hpp"
#include "tessera/models/decoder.hpp"
#include "tessera/models/hf_config.hpp"
#include "tessera/models/load.hpp"
#include "tessera/models/registry.hpp"
#include "tessera/models/scope.hpp"

namespace tessera {
namespace {

using testing::compare;
using testing::data_dir;
using testing::Diff;

// A plain Llama (pre-norm RMSNorm, SwiGLU, RoPE, GQA) as an application would write it.
std::shared_ptr<const Model> load_app_llama(const JsonObject& cfg, const WeightStore& store, const std::string& dir) {
  auto model = std::make_shared<DecoderModel>();
  ModelInfo& info = model->meta;
  info.family = "app_llama";
  const int64_t d = info.hidden_size = cfg.get_size("hidden_size");
  const int64_t vocab = info.vocab_size = cfg.get_size("vocab_size");
  const int64_t layers = info.num_layers = cfg.get_size("num_hidden_layers", 1000);
  info.max_positions = cfg.get_size("max_position_embeddings");
  const auto [heads, kv_heads, head_dim] = hf::head_shape(cfg, d);
  const int64_t ffn = cfg.get_size("intermediate_size");
  const float eps = float(cfg.get_float("rms_norm_eps", 1e-6));
  const auto act = hf::activation(cfg, "hidden_act", cfg.get_string("hidden_act", "silu"));
  const RopeSpec rope = hf::rope(cfg, head_dim);
  hf::fill_info(info, cfg, store, dir);

  const Scope root(store), base = root.pp("model");
  Stack& stack = model->stack;
  stack.embed = base.embedding("embed_tokens", vocab, d);
  for (int64_t l = 0; l < layers; ++l) {
    const Scope layer_scope = base.pp("layers").pp(l);
    Attention attn = layer_scope.pp("self_attn").attention(
        AttentionConfig{d, heads, kv_heads, head_dim, true, 0, hf::inverse_sqrt(double(head_dim))});
    attn.rope = Rope(rope);
    Layer layer(d);
    layer.add(Residual::pre_norm(layer_scope.rms_norm("input_layernorm", d, eps)), SelfAttention(std::move(attn)));
    layer.add(Residual::pre_norm(layer_scope.rms_norm("post_attention_layernorm", d, eps)),
              FeedForward(layer_scope.pp("mlp").gated_mlp(act, d, ffn)));
    stack.layers.push_back(std::move(layer));
  }
  stack.final_norm = base.rms_norm("norm", d, eps);
  stack.head = root.linear("lm_head", d, vocab);
  return model;
}

// The Llama fixture under another model_type, in a fresh directory.
std::string renamed_fixture(const std::string& model_type) {
  namespace fs = std::filesystem;
  const fs::path src = fs::path(data_dir()) / "hf" / "llama";
  const fs::path dst = fs::path(::testing::TempDir()) / ("registry_" + model_type);
  fs::remove_all(dst);
  fs::create_directories(dst);
  fs::copy_file(src / "model.safetensors", dst / "model.safetensors");
  nlohmann::json cfg = load_json_file((src / "config.json").string());
  cfg["model_type"] = model_type;
  std::ofstream(dst / "config.json") << cfg.dump(1);
  return dst.string();
}

TEST(Registry, ApplicationModelTypeLoadsAndMatchesHuggingFace) {
  const std::string dir = renamed_fixture("app_llama");
  // Unknown until registered: the error lists what is.
  try {
    load(dir);
    FAIL() << "an unregistered model_type loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model_type 'app_llama' is not supported (supported: bart, bert"),
              std::string::npos)
        << e.what();
  }
  register_model_type("app_llama", load_app_llama);
  const auto types = registered_model_types();
  EXPECT_TRUE(std::binary_search(types.begin(), types.end(), "app_llama"));
  EXPECT_TRUE(std::binary_search(types.begin(), types.end(), "llama"));

  auto model = load(dir);
  EXPECT_EQ(model->info().family, "app_llama");
  auto ref = SafetensorsFile::open(data_dir() + "/hf/llama/reference.safetensors");
  SessionOptions f32;
  f32.kv_type = DType::F32;
  const int64_t new_tokens = ref.get("generated_ids").dim(1) - ref.get("prompt_ids").dim(1);
  auto out = model->forward_named({{"input_ids", ref.get("input_ids")},
                                   {"attention_mask", ref.get("attention_mask")},
                                   {"prompt_ids", ref.get("prompt_ids")}},
                                  new_tokens, f32);
  Diff d = compare(out.at("logits"), ref.get("logits"), ref.get("attention_mask").to_i64());
  EXPECT_LE(d.max_abs_diff, 1e-4 * std::max(1.0, d.max_abs_ref)) << "max |diff| " << d.max_abs_diff;
  EXPECT_EQ(out.at("generated_ids").to_i64(), ref.get("generated_ids").to_i64());
}

TEST(Registry, RefusesDuplicatesAndEmptyEntries) {
  auto message = [](const std::function<void()>& f) -> std::string {
    try {
      f();
    } catch (const Error& e) {
      return e.what();
    }
    return "(no error)";
  };
  EXPECT_NE(message([] { register_model_type("llama", load_app_llama); }).find("model type 'llama' is already registered"),
            std::string::npos);
  EXPECT_NE(message([] { register_model_type("", load_app_llama); }).find("the model type is empty"), std::string::npos);
  EXPECT_NE(message([] { register_model_type("app_empty", ModelLoader{}); }).find("no loader given for model type 'app_empty'"),
            std::string::npos);
}

}  // namespace
}  // namespace tessera
