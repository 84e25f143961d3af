// BPE dropout: "dropout" in a BPE model's tokenizer.json skips each merge with that
// probability, as Hugging Face tokenizers does; tessera's draws are seeded (set_dropout_seed).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "tessera/core/error.hpp"
#include "tessera/core/parallel.hpp"
#include "tessera/text/tokenizer.hpp"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const fs::path kDir = fs::path(TESSERA_TEST_DATA) / "tokenizers";

json load_json(const std::string& name) {
  std::ifstream f(kDir / name / "tokenizer.json");
  return json::parse(f);
}

// The tokenizer.json of `name` with model.dropout set to `dropout` (a JSON value, so that
// null, strings and out-of-range numbers can be written too).
tessera::Tokenizer with_dropout(const std::string& name, const json& dropout) {
  json j = load_json(name);
  j["model"]["dropout"] = dropout;
  return tessera::Tokenizer::from_json(j.dump(), name + "/tokenizer.json");
}

const std::vector<std::string> kTexts = {
    "Hello world, tokenization \xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80 unrelated",
    "  leading spaces\n\tand tabs",
    "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x81\xAE\xE3\x83\x86\xE3\x82\xAD\xE3\x82\xB9\xE3\x83\x88",
    "def f(x):\n    return x**2  # comment",
};

// Ids from Hugging Face tokenizers 0.23.2 (npm) for kTexts with "dropout": 1.0, no special
// tokens: no merge at all, so byte-level BPE gives one token per byte (cl100k too: dropout
// bypasses ignore_merges there) and the Llama model one per character or byte-fallback byte.
// Regenerate: set model.dropout = 1.0 in the tokenizer.json and print
// (await tok.encode(text, null, {addSpecialTokens: false})).getIds().
const std::vector<std::pair<std::string, std::vector<std::vector<int32_t>>>> kUnmerged = {
    {"gpt2",
     {{39, 68, 75, 75, 78, 220, 86, 78, 81, 75, 67, 11, 220, 83, 78, 74, 68, 77, 72, 89, 64, 83, 72, 78, 77, 220, 127, 102, 158, 224, 105, 172, 253, 246, 222, 220, 84, 77, 81, 68, 75, 64, 83, 68, 67},
      {220, 220, 75, 68, 64, 67, 72, 77, 70, 220, 82, 79, 64, 66, 68, 82, 198, 197, 64, 77, 67, 220, 83, 64, 65, 82},
      {162, 245, 98, 162, 250, 105, 164, 103, 252, 159, 223, 106, 159, 225, 228, 159, 224, 255, 159, 224, 117, 159, 225, 230},
      {67, 68, 69, 220, 69, 7, 87, 8, 25, 198, 220, 220, 220, 220, 81, 68, 83, 84, 81, 77, 220, 87, 9, 9, 17, 220, 220, 2, 220, 66, 78, 76, 76, 68, 77, 83}}},
    {"spm-bpe-llama",
     {{5299, 5359, 5300, 5308, 5308, 5307, 5299, 5328, 5307, 5303, 5308, 5309, 5318, 5299, 5301, 5307, 5334, 5300, 5304, 5305, 5365, 5306, 5301, 5305, 5307, 5304, 5299, 5503, 5542, 5502, 5299, 5314, 5304, 5303, 5300, 5308, 5306, 5301, 5300, 5309},
      {5299, 5299, 5299, 5308, 5300, 5306, 5309, 5305, 5304, 5322, 5299, 5302, 5313, 5306, 5311, 5300, 5302, 13, 12, 5306, 5304, 5309, 5299, 5301, 5306, 5323, 5302},
      {5299, 5510, 5511, 5512, 230, 132, 177, 230, 134, 137, 230, 133, 176, 230, 133, 188, 230, 134, 139},
      {5299, 5309, 5300, 5310, 5299, 5310, 5321, 5331, 5320, 5326, 13, 5299, 5299, 5299, 5299, 5303, 5300, 5301, 5314, 5303, 5304, 5299, 5331, 5352, 5352, 5353, 5299, 5299, 5333, 5299, 5311, 5307, 5315, 5315, 5300, 5304, 5301}}},
    {"cl100k",
     {{39, 68, 75, 75, 78, 220, 86, 78, 81, 75, 67, 11, 220, 83, 78, 74, 68, 77, 72, 89, 64, 83, 72, 78, 77, 220, 127, 102, 158, 224, 105, 172, 253, 246, 222, 220, 84, 77, 81, 68, 75, 64, 83, 68, 67},
      {220, 220, 75, 68, 64, 67, 72, 77, 70, 220, 82, 79, 64, 66, 68, 82, 198, 197, 64, 77, 67, 220, 83, 64, 65, 82},
      {162, 245, 98, 162, 250, 105, 164, 103, 252, 159, 223, 106, 159, 225, 228, 159, 224, 255, 159, 224, 117, 159, 225, 230},
      {67, 68, 69, 220, 69, 7, 87, 8, 25, 198, 220, 220, 220, 220, 81, 68, 83, 84, 81, 77, 220, 87, 9, 9, 17, 220, 220, 2, 220, 66, 78, 76, 76, 68, 77, 83}}},
};

TEST(BpeDropout, OneAppliesNoMergeLikeHuggingFace) {
  for (const auto& [name, expected] : kUnmerged) {
    const auto tok = with_dropout(name, 1.0);
    ASSERT_EQ(tok.dropout(), 1.0f) << name;
    for (size_t i = 0; i < kTexts.size(); ++i) {
      EXPECT_EQ(tok.encode(kTexts[i], false).ids, expected[i]) << name << " text " << i;
      // Whatever the seed: with p = 1 nothing is random.
      auto other = with_dropout(name, 1.0);
      other.set_dropout_seed(12345);
      EXPECT_EQ(other.encode(kTexts[i], false).ids, expected[i]) << name << " text " << i;
    }
  }
}

std::vector<std::string> corpus(const std::string& name, size_t n) {
  std::ifstream f(kDir / name / "reference.json");
  const json ref = json::parse(f);
  std::vector<std::string> out;
  for (const auto& c : ref["cases"]) {
    if (out.size() == n) break;
    out.push_back(c["text"].get<std::string>());
  }
  return out;
}

TEST(BpeDropout, ZeroAndNullAreNoDropout) {
  for (const std::string name : {"gpt2", "spm-bpe-llama", "cl100k"}) {
    const auto plain = tessera::Tokenizer::from_file((kDir / name).string());
    const auto zero = with_dropout(name, 0.0);
    const auto null = with_dropout(name, nullptr);
    EXPECT_EQ(zero.dropout(), std::nullopt);
    EXPECT_EQ(null.dropout(), std::nullopt);
    for (const auto& text : corpus(name, 300)) {
      const auto want = plain.encode(text).ids;
      EXPECT_EQ(zero.encode(text).ids, want) << json(text).dump();
      EXPECT_EQ(null.encode(text).ids, want) << json(text).dump();
    }
  }
}

// Text long enough to have many merges to skip.
const std::string kProse =
    "The quick brown fox jumps over the lazy dog. Tokenization with dropout produces "
    "different segmentations of the same sentence, which regularises the model trained on it.";

TEST(BpeDropout, IntermediateVariesAcrossSeedsAndDecodesBack) {
  // (The Llama fixture's 6,000-token vocabulary has almost no merges for English prose.)
  for (const std::string name : {"gpt2", "cl100k"}) {
    const auto plain = tessera::Tokenizer::from_file((kDir / name).string());
    const size_t plain_len = plain.encode(kProse, false).size();
    auto tok = with_dropout(name, 0.3);
    std::set<std::vector<int32_t>> seen;
    for (uint64_t seed = 1; seed <= 8; ++seed) {
      tok.set_dropout_seed(seed);
      const auto ids = tok.encode(kProse, false).ids;
      EXPECT_GT(ids.size(), plain_len) << name << " seed " << seed;  // p = 0.3 over ~40 words
      EXPECT_EQ(tok.decode(ids), kProse) << name << " seed " << seed;
      seen.insert(ids);
    }
    EXPECT_GE(seen.size(), 7u) << name << ": 8 seeds should give (almost) 8 segmentations";
    // Every text of the hostile corpus still decodes to itself (byte-level BPE: exactly).
    tok.set_dropout(0.5f);
    for (const auto& text : corpus(name, 300))
      EXPECT_EQ(tok.decode(tok.encode(text, false).ids), text) << name << " " << json(text).dump();
  }
}

TEST(BpeDropout, SameSeedSameOutputAndBatchMatchesCalls) {
  auto a = with_dropout("gpt2", 0.4);
  auto b = with_dropout("gpt2", 0.4);
  a.set_dropout_seed(7);
  b.set_dropout_seed(7);
  // Successive calls draw different streams; the same seed repeats the whole sequence.
  std::vector<std::vector<int32_t>> first;
  for (int k = 0; k < 5; ++k) {
    first.push_back(a.encode(kProse, false).ids);
    EXPECT_EQ(b.encode(kProse, false).ids, first.back()) << "call " << k;
  }
  EXPECT_NE(first[0], first[1]);
  // Reseeding restarts the sequence.
  a.set_dropout_seed(7);
  EXPECT_EQ(a.encode(kProse, false).ids, first[0]);
  // A batch encodes text i with call number i, on whichever thread: the same as five calls.
  a.set_dropout_seed(7);
  tessera::set_num_threads(2);
  const auto batch = a.encode_batch(std::vector<std::string>(5, kProse), false);
  for (size_t i = 0; i < batch.size(); ++i) EXPECT_EQ(batch[i].ids, first[i]) << "batch item " << i;
}

TEST(BpeDropout, SetDropoutTurnsItOnAndOff) {
  const auto plain = tessera::Tokenizer::from_file((kDir / "gpt2").string());
  auto tok = with_dropout("gpt2", 1.0);
  tok.set_dropout(std::nullopt);
  EXPECT_EQ(tok.dropout(), std::nullopt);
  EXPECT_EQ(tok.encode(kProse).ids, plain.encode(kProse).ids);
  tok.set_dropout(1.0f);
  EXPECT_EQ(tok.encode(kTexts[0], false).ids, kUnmerged[0].second[0]);
  EXPECT_THROW(tok.set_dropout(1.5f), tessera::Error);
  EXPECT_THROW(tok.set_dropout(-0.5f), tessera::Error);
  auto bert = tessera::Tokenizer::from_file((kDir / "bert-base-uncased").string());
  EXPECT_THROW(bert.set_dropout(0.1f), tessera::Error);
  bert.set_dropout(std::nullopt);  // turning off what is not there is fine
}

TEST(BpeDropout, InvalidValuesNameTheFieldAndValue) {
  const std::vector<std::pair<json, std::string>> bad = {
      {-0.1, "-0.1"}, {1.5, "1.5"}, {"0.5", "\"0.5\""}, {true, "true"}, {json::array({0.1}), "[0.1]"}};
  for (const auto& [value, shown] : bad) {
    try {
      with_dropout("gpt2", value);
      ADD_FAILURE() << "dropout " << value.dump() << " was accepted";
    } catch (const tessera::Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("model.dropout"), std::string::npos) << msg;
      EXPECT_NE(msg.find(shown), std::string::npos) << msg;
    }
  }
  // The bounds themselves are valid, as in tokenizers.
  EXPECT_NO_THROW(with_dropout("gpt2", 0));
  EXPECT_NO_THROW(with_dropout("gpt2", 1));
}

}  // namespace
