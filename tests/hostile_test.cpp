// The hostile-input corpus (tests/data/hostile, written by make_hostile.py): every broken
// file must give a tessera::Error whose message names the file (or input, or field) and says
// what was expected and what was found; never a crash, a hang, a huge allocation or a
// silently different model. One test per file; the valid files in the corpus must load.
#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "tessera/audio/wav.hpp"
#include "tessera/generation/generate.hpp"
#include "tessera/image/image.hpp"
#include "tessera/io/safetensors.hpp"
#include "tessera/models/load.hpp"
#include "tessera/models/model.hpp"
#include "tessera/text/tokenizer.hpp"

using namespace tessera;

namespace {

std::string hostile(const std::string& rel) { return std::string(TESSERA_TEST_DATA) + "/hostile/" + rel; }

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

const Tokenizer& pycode_tokenizer() {
  static const Tokenizer t = Tokenizer::from_file(std::string(TESSERA_MODELS_DIR) + "/pycode-6m");
  return t;
}

const Model& tiny_model() {
  static const std::shared_ptr<const Model> m = load(hostile("models/ok"));
  return *m;
}

enum class Kind { Safetensors, Model, Tokenizer, Text, Input, Generate, Wav, Image };

struct Case {
  Kind kind;
  const char* file;                      // relative to tests/data/hostile
  std::vector<const char*> fragments;    // the Error message must contain each
  bool names_file = true;                // ... and the path of `file`
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.file; }

std::map<std::string, Tensor> read_inputs(const std::string& path) {
  std::map<std::string, Tensor> in;
  auto f = SafetensorsFile::open(path);
  for (const auto& n : f.names()) in[n] = f.get(n);
  return in;
}

// Runs the parser that `kind` exercises on `path`.
void run(Kind kind, const std::string& path) {
  switch (kind) {
    case Kind::Safetensors: SafetensorsFile::open(path); return;
    case Kind::Model: load(path); return;
    case Kind::Tokenizer: Tokenizer::from_file(path).encode("ab ba"); return;
    case Kind::Text: pycode_tokenizer().encode(read_bytes(path)); return;
    case Kind::Input: tiny_model().forward_named(read_inputs(path)); return;
    case Kind::Generate: tiny_model().forward_named(read_inputs(path), 2); return;
    case Kind::Wav: read_wav(path); return;
    case Kind::Image: load_image(path); return;
  }
}

class Hostile : public ::testing::TestWithParam<Case> {};

TEST_P(Hostile, GivesAClearError) {
  const Case& c = GetParam();
  const std::string path = hostile(c.file);
  ASSERT_TRUE(std::filesystem::exists(path)) << path << ": run tests/data/hostile/make_hostile.py";
  try {
    run(c.kind, path);
    FAIL() << c.file << ": expected a tessera::Error, nothing was thrown";
  } catch (const Error& e) {
    const std::string what = e.what();
    for (const char* f : c.fragments) EXPECT_NE(what.find(f), std::string::npos) << "missing '" << f << "' in: " << what;
    if (c.names_file) {
      // (model directories: their config.json or weight file, both under the directory)
      EXPECT_NE(what.find(path), std::string::npos) << "the message must name " << path << ": " << what;
    }
  } catch (const std::exception& e) {
    FAIL() << c.file << ": threw a " << typeid(e).name() << " instead of tessera::Error: " << e.what();
  }
}

// clang-format off
const std::vector<Case> kSafetensors = {
  {Kind::Safetensors, "safetensors/header_past_end.safetensors", {"header length 1000", "past the end", "(10 bytes)"}},
  {Kind::Safetensors, "safetensors/header_length_huge.safetensors", {"header length 9223372036854775808", "limit"}},
  {Kind::Safetensors, "safetensors/short_file.safetensors", {"3 bytes", "at least 8"}},
  {Kind::Safetensors, "safetensors/empty_file.safetensors", {"0 bytes", "at least 8"}},
  {Kind::Safetensors, "safetensors/not_json.safetensors", {"safetensors header", "invalid JSON"}},
  {Kind::Safetensors, "safetensors/deep_nesting.safetensors", {"nested deeper than 8"}},
  {Kind::Safetensors, "safetensors/not_object.safetensors", {"must be a JSON object", "found array"}},
  {Kind::Safetensors, "safetensors/entry_not_object.safetensors", {"tensor 't'", "must be an object"}},
  {Kind::Safetensors, "safetensors/offsets_past_end.safetensors", {"tensor 't'", "[0, 16]", "8-byte data section"}},
  {Kind::Safetensors, "safetensors/offsets_reversed.safetensors", {"tensor 't'", "[8, 0]", "outside"}},
  {Kind::Safetensors, "safetensors/offsets_not_integers.safetensors", {"tensor 't'", "'data_offsets' must be two non-negative integers"}},
  {Kind::Safetensors, "safetensors/offsets_huge.safetensors", {"tensor 't'", "18446744073709551608", "outside"}},
  {Kind::Safetensors, "safetensors/overlap.safetensors", {"overlap", "0..8", "4..8"}},
  {Kind::Safetensors, "safetensors/shape_overflow.safetensors", {"tensor 't'", "too many elements"}},
  {Kind::Safetensors, "safetensors/shape_wraps_to_size.safetensors", {"tensor 't'", "[4611686018427387904]"}},
  {Kind::Safetensors, "safetensors/dim_too_large.safetensors", {"tensor 't'", "18446744073709551615", "too large"}},
  {Kind::Safetensors, "safetensors/dim_negative.safetensors", {"tensor 't'", "non-negative", "-2"}},
  {Kind::Safetensors, "safetensors/shape_not_array.safetensors", {"tensor 't'", "'shape'"}},
  {Kind::Safetensors, "safetensors/dtype_size_mismatch.safetensors", {"tensor 't'", "needs 12 bytes", "give 8"}},
  {Kind::Safetensors, "safetensors/dtype_unknown.safetensors", {"tensor 't'", "unsupported dtype 'Q4_K'"}},
  {Kind::Safetensors, "safetensors/metadata_not_string.safetensors", {"__metadata__", "'format'", "string"}},
  {Kind::Safetensors, "safetensors/duplicate_names.safetensors", {"duplicate", "'t'"}},
};

const std::vector<Case> kModels = {
  {Kind::Model, "models/config_not_json", {"config.json", "invalid JSON"}},
  {Kind::Model, "models/config_array", {"config.json", "expected a JSON object, found array"}},
  {Kind::Model, "models/config_no_model_type", {"config.json", "missing required field 'model_type'"}},
  {Kind::Model, "models/config_unknown_model_type", {"config.json", "model_type 'llama9' is not supported", "llama"}},
  {Kind::Model, "models/config_hidden_size_string", {"config.json", "'hidden_size'", "expected an integer, found \"8\""}},
  {Kind::Model, "models/config_hidden_size_zero", {"config.json", "'hidden_size'", "positive size", "found 0"}},
  {Kind::Model, "models/config_layers_negative", {"config.json", "'num_hidden_layers'", "found -2"}},
  {Kind::Model, "models/config_heads_do_not_divide", {"config.json", "hidden_size 8 is not divisible by num_attention_heads 3"}},
  {Kind::Model, "models/config_kv_heads_do_not_divide", {"config.json", "num_attention_heads 2 is not a multiple of num_key_value_heads 3"}},
  {Kind::Model, "models/config_vocab_absurd", {"config.json", "'vocab_size'", "found 1099511627776"}},
  {Kind::Model, "models/config_vocab_float_huge", {"config.json", "'vocab_size'", "expected an integer, found 3.8e+57"}},
  {Kind::Model, "models/config_vocab_uint64_max", {"config.json", "'vocab_size'", "found 18446744073709551615"}},
  {Kind::Model, "models/config_vocab_mismatch", {"model.safetensors", "'model.embed_tokens.weight'", "expected shape [1073741824, 8], found [32, 8]"}},
  {Kind::Model, "models/config_intermediate_absurd", {"model.safetensors", "mlp.gate_proj.weight'", "expected shape [2147483647, 8], found [16, 8]"}},
  {Kind::Model, "models/config_head_dim_absurd", {"model.safetensors", "q_proj.weight'", "expected shape [131072, 8], found [8, 8]"}},
  {Kind::Model, "models/config_layers_absurd", {"model.safetensors", "model.layers.2."}},
  {Kind::Model, "models/config_layers_fewer_than_checkpoint", {"model.safetensors", "model.layers.1.", "num_hidden_layers", "1"}},
  {Kind::Model, "models/config_max_positions_negative", {"config.json", "'max_position_embeddings'", "found -5"}},
  {Kind::Model, "models/config_eps_string", {"config.json", "'rms_norm_eps'", "expected a number"}},
  {Kind::Model, "models/config_rope_unknown", {"config.json", "rope type 'longrope2' is not supported"}},
  {Kind::Model, "models/config_activation_unknown", {"config.json", "'hidden_act'", "activation 'swiglu9' is not supported"}},
  {Kind::Model, "models/config_sliding_window_negative", {"config.json", "sliding_window", "-1"}},
  {Kind::Model, "models/config_longrope_factors_short", {"config.json", "short_factor must list 2 numbers", "[1.0]"}},
  {Kind::Model, "models/config_longrope_factor_negative", {"config.json", "long_factor must hold positive numbers", "-2.0"}},
  {Kind::Model, "models/config_gemma2_softcap_negative", {"config.json", "attn_logit_softcapping (-50)", "positive or null"}},
  {Kind::Model, "models/config_gemma2_layer_type_unknown", {"config.json", "layer_types[1]", "\"chunked_attention\""}},
  {Kind::Model, "models/config_gemma2_layer_types_short", {"config.json", "layer_types must list 2 entries"}},
  {Kind::Model, "models/config_gptj_rotary_dim_null", {"config.json", "rotary_dim is null with n_head 2"}},
  {Kind::Model, "models/config_gptj_rotary_dim_odd", {"config.json", "rotary_dim 3 must be even"}},
  {Kind::Model, "models/config_pegasus_d_model_odd", {"config.json", "d_model 7 must be even for sinusoidal positions"}},
  {Kind::Model, "models/config_mt5_feed_forward_proj_bad", {"config.json", "feed_forward_proj 'gated-gelu-new' is not of the form"}},
  {Kind::Model, "models/config_mbart_activation_unknown", {"config.json", "'activation_function'", "'geglu9'"}},
  {Kind::Model, "models/config_opt_no_affine_norms", {"config.json", "layer_norm_elementwise_affine = false"}},
  {Kind::Model, "models/config_gpt2_heads_do_not_divide", {"config.json", "n_embd 8 is not divisible by n_head 3"}},
  {Kind::Model, "models/config_falcon_new_arch_sequential", {"config.json", "new_decoder_architecture with parallel_attn false"}},
  {Kind::Model, "models/config_falcon_kv_heads_not_heads", {"config.json", "num_kv_heads 1 with multi_query false", "must equal num_attention_heads 2"}},
  {Kind::Model, "models/config_falcon_kv_heads_do_not_divide", {"config.json", "num_attention_heads 3 is not a multiple of num_kv_heads 2"}},
  {Kind::Model, "models/config_bloom_residual_after_norm", {"config.json", "'apply_residual_connection_post_layernorm' = true is not supported"}},
  {Kind::Model, "models/config_qwen2_moe_top_k_above_experts", {"config.json", "num_experts_per_tok", "no larger than 4, found 9"}},
  {Kind::Model, "models/weights_falcon_qkv_wrong_shape", {"model.safetensors", "'transformer.h.0.self_attention.query_key_value.weight'", "expected shape [16, 8], found [24, 8]"}},
  {Kind::Model, "models/weights_missing_tensor", {"model.safetensors", "missing tensor 'model.norm.weight'"}},
  {Kind::Model, "models/weights_wrong_shape", {"model.safetensors", "'model.layers.1.self_attn.k_proj.weight'", "expected shape [4, 8], found [8, 8]"}},
  {Kind::Model, "models/weights_integer_dtype", {"model.safetensors", "'model.layers.0.mlp.up_proj.weight'", "I32"}},
  {Kind::Model, "models/weights_norm_u8", {"model.safetensors", "'model.norm.weight'", "U8"}},
  {Kind::Model, "models/weights_none", {"no model.safetensors or model.safetensors.index.json"}},
  {Kind::Model, "models/index_missing_shard", {"model.safetensors.index.json", "shard 'model-00002-of-00002.safetensors'", "does not exist"}},
  {Kind::Model, "models/index_tensor_not_in_shard", {"model.safetensors.index.json", "tensor 'lm_head.weight'", "does not contain it"}},
  {Kind::Model, "models/index_path_traversal", {"model.safetensors.index.json", "'../ok/model.safetensors'", "plain file names"}},
  {Kind::Model, "models/index_duplicate_entry", {"model.safetensors.index.json", "duplicate", "'model.norm.weight'"}},
  {Kind::Model, "models/index_no_weight_map", {"model.safetensors.index.json", "'weight_map'"}},
};

const std::vector<Case> kTokenizers = {
  {Kind::Tokenizer, "tokenizers/not_json.json", {"not valid JSON"}},
  {Kind::Tokenizer, "tokenizers/deep_nesting.json", {"nested more than 256 levels"}},
  {Kind::Tokenizer, "tokenizers/no_model.json", {"model"}},
  {Kind::Tokenizer, "tokenizers/unknown_model_type.json", {"model.type", "SentencePieceX"}},
  {Kind::Tokenizer, "tokenizers/merge_one_token.json", {"model.merges[0]"}},
  {Kind::Tokenizer, "tokenizers/merge_unknown_token.json", {"model.merges[0]", "c"}},
  {Kind::Tokenizer, "tokenizers/merge_not_string.json", {"model.merges[0]"}},
  {Kind::Tokenizer, "tokenizers/vocab_id_not_integer.json", {"model.vocab"}},
  {Kind::Tokenizer, "tokenizers/vocab_id_negative.json", {"model.vocab", "token 'a' has id -1"}},
  {Kind::Tokenizer, "tokenizers/vocab_id_huge.json", {"model.vocab", "token 'b' has id 4000000000"}},
  {Kind::Tokenizer, "tokenizers/vocab_id_sparse_huge.json", {"model.vocab", "2000000000"}},
  {Kind::Tokenizer, "tokenizers/unknown_pre_tokenizer.json", {"pre_tokenizer.type", "Nope"}},
  {Kind::Tokenizer, "tokenizers/unknown_normalizer.json", {"normalizer.type", "Nope"}},
  {Kind::Tokenizer, "tokenizers/unknown_decoder.json", {"decoder.type", "Nope"}},
  {Kind::Tokenizer, "tokenizers/unknown_post_processor.json", {"post_processor.type", "Nope"}},
  {Kind::Tokenizer, "tokenizers/added_token_no_content.json", {"added_tokens[0].content"}},
  {Kind::Tokenizer, "tokenizers/wordpiece_unk_missing.json", {"[UNK]"}},
  {Kind::Tokenizer, "tokenizers/unigram_bad_piece.json", {"model.vocab[0]"}},
  {Kind::Tokenizer, "tokenizers/unigram_unk_out_of_range.json", {"model.unk_id", "is 7"}},
  {Kind::Tokenizer, "tokenizers/split_bad_regex.json", {"pre_tokenizer", "(unclosed"}},
};

const std::vector<Case> kText = {
  {Kind::Text, "text/lone_continuation.bin", {"UTF-8", "offset 8"}, false},
  {Kind::Text, "text/truncated_two_byte.bin", {"UTF-8", "offset 3"}, false},
  {Kind::Text, "text/overlong_slash.bin", {"UTF-8", "offset 1"}, false},
  {Kind::Text, "text/surrogate.bin", {"UTF-8", "offset 2"}, false},
  {Kind::Text, "text/above_max_code_point.bin", {"UTF-8", "offset 0"}, false},
  {Kind::Text, "text/truncated_at_end.bin", {"UTF-8", "offset 3"}, false},
  {Kind::Text, "text/invalid_byte_ff.bin", {"UTF-8", "offset 0"}, false},
};

const std::vector<Case> kInputs = {
  {Kind::Input, "inputs/id_out_of_vocab.safetensors", {"token id 32", "position 1", "vocabulary [0, 32)"}, false},
  {Kind::Input, "inputs/id_negative.safetensors", {"input 'input_ids'", "id -1 at [0, 1]"}, false},
  {Kind::Input, "inputs/id_huge.safetensors", {"input 'input_ids'", "id 1099511627776"}, false},
  {Kind::Input, "inputs/ids_float.safetensors", {"input 'input_ids'", "integer", "F32"}, false},
  {Kind::Input, "inputs/ids_rank1.safetensors", {"input 'input_ids'", "rank 2", "[3]"}, false},
  {Kind::Input, "inputs/ids_rank3.safetensors", {"input 'input_ids'", "rank 2", "[1, 1, 2]"}, false},
  {Kind::Input, "inputs/mask_shape_mismatch.safetensors", {"'attention_mask'", "[1, 2]", "[1, 3]"}, false},
  {Kind::Input, "inputs/mask_left_padded.safetensors", {"'attention_mask'", "right-padded"}, false},
  {Kind::Input, "inputs/no_input_ids.safetensors", {"'input_id'", "input_ids"}, false},
  {Kind::Generate, "inputs/prompt_two_rows.safetensors", {"'prompt_ids'", "one row, found 2"}, false},
};

const std::vector<Case> kWav = {
  {Kind::Wav, "wav/not_riff.wav", {"not a WAV file"}},
  {Kind::Wav, "wav/short.wav", {"not a WAV file"}},
  {Kind::Wav, "wav/no_fmt.wav", {"no fmt chunk"}},
  {Kind::Wav, "wav/data_before_fmt.wav", {"fmt"}},
  {Kind::Wav, "wav/fmt_size_past_end.wav", {"fmt chunk", "claims 2147483632 bytes"}},
  {Kind::Wav, "wav/fmt_too_small.wav", {"fmt chunk has 4 bytes", "16"}},
  {Kind::Wav, "wav/zero_channels.wav", {"0 channels"}},
  {Kind::Wav, "wav/zero_rate.wav", {"sample rate 0"}},
  {Kind::Wav, "wav/bits_12.wav", {"12-bit integer samples are not supported"}},
  {Kind::Wav, "wav/bits_zero.wav", {"0-bit integer samples are not supported"}},
  {Kind::Wav, "wav/float_16.wav", {"16-bit float samples are not supported"}},
  {Kind::Wav, "wav/compressed_mulaw.wav", {"format tag 7 is not supported"}},
  {Kind::Wav, "wav/extensible_short.wav", {"extensible fmt chunk has 16 bytes, 40 expected"}},
  {Kind::Wav, "wav/float_nan.wav", {"non-finite sample"}},
};

const std::vector<Case> kImages = {
  {Kind::Image, "images/not_an_image.png", {"not a PNG or JPEG file"}},
  {Kind::Image, "images/png_truncated.png", {"not a readable PNG"}},
  {Kind::Image, "images/png_signature_only.png", {"not a readable PNG"}},
  {Kind::Image, "images/png_bad_crc.png", {"not a readable PNG", "CRC"}},
  {Kind::Image, "images/png_huge_dimensions.png", {"not a readable PNG"}},
  {Kind::Image, "images/png_zero_width.png", {"not a readable PNG"}},
  {Kind::Image, "images/png_short_rows.png", {"not a readable PNG"}},
  {Kind::Image, "images/png_bad_depth.png", {"not a readable PNG"}},
  {Kind::Image, "images/jpeg_truncated.jpg", {"not a readable JPEG"}},
  {Kind::Image, "images/jpeg_soi_only.jpg", {"not a readable JPEG"}},
  {Kind::Image, "images/jpeg_huge_dimensions.jpg", {"not a readable JPEG", "more pixels"}},
  {Kind::Image, "images/jpeg_garbage_after_soi.jpg", {"not a readable JPEG"}},
};
// clang-format on

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string n = info.param.file;
  n = n.substr(n.find('/') + 1);
  n = n.substr(0, n.find('.'));
  for (char& ch : n)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(Safetensors, Hostile, ::testing::ValuesIn(kSafetensors), case_name);
INSTANTIATE_TEST_SUITE_P(ModelDir, Hostile, ::testing::ValuesIn(kModels), case_name);
INSTANTIATE_TEST_SUITE_P(TokenizerJson, Hostile, ::testing::ValuesIn(kTokenizers), case_name);
INSTANTIATE_TEST_SUITE_P(Utf8, Hostile, ::testing::ValuesIn(kText), case_name);
INSTANTIATE_TEST_SUITE_P(ForwardInputs, Hostile, ::testing::ValuesIn(kInputs), case_name);
INSTANTIATE_TEST_SUITE_P(Wav, Hostile, ::testing::ValuesIn(kWav), case_name);
INSTANTIATE_TEST_SUITE_P(Image, Hostile, ::testing::ValuesIn(kImages), case_name);

// The valid files of the corpus load, so every hostile case above fails for its own reason.

TEST(HostileBaseline, ValidSafetensorsLoad) {
  auto u = SafetensorsFile::open(hostile("safetensors/ok_unaligned.safetensors"));
  Tensor t = u.get("t");  // at byte 2 of the data section: copied, not misread
  ASSERT_EQ(t.shape(), (Shape{3}));
  EXPECT_EQ(t.get_f32(0), 1.5f);
  EXPECT_EQ(t.get_f32(1), -2.0f);
  EXPECT_EQ(t.get_f32(2), 3.25f);
  auto e = SafetensorsFile::open(hostile("safetensors/ok_empty_tensor.safetensors"));
  EXPECT_EQ(e.get("e").numel(), 0);
  EXPECT_EQ(e.get("t").get_f32(1), 2.0f);
  EXPECT_TRUE(SafetensorsFile::open(hostile("safetensors/ok_no_tensors.safetensors")).names().empty());
}

TEST(HostileBaseline, ValidModelAndShardedCopyGiveTheSameLogits) {
  auto a = load(hostile("models/ok"));
  auto b = load(hostile("models/index_ok"));
  std::vector<int32_t> ids = {1, 5, 7, 31};
  Tensor la, lb;
  auto sa = a->new_session(), sb = b->new_session();
  a->decode(*sa, ids, la, true);
  b->decode(*sb, ids, lb, true);
  ASSERT_EQ(la.shape(), (Shape{4, 32}));
  for (int64_t i = 0; i < la.numel(); ++i) ASSERT_EQ(la.get_f32(i), lb.get_f32(i)) << i;
}

TEST(HostileBaseline, ValidInputsTokenizerWavAndImage) {
  auto f = SafetensorsFile::open(hostile("inputs/ok.safetensors"));
  auto out = tiny_model().forward_named({{"input_ids", f.get("input_ids")}});
  EXPECT_EQ(out.at("logits").shape(), (Shape{1, 3, 32}));
  EXPECT_EQ(Tokenizer::from_file(hostile("tokenizers/ok.json")).encode("ab").ids, (std::vector<int32_t>{2}));
  EXPECT_EQ(read_wav(hostile("wav/ok.wav")).samples.size(), 4u);
  // A data chunk that claims 4 GB takes the 3 samples the file holds.
  EXPECT_EQ(read_wav(hostile("wav/data_size_huge.wav")).samples.size(), 3u);
  EXPECT_EQ(load_image(hostile("images/ok.png")).width, 2);
}

TEST(HostileBaseline, TrimmedTokenizersOfEveryPipelineLoad) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(hostile("tokenizers"))) {
    if (e.path().filename().string().rfind("ok_", 0) != 0) continue;
    auto tok = Tokenizer::from_file(e.path().string());
    EXPECT_NO_THROW(tok.decode(tok.encode("Hello, world! 123").ids)) << e.path();
    ++n;
  }
  EXPECT_GE(n, 5);
}

// A context that fills up is an Error that leaves the session as it was: nothing is written
// past the cache, and decoding can continue from the same position.
TEST(Limits, FullContextIsAnErrorAndTheSessionSurvives) {
  const Model& m = tiny_model();
  auto s = m.new_session({.max_context = 6});
  EXPECT_EQ(s->capacity(), 6);
  Tensor logits;
  m.decode(*s, std::vector<int32_t>{1, 2, 3, 4}, logits, false);
  try {
    m.decode(*s, std::vector<int32_t>{5, 6, 7}, logits, false);
    FAIL() << "expected a context-full Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("context is full: 4 tokens cached + 3 new exceed the session's limit of 6"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(s->position(), 4);
  // The same two tokens after the failed call give what a fresh session gives.
  m.decode(*s, std::vector<int32_t>{5, 6}, logits, false);
  auto fresh = m.new_session({.max_context = 6});
  Tensor want;
  m.decode(*fresh, std::vector<int32_t>{1, 2, 3, 4, 5, 6}, want, false);
  // (not bit-equal: a 2-row and a 6-row forward pass may take different GEMM paths)
  for (int64_t i = 0; i < want.numel(); ++i) ASSERT_NEAR(logits.get_f32(i), want.get_f32(i), 1e-5) << i;
  EXPECT_THROW(m.decode(*s, std::vector<int32_t>{1}, logits, false), Error);
  EXPECT_EQ(s->position(), 6);
}

TEST(Limits, OutOfVocabularyIdLeavesTheSessionAsItWas) {
  const Model& m = tiny_model();
  auto s = m.new_session();
  Tensor logits;
  EXPECT_THROW(m.decode(*s, std::vector<int32_t>{1, 2, 99}, logits, false), Error);
  EXPECT_EQ(s->position(), 0);
}

TEST(Limits, NegativeMaxContextIsAnError) {
  try {
    tiny_model().new_session({.max_context = -1});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("max_context"), std::string::npos) << e.what();
  }
}

TEST(Limits, KvCacheBudgetIsCheckedWhenTheSessionIsCreated) {
  const Model& m = tiny_model();
  // 2 layers × (keys + values) × 4 floats (1 kv head × head_dim 4) × 4 bytes = 64 bytes a position.
  SessionOptions o;
  o.kv_type = DType::F32;
  o.max_context = 64;
  o.kv_cache_bytes = 64 * 64;
  EXPECT_EQ(m.new_session(o)->capacity(), 64);
  o.kv_cache_bytes = 64 * 64 - 1;
  try {
    m.new_session(o);
    FAIL() << "expected the KV cache budget to be refused";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("kv_cache_bytes"), std::string::npos) << what;
    EXPECT_NE(what.find("4096 bytes"), std::string::npos) << what;
    EXPECT_NE(what.find("4095"), std::string::npos) << what;
  }
  // An absurd context never multiplies into an overflow that slips under the budget.
  o.max_context = int64_t(1) << 62;
  o.kv_cache_bytes = 1 << 20;
  EXPECT_THROW(m.new_session(o), Error);
  o.kv_cache_bytes = -1;
  EXPECT_THROW(m.new_session(o), Error);
}

// The budget counts the cache's dtype: f16 and bf16 take 2 bytes a value (32 bytes a position
// here); q8_0 takes a 34-byte block (f16 scale + 32 int8) per head of up to 32 values, so the
// tiny model's heads of 4 cost 2 layers × 2 × 34 = 136 bytes a position, more than f32.
TEST(Limits, KvCacheBudgetCountsTheCacheType) {
  const Model& m = tiny_model();
  for (auto [t, per_position] : {std::pair{DType::F16, 32}, std::pair{DType::BF16, 32}, std::pair{DType::Q8_0, 136},
                                 std::pair{DType::F32, 64}}) {
    EXPECT_EQ(m.kv_cache_bytes_per_position(t), per_position) << dtype_name(t);
    SessionOptions o;
    o.kv_type = t;
    o.max_context = 64;
    o.kv_cache_bytes = 64 * per_position;
    EXPECT_EQ(m.new_session(o)->capacity(), 64) << dtype_name(t);
    o.kv_cache_bytes = 64 * per_position - 1;
    try {
      m.new_session(o);
      FAIL() << "expected the KV cache budget to be refused for " << dtype_name(t);
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("(" + std::to_string(per_position) + " bytes a position)"), std::string::npos)
          << e.what();
    }
  }
  EXPECT_EQ(SessionOptions{}.kv_type, DType::F16);  // the default, as llama.cpp's
  try {
    m.new_session({.kv_type = DType::Q4_0});
    FAIL() << "expected kv_type Q4_0 to be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("kv_type Q4_0"), std::string::npos) << e.what();
  }
  EXPECT_EQ(kv_type_from_name("Q8_0"), DType::Q8_0);
  EXPECT_EQ(kv_type_from_name("bf16"), DType::BF16);
  EXPECT_THROW(kv_type_from_name("q4_0"), Error);
  EXPECT_THROW(kv_type_from_name(""), Error);
}

// The same limits on the other model kinds: encoder-decoders size their decoder's self-attention
// cache by max_context (BART: learned positions cap it), encoders refuse negative values.
TEST(Limits, EncoderDecoderAndEncoderSessionsCheckTheirOptions) {
  const auto bart = load(std::string(TESSERA_TEST_DATA) + "/hf/bart");  // 2 decoder layers, d_model 72, 64 positions
  EXPECT_EQ(bart->new_session()->capacity(), 64);
  EXPECT_THROW(bart->new_session({.max_context = 65}), Error);
  EXPECT_THROW(bart->new_session({.max_context = -1}), Error);
  // 2 layers × (keys + values) × 72 floats × 4 bytes = 1152 bytes a position.
  EXPECT_EQ(bart->new_session({.max_context = 10, .kv_cache_bytes = 11520, .kv_type = DType::F32})->capacity(), 10);
  EXPECT_EQ(bart->new_session({.max_context = 10, .kv_cache_bytes = 5760})->capacity(), 10);  // f16: half
  EXPECT_THROW(bart->new_session({.max_context = 10, .kv_cache_bytes = 5759}), Error);
  try {
    bart->new_session({.max_context = 10, .kv_cache_bytes = 11519, .kv_type = DType::F32});
    FAIL() << "expected the KV cache budget to be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("1152 bytes a position"), std::string::npos) << e.what();
  }
  EXPECT_THROW(bart->new_session({.kv_cache_bytes = -5}), Error);
  const auto bert = load(std::string(TESSERA_TEST_DATA) + "/hf/bert");
  EXPECT_THROW(bert->new_session({.max_context = -1}), Error);
  EXPECT_THROW(bert->new_session({.kv_cache_bytes = -1}), Error);
}

TEST(Limits, GenerationStopsAtMaxNewTokensAndAtTheContext) {
  const Model& m = tiny_model();
  GenerationOptions g;
  g.stop_at_eos = false;
  g.max_new_tokens = 3;
  auto s = m.new_session({.max_context = 10});
  std::vector<int32_t> prompt = {1, 5, 7};
  EXPECT_EQ(generate(m, *s, prompt, g).tokens.size(), 3u);
  g.max_new_tokens = -1;
  EXPECT_THROW(generate(m, *m.new_session(), prompt, g), Error);
  // 10 positions: the 3-token prompt leaves room for 7 cached tokens plus one final token.
  g.max_new_tokens = 100;
  auto small = m.new_session({.max_context = 10});
  auto r = generate(m, *small, prompt, g);
  EXPECT_EQ(r.tokens.size(), 8u);
  EXPECT_LE(small->position(), small->capacity());
  auto full = m.new_session({.max_context = 2});
  EXPECT_THROW(generate(m, *full, prompt, g), Error);  // the prompt itself does not fit
}

}  // namespace
