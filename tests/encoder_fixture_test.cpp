// Ring 2 for encoders: every encoder fixture (BERT, RoBERTa, XLM-RoBERTa, DistilBERT,
// ModernBERT, ViT, DINOv2 with registers; Hugging Face's and our
// PyTorch re-implementation's) through tessera-forward, each output within
// 1e-4 × max(1, max |reference|) at real positions; a padded batch against the same
// sequences one by one; and the config errors a user can meet.
#include <filesystem>
#include <functional>
#include <fstream>

#include "fixture_util.hpp"
#include "tessera/models/encoder.hpp"

using namespace tessera;
using namespace tessera::testing;

namespace {

std::vector<std::string> encoder_fixtures() {
  auto dirs = fixture_dirs("encoder");
  for (auto& d : fixture_dirs("vision-encoder")) dirs.push_back(d);
  return dirs;
}

std::vector<std::string> text_encoder_fixtures() { return fixture_dirs("encoder"); }

// A copy of fixture `name` whose config.json has `key` set to `value` (JSON text).
std::string patched_fixture(const std::string& name, const std::string& key, const std::string& value) {
  namespace fs = std::filesystem;
  const fs::path src = fs::path(data_dir()) / name;
  const fs::path dst = fs::path(::testing::TempDir()) / ("patched_" + test_name(name) + "_" + test_name(key));
  fs::create_directories(dst);
  fs::copy_file(src / "model.safetensors", dst / "model.safetensors", fs::copy_options::overwrite_existing);
  auto cfg = load_json_file((src / "config.json").string());
  cfg[key] = nlohmann::json::parse(value);
  std::ofstream(dst / "config.json") << cfg.dump(2);
  return dst.string();
}

std::string load_error(const std::string& dir) {
  try {
    load(dir);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

class EncoderFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(EncoderFixture, MatchesReference) {
  const std::string dir = data_dir() + "/" + GetParam();
  const std::string out = ::testing::TempDir() + "/" + test_name(GetParam()) + ".out.safetensors";
  auto ref = SafetensorsFile::open(dir + "/reference.safetensors");
  run_ok(bin("forward") + " " + dir + " " + dir + "/reference.safetensors " + out);
  if (HasFatalFailure()) return;
  auto got = SafetensorsFile::open(out);

  std::vector<int64_t> mask;
  if (ref.has("attention_mask")) mask = ref.get("attention_mask").to_i64();
  int compared = 0;
  for (const char* name : {"last_hidden_state", "pooler_output", "logits"}) {
    if (!ref.has(name)) continue;
    ASSERT_TRUE(got.has(name)) << GetParam() << ": tessera-forward wrote no " << name;
    ++compared;
    // Only last_hidden_state has a position axis the mask applies to.
    const bool per_position = std::string(name) == "last_hidden_state";
    Diff d = compare(got.get(name), ref.get(name), per_position ? mask : std::vector<int64_t>{});
    const double tol = 1e-4 * std::max(1.0, d.max_abs_ref);
    EXPECT_LE(d.max_abs_diff, tol) << GetParam() << ": max |" << name << " diff| " << d.max_abs_diff
                                   << " (reference max " << d.max_abs_ref << ")";
    std::printf("[ %s ] %s max diff %.3g (reference max %.3g)\n", GetParam().c_str(), name, d.max_abs_diff,
                d.max_abs_ref);
  }
  EXPECT_GT(compared, 0) << GetParam() << ": no encoder outputs in the reference";
  // Padded positions come out as zeros (documented in tessera-forward --help).
  if (!mask.empty()) {
    Tensor h = got.get("last_hidden_state");
    const int64_t per_pos = h.numel() / int64_t(mask.size());
    for (int64_t i = 0; i < h.numel(); ++i) {
      if (mask[size_t(i / per_pos)] == 0) {
        ASSERT_EQ(h.get_f32(i), 0.0f) << "padded position " << i / per_pos;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(All, EncoderFixture, ::testing::ValuesIn(encoder_fixtures()),
                         [](const auto& info) { return test_name(info.param); });

class EncoderBatching : public ::testing::TestWithParam<std::string> {};

// The packed batch must not leak between sequences: each row of the padded reference
// input, run alone at its real length, gives the same outputs as the batch.
TEST_P(EncoderBatching, PaddedBatchEqualsOneByOne) {
  const std::string dir = data_dir() + "/" + GetParam();
  auto ref = SafetensorsFile::open(dir + "/reference.safetensors");
  auto model = load(dir);
  std::map<std::string, Tensor> inputs;
  for (const char* name : {"input_ids", "attention_mask", "token_type_ids"})
    if (ref.has(name)) inputs[name] = ref.get(name);
  auto batch = model->forward_named(inputs);
  const Tensor ids = ref.get("input_ids");
  const int64_t b = ids.dim(0), l = ids.dim(1), d = model->info().hidden_size;
  std::vector<int64_t> all_ids = ids.to_i64(), mask, types;
  if (ref.has("attention_mask")) mask = ref.get("attention_mask").to_i64();
  if (ref.has("token_type_ids")) types = ref.get("token_type_ids").to_i64();
  bool saw_padding = false;
  for (int64_t r = 0; r < b; ++r) {
    int64_t len = 0;
    while (len < l && (mask.empty() || mask[size_t(r * l + len)] != 0)) ++len;
    saw_padding |= len < l;
    std::map<std::string, Tensor> one;
    one["input_ids"] = Tensor::zeros(DType::I64, {1, len});
    for (int64_t j = 0; j < len; ++j) one["input_ids"].data<int64_t>()[j] = all_ids[size_t(r * l + j)];
    if (!types.empty()) {
      one["token_type_ids"] = Tensor::zeros(DType::I64, {1, len});
      for (int64_t j = 0; j < len; ++j) one["token_type_ids"].data<int64_t>()[j] = types[size_t(r * l + j)];
    }
    auto single = model->forward_named(one);
    const float* a = batch["last_hidden_state"].data<float>() + r * l * d;
    const float* s = single["last_hidden_state"].data<float>();
    double worst = 0;
    for (int64_t i = 0; i < len * d; ++i) worst = std::max(worst, double(std::abs(a[i] - s[i])));
    EXPECT_LE(worst, 1e-5) << GetParam() << " row " << r << " last_hidden_state";
    if (batch.count("pooler_output")) {
      const float* pa = batch["pooler_output"].data<float>() + r * d;
      const float* ps = single["pooler_output"].data<float>();
      double pw = 0;
      for (int64_t i = 0; i < d; ++i) pw = std::max(pw, double(std::abs(pa[i] - ps[i])));
      EXPECT_LE(pw, 1e-5) << GetParam() << " row " << r << " pooler_output";
    }
  }
  EXPECT_TRUE(saw_padding) << GetParam() << ": the fixture was expected to hold a padded row";

  // The same through encode(): packed rows in input order.
  std::vector<std::vector<int32_t>> seqs;
  for (int64_t r = 0; r < b; ++r) {
    seqs.emplace_back();
    for (int64_t j = 0; j < l && (mask.empty() || mask[size_t(r * l + j)] != 0); ++j)
      seqs.back().push_back(int32_t(all_ids[size_t(r * l + j)]));
  }
  Tensor packed = model->encode(seqs);
  int64_t row = 0;
  for (size_t r = 0; r < seqs.size(); ++r) {
    Tensor alone = model->encode({seqs[r]});
    ASSERT_EQ(alone.dim(0), int64_t(seqs[r].size()));
    for (int64_t i = 0; i < alone.numel(); ++i)
      ASSERT_NEAR(alone.data<float>()[i], packed.data<float>()[row * d + i], 1e-5) << "sequence " << r;
    row += alone.dim(0);
  }
  EXPECT_EQ(row, packed.dim(0));
}

INSTANTIATE_TEST_SUITE_P(All, EncoderBatching, ::testing::ValuesIn(text_encoder_fixtures()),
                         [](const auto& info) { return test_name(info.param); });

TEST(EncoderConfig, RejectsRelativePositions) {
  std::string msg = load_error(patched_fixture("hf/bert", "position_embedding_type", "\"relative_key\""));
  EXPECT_NE(msg.find("position_embedding_type"), std::string::npos) << msg;
  EXPECT_NE(msg.find("relative_key"), std::string::npos) << msg;
}

TEST(EncoderConfig, RejectsDecoderBert) {
  std::string msg = load_error(patched_fixture("hf/bert", "is_decoder", "true"));
  EXPECT_NE(msg.find("is_decoder"), std::string::npos) << msg;
}

TEST(EncoderConfig, RejectsUnknownActivation) {
  std::string msg = load_error(patched_fixture("hf/roberta", "hidden_act", "\"mish\""));
  EXPECT_NE(msg.find("hidden_act"), std::string::npos) << msg;
}

TEST(EncoderConfig, RejectsWrongImageSize) {
  // The position table no longer matches the number of patches: an Error naming the tensor.
  std::string msg = load_error(patched_fixture("hf/vit", "image_size", "36"));
  EXPECT_NE(msg.find("position_embeddings"), std::string::npos) << msg;
}

TEST(EncoderInputs, Errors) {
  auto bert = load(data_dir() + "/hf/bert");
  auto vit = load(data_dir() + "/hf/vit");
  EXPECT_EQ(bert->info().kind, ModelKind::Encoder);
  auto ids = [](std::vector<int64_t> v) {
    Tensor t = Tensor::zeros(DType::I64, {1, int64_t(v.size())});
    for (size_t i = 0; i < v.size(); ++i) t.data<int64_t>()[i] = v[i];
    return t;
  };
  // Out-of-vocabulary id, bad token type, too long, wrong input kind: Errors, not crashes.
  EXPECT_THROW(bert->forward_named({{"input_ids", ids({2, 5000})}}), Error);
  EXPECT_THROW(bert->forward_named({{"input_ids", ids({2, 3})}, {"token_type_ids", ids({0, 7})}}), Error);
  EXPECT_THROW(bert->forward_named({{"input_ids", ids(std::vector<int64_t>(65, 3))}}), Error);
  EXPECT_THROW(bert->forward_named({{"pixel_values", Tensor::zeros(DType::F32, {1, 3, 30, 30})}}), Error);
  EXPECT_THROW(vit->forward_named({{"input_ids", ids({1, 2})}}), Error);
  EXPECT_THROW(vit->forward_named({{"pixel_values", Tensor::zeros(DType::F32, {1, 3, 31, 30})}}), Error);
  EXPECT_THROW(vit->forward_named({{"pixel_values", Tensor::zeros(DType::F32, {3, 30, 30})}}), Error);
  // 64 positions is exactly the limit.
  EXPECT_NO_THROW(bert->forward_named({{"input_ids", ids(std::vector<int64_t>(64, 3))}}));
  Tensor logits;
  EXPECT_THROW(bert->decode(*bert->new_session(), std::vector<int32_t>{1}, logits, true), Error);
}

namespace {

// A copy of fixture `name` whose weights are renamed by `rename` (empty result: dropped),
// plus `extra` tensors (a task head the loader must ignore).
std::string renamed_fixture(const std::string& name, const std::string& tag,
                            const std::function<std::string(const std::string&)>& rename,
                            const std::map<std::string, Tensor>& extra = {}) {
  namespace fs = std::filesystem;
  const fs::path src = fs::path(data_dir()) / name;
  const fs::path dst = fs::path(::testing::TempDir()) / ("renamed_" + test_name(name) + "_" + tag);
  fs::create_directories(dst);
  fs::copy_file(src / "config.json", dst / "config.json", fs::copy_options::overwrite_existing);
  auto file = SafetensorsFile::open((src / "model.safetensors").string());
  std::map<std::string, Tensor> tensors = extra;
  for (const auto& n : file.names()) {
    std::string to = rename(n);
    if (!to.empty()) tensors[to] = file.get(n);
  }
  save_safetensors((dst / "model.safetensors").string(), tensors);
  return dst.string();
}

std::map<std::string, Tensor> reference_inputs(const std::string& name) {
  auto ref = SafetensorsFile::open(data_dir() + "/" + name + "/reference.safetensors");
  std::map<std::string, Tensor> in;
  for (const char* n : {"input_ids", "attention_mask", "token_type_ids", "pixel_values"})
    if (ref.has(n)) in[n] = ref.get(n);
  return in;
}

}  // namespace

TEST(EncoderWeights, PrefixedNamesAndHeads) {
  // BERT saved as BertForMaskedLM would be: "bert." prefix, an MLM head to ignore.
  auto in = reference_inputs("hf/bert");
  auto base = load(data_dir() + "/hf/bert")->forward_named(in);
  const std::string dir = renamed_fixture("hf/bert", "mlm", [](const std::string& n) { return "bert." + n; },
                                          {{"cls.predictions.bias", Tensor::zeros(DType::F32, {1013})}});
  auto got = load(dir)->forward_named(in);
  EXPECT_EQ(compare(got.at("last_hidden_state"), base.at("last_hidden_state")).max_abs_diff, 0.0);
  EXPECT_EQ(compare(got.at("pooler_output"), base.at("pooler_output")).max_abs_diff, 0.0);
  // Without the pooler: no pooler_output, same hidden states.
  const std::string nopool = renamed_fixture("hf/bert", "nopool", [](const std::string& n) {
    return n.rfind("pooler.", 0) == 0 ? std::string() : n;
  });
  auto np = load(nopool)->forward_named(in);
  EXPECT_EQ(np.count("pooler_output"), 0u);
  EXPECT_EQ(compare(np.at("last_hidden_state"), base.at("last_hidden_state")).max_abs_diff, 0.0);
}

TEST(EncoderWeights, BareVitWithoutClassifier) {
  // ViTModel saved bare: no "vit." prefix and no classifier → no logits, same hidden states.
  auto in = reference_inputs("hf/vit");
  auto base = load(data_dir() + "/hf/vit")->forward_named(in);
  const std::string dir = renamed_fixture("hf/vit", "bare", [](const std::string& n) {
    if (n.rfind("classifier.", 0) == 0) return std::string();
    return n.rfind("vit.", 0) == 0 ? n.substr(4) : n;
  });
  auto got = load(dir)->forward_named(in);
  EXPECT_EQ(got.count("logits"), 0u);
  EXPECT_EQ(compare(got.at("last_hidden_state"), base.at("last_hidden_state")).max_abs_diff, 0.0);
}

TEST(EncoderConfig, ModernBertErrorsNameTheField) {
  const std::string mb = "torch/modernbert-layertypes-bias-v5cfg";
  std::string msg = load_error(patched_fixture(mb, "layer_types", R"(["full_attention", "sliding_attention"])"));
  EXPECT_NE(msg.find("layer_types"), std::string::npos) << msg;
  msg = load_error(patched_fixture(mb, "layer_types", R"(["full_attention", "chunked_attention", "full_attention"])"));
  EXPECT_NE(msg.find("chunked_attention"), std::string::npos) << msg;
  msg = load_error(patched_fixture(mb, "rope_parameters",
                                   R"({"full_attention": {"rope_type": "yarn", "rope_theta": 1e4, "factor": 2.0}})"));
  EXPECT_NE(msg.find("yarn"), std::string::npos) << msg;
  msg = load_error(patched_fixture(mb, "global_attn_every_n_layers", "0"));
  EXPECT_NE(msg.find("global_attn_every_n_layers"), std::string::npos) << msg;
  msg = load_error(patched_fixture(mb, "num_attention_heads", "3"));
  EXPECT_NE(msg.find("num_attention_heads"), std::string::npos) << msg;
  // norm_bias false while the checkpoint has biases is fine (ignored); true without them names the tensor.
  msg = load_error(patched_fixture("torch/modernbert-alt2-window4-v4cfg", "norm_bias", "true"));
  EXPECT_NE(msg.find("norm.bias"), std::string::npos) << msg;
}

TEST(EncoderConfig, DistilBertErrorsNameTheField) {
  const std::string db = "torch/distilbert-relu-sinusoidal-v5cfg";
  std::string msg = load_error(patched_fixture(db, "n_heads", "7"));
  EXPECT_NE(msg.find("n_heads"), std::string::npos) << msg;
  msg = load_error(patched_fixture(db, "activation", "\"swish2\""));
  EXPECT_NE(msg.find("activation"), std::string::npos) << msg;
  msg = load_error(patched_fixture(db, "n_layers", "1"));  // the checkpoint holds 2
  EXPECT_NE(msg.find("n_layers"), std::string::npos) << msg;
}

TEST(EncoderInputs, Dinov2WithRegistersImageSizes) {
  auto model = load(data_dir() + "/torch/dinov2_with_registers-img16-v4cfg");
  // Any size of at least one patch works (the position grid is resized); rows: CLS, 4 registers, patches.
  auto out = model->forward_named({{"pixel_values", Tensor::zeros(DType::F32, {1, 3, 9, 31})}});
  EXPECT_EQ(shape_str(out.at("last_hidden_state").shape()), "[1, 19, 48]");  // 1 + 4 + (9 / 4) x (31 / 4) patches
  EXPECT_EQ(shape_str(out.at("logits").shape()), "[1, 3]");
  EXPECT_THROW(model->forward_named({{"pixel_values", Tensor::zeros(DType::F32, {1, 3, 3, 16})}}), Error);
  EXPECT_THROW(model->forward_named({{"pixel_values", Tensor::zeros(DType::F32, {1, 1, 16, 16})}}), Error);
  EXPECT_THROW(model->forward_named({{"pixel_values", Tensor::zeros(DType::F32, {1, 3, 16})}}), Error);
  // image_size must match the stored position table (the tensor is named).
  std::string msg = load_error(patched_fixture("torch/dinov2_with_registers-img16-v4cfg", "image_size", "20"));
  EXPECT_NE(msg.find("position_embeddings"), std::string::npos) << msg;
  msg = load_error(patched_fixture("torch/dinov2_with_registers-img16-v4cfg", "num_register_tokens", "5"));
  EXPECT_NE(msg.find("register_tokens"), std::string::npos) << msg;
}

TEST(EncoderWeights, DistilBertBareAndXlmRobertaPrefixed) {
  // DistilBertModel saved bare (the fixture carries a task model's "distilbert." prefix), and
  // XLM-RoBERTa as its task models save it ("roberta." prefix): the same hidden states.
  for (const auto& [name, rename] : std::vector<std::pair<std::string, std::function<std::string(const std::string&)>>>{
           {"torch/distilbert-relu-sinusoidal-v5cfg",
            [](const std::string& n) { return n.rfind("distilbert.", 0) == 0 ? n.substr(11) : n; }},
           {"torch/xlm-roberta-bf16-nopooler-v5cfg", [](const std::string& n) { return "roberta." + n; }}}) {
    auto in = reference_inputs(name);
    auto base = load(data_dir() + "/" + name)->forward_named(in);
    auto got = load(renamed_fixture(name, "prefix", rename))->forward_named(in);
    EXPECT_EQ(compare(got.at("last_hidden_state"), base.at("last_hidden_state")).max_abs_diff, 0.0) << name;
  }
}
