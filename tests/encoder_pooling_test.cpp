// Sentence-embedding pooling (embedding_pooling.hpp) against sums worked out by hand, and
// tessera-embed end to end on a real encoder fixture.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fixture_util.hpp"
#include "tessera/io/mmap.hpp"
#include "tessera/models/embedding_pooling.hpp"
#include "tessera/models/model.hpp"
#include "tessera/text/tokenizer.hpp"

using namespace tessera;

namespace {

// Two sequences packed: [1,2,3] [3,4,5] | [0,0,2] (H = 3), and an empty third one.
Tensor packed_example() {
  return Tensor::from_f32({3, 3}, {1, 2, 3, 3, 4, 5, 0, 0, 2});
}

}  // namespace

TEST(EmbeddingPooling, MeanOfKnownVectors) {
  Tensor p = pool_embeddings(packed_example(), {2, 1, 0}, Pooling::Mean);
  ASSERT_EQ(shape_str(p.shape()), "[3, 3]");
  // ((1+3)/2, (2+4)/2, (3+5)/2) = (2, 3, 4); the single vector; zeros for the empty one.
  std::vector<float> want = {2, 3, 4, 0, 0, 2, 0, 0, 0};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_FLOAT_EQ(p.data<float>()[i], want[i]) << i;
}

TEST(EmbeddingPooling, ClsTakesFirstToken) {
  Tensor p = pool_embeddings(packed_example(), {2, 1, 0}, Pooling::Cls);
  std::vector<float> want = {1, 2, 3, 0, 0, 2, 0, 0, 0};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_FLOAT_EQ(p.data<float>()[i], want[i]) << i;
}

TEST(EmbeddingPooling, Normalize) {
  Tensor p = pool_embeddings(packed_example(), {2, 1, 0}, Pooling::Mean, /*normalize=*/true);
  // (2, 3, 4) / sqrt(4 + 9 + 16) = (2, 3, 4) / sqrt(29); (0, 0, 2) / 2; zeros stay zeros.
  const float s = std::sqrt(29.0f);
  std::vector<float> want = {2 / s, 3 / s, 4 / s, 0, 0, 1, 0, 0, 0};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(p.data<float>()[i], want[i], 1e-7) << i;
}

TEST(EmbeddingPooling, Errors) {
  EXPECT_THROW(pool_embeddings(packed_example(), {2, 2}, Pooling::Mean), Error);
  EXPECT_THROW(pool_embeddings(packed_example(), {4, -1}, Pooling::Mean), Error);
  EXPECT_THROW(parse_pooling("max"), Error);
  EXPECT_EQ(parse_pooling("cls"), Pooling::Cls);
}

TEST(EmbeddingPooling, MatchesEncodeOutput) {
  // Mean pooling of encode() equals the mean of the rows tessera-forward-style outputs give.
  auto model = load(tessera::testing::data_dir() + "/hf/bert");
  std::vector<std::vector<int32_t>> seqs = {{101 % 1013, 7, 9, 102 % 1013}, {5, 6}};
  Tensor h = model->encode(seqs);
  Tensor p = pool_embeddings(h, {4, 2}, Pooling::Mean);
  const int64_t d = h.dim(1);
  for (int64_t i = 0; i < d; ++i) {
    float a = 0;
    for (int64_t t = 0; t < 4; ++t) a += h.data<float>()[t * d + i];
    EXPECT_NEAR(p.data<float>()[i], a / 4, 1e-6);
    EXPECT_NEAR(p.data<float>()[d + i], (h.data<float>()[4 * d + i] + h.data<float>()[5 * d + i]) / 2, 1e-6);
  }
}

namespace {

// A model directory: the hf/bert fixture plus a small WordPiece tokenizer whose ids fit its
// 1013-word vocabulary.
std::string embed_model_dir() {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(::testing::TempDir()) / "embed_bert";
  fs::create_directories(dir);
  for (const char* f : {"config.json", "model.safetensors"})
    fs::copy_file(fs::path(tessera::testing::data_dir()) / "hf/bert" / f, dir / f, fs::copy_options::overwrite_existing);
  std::ofstream(dir / "tokenizer.json") << R"({
  "version": "1.0", "truncation": null, "padding": null,
  "added_tokens": [
    {"id": 0, "content": "[PAD]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
    {"id": 1, "content": "[UNK]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
    {"id": 2, "content": "[CLS]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
    {"id": 3, "content": "[SEP]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}],
  "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true},
  "pre_tokenizer": {"type": "BertPreTokenizer"},
  "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]},
  "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
  "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100,
    "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "hello": 4, "world": 5, "the": 6, "cat": 7, "##s": 8,
              "sat": 9, ".": 10, "a": 11}}})";
  return dir.string();
}

std::vector<std::vector<double>> read_json_rows(const std::string& path) {
  std::vector<std::vector<double>> rows;
  std::istringstream in(read_text_file(path));
  std::string line;
  while (std::getline(in, line)) rows.push_back(nlohmann::json::parse(line).get<std::vector<double>>());
  return rows;
}

}  // namespace

TEST(EmbedTool, MatchesLibraryPooling) {
  const std::string dir = embed_model_dir();
  const std::string input = ::testing::TempDir() + "/embed_input.txt";
  std::string long_line;
  for (int i = 0; i < 100; ++i) long_line += "cats sat ";
  {
    std::ofstream(input) << "Hello world\nthe cats sat.\n\n" << long_line << "\n";
  }
  Tokenizer tok = Tokenizer::from_file(dir);
  EXPECT_EQ(tok.encode("Hello world").ids, (std::vector<int32_t>{2, 4, 5, 3}));
  TruncationParams trunc;
  trunc.max_length = 64;  // the fixture's max_position_embeddings
  tok.set_truncation(trunc);
  auto model = load(dir);
  const std::vector<std::string> lines = {"Hello world", "the cats sat.", "", long_line};

  for (const char* pooling : {"mean", "cls"}) {
    for (bool normalize : {false, true}) {
      const std::string out = ::testing::TempDir() + "/embed_out.jsonl";
      tessera::testing::run_ok("(" + tessera::testing::bin("embed") + " " + dir + " --input " + input + " --pooling " +
                               pooling + (normalize ? " --normalize" : "") + " > " + out + ")");
      if (HasFatalFailure()) return;
      auto rows = read_json_rows(out);
      ASSERT_EQ(rows.size(), lines.size());
      for (size_t r = 0; r < lines.size(); ++r) {
        auto ids = tok.encode(lines[r]).ids;
        ASSERT_LE(ids.size(), 64u);
        Tensor h = model->encode({ids});
        Tensor want = pool_embeddings(h, {int64_t(ids.size())}, parse_pooling(pooling), normalize);
        ASSERT_EQ(int64_t(rows[r].size()), want.dim(1));
        for (int64_t i = 0; i < want.dim(1); ++i)
          EXPECT_NEAR(rows[r][size_t(i)], want.data<float>()[i], 1e-5) << pooling << " line " << r << " dim " << i;
      }
    }
  }
  // TSV: the same numbers, tab-separated.
  const std::string tsv = ::testing::TempDir() + "/embed_out.tsv";
  tessera::testing::run_ok("(echo 'hello world' | " + tessera::testing::bin("embed") + " " + dir + " --format tsv > " + tsv + ")");
  std::string text = read_text_file(tsv);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\t'), model->info().hidden_size - 1);
}

// tessera-embed on the encoder fixtures that ship sentence-transformers files (tokenizer.json,
// 1_Pooling/config.json, modules.json): its defaults must give the embeddings the PyTorch
// reference computed from the same sentences tokenized by hand (meta.json "embedding").
TEST(EmbedTool, MatchesSentenceTransformersReference) {
  int checked = 0;
  for (const std::string& name : tessera::testing::fixture_dirs("encoder")) {
    const std::string dir = tessera::testing::data_dir() + "/" + name;
    const auto meta = load_json_file(dir + "/meta.json");
    if (!meta.contains("embedding")) continue;
    ++checked;
    const auto sentences = meta["embedding"]["sentences"].get<std::vector<std::string>>();
    const auto ids = meta["embedding"]["ids"].get<std::vector<std::vector<int32_t>>>();
    // The tokenizer gives the hand-derived ids (else the comparison below would test nothing).
    Tokenizer tok = Tokenizer::from_file(dir);
    for (size_t i = 0; i < sentences.size(); ++i) EXPECT_EQ(tok.encode(sentences[i]).ids, ids[i]) << name << " " << i;
    const std::string input = ::testing::TempDir() + "/embed_st_input.txt";
    {
      std::ofstream f(input);
      for (const auto& s : sentences) f << s << "\n";
    }
    const std::string out = ::testing::TempDir() + "/embed_st_out.jsonl";
    tessera::testing::run_ok("(" + tessera::testing::bin("embed") + " " + dir + " --input " + input + " > " + out + ")");
    if (HasFatalFailure()) return;
    auto rows = read_json_rows(out);
    Tensor want = SafetensorsFile::open(dir + "/reference.safetensors").get("sentence_embedding");
    ASSERT_EQ(int64_t(rows.size()), want.dim(0)) << name;
    for (int64_t r = 0; r < want.dim(0); ++r) {
      ASSERT_EQ(int64_t(rows[size_t(r)].size()), want.dim(1)) << name;
      for (int64_t i = 0; i < want.dim(1); ++i)
        EXPECT_NEAR(rows[size_t(r)][size_t(i)], want.get_f32(r * want.dim(1) + i), 1e-4) << name << " sentence " << r
                                                                                        << " dim " << i;
    }
  }
  EXPECT_GE(checked, 2) << "expected the xlm-roberta and distilbert fixtures with sentence embeddings";
}
