// Tokenizer tests against references computed by Hugging Face (tokenizer_reference.json,
// written by transformers/tokenizers) and round-trip properties.
#include "tessera/text/tokenizer.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tessera/core/error.hpp"

namespace {

using nlohmann::json;

const std::string kPycodeDir = std::string(TESSERA_MODELS_DIR) + "/pycode-6m";

json read_json(const std::string& path) {
  std::ifstream f(path);
  EXPECT_TRUE(f.good()) << path;
  return json::parse(f);
}

const tessera::Tokenizer& pycode() {
  static const tessera::Tokenizer t = tessera::Tokenizer::from_file(kPycodeDir);
  return t;
}

TEST(TokenizerPycode, MatchesHuggingFaceReferenceOnEveryCase) {
  const json ref = read_json(kPycodeDir + "/tokenizer_reference.json");
  const auto& tok = pycode();
  ASSERT_GT(ref["cases"].size(), 0u);
  for (const auto& c : ref["cases"]) {
    const std::string text = c["text"].get<std::string>();
    const auto want = c["ids"].get<std::vector<int32_t>>();
    const tessera::Encoding e = tok.encode(text, /*add_special_tokens=*/false);
    EXPECT_EQ(e.ids, want) << c["source"].get<std::string>();
    if (c.contains("tokens")) {
      EXPECT_EQ(e.tokens, c["tokens"].get<std::vector<std::string>>()) << c["source"];
    }
    EXPECT_EQ(tok.decode(want), c["decoded"].get<std::string>()) << c["source"];
    EXPECT_EQ(tok.decode(want), text) << c["source"];
    // The pipeline adds nothing for this tokenizer (ByteLevel post-processor).
    EXPECT_EQ(tok.encode(text).ids, want) << c["source"];
  }
}

TEST(TokenizerPycode, OffsetsCoverTheirBytes) {
  const auto& tok = pycode();
  const std::string text = "def f(x):\n    return x + 1  # ünïcödé €\n<|endoftext|>ok";
  const auto e = tok.encode(text);
  ASSERT_EQ(e.ids.size(), e.offsets.size());
  size_t covered = 0;
  for (size_t i = 0; i < e.size(); ++i) {
    const auto [b, en] = e.offsets[i];
    ASSERT_LE(b, en);
    ASSERT_LE(en, text.size());
    // Each token decodes to the bytes of its span, or to part of one multi-byte character.
    const std::string piece = tok.decode({e.ids[i]});
    if (piece.find("\xEF\xBF\xBD") == std::string::npos) {
      EXPECT_EQ(piece, text.substr(b, en - b)) << i;
    }
    covered = std::max(covered, en);
  }
  EXPECT_EQ(covered, text.size());
}

TEST(TokenizerPycode, SpecialTokenMatchedInRawText) {
  const auto& tok = pycode();
  const auto eot = tok.token_to_id("<|endoftext|>");
  ASSERT_TRUE(eot.has_value());
  EXPECT_EQ(tok.bos_id(), eot);
  EXPECT_EQ(tok.eos_id(), eot);
  const auto e = tok.encode("a<|endoftext|>b");
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e.ids[1], *eot);
  EXPECT_EQ(e.offsets[1], (std::pair<size_t, size_t>{1, 14}));
  EXPECT_EQ(tok.decode(e.ids, /*skip_special_tokens=*/true), "ab");
  EXPECT_EQ(tok.decode(e.ids), "a<|endoftext|>b");
  EXPECT_EQ(tok.id_to_token(*eot), "<|endoftext|>");
  EXPECT_EQ(tok.vocab_size(), 4096u);
}

TEST(TokenizerPycode, StreamDecoderNeverSplitsACharacter) {
  const auto& tok = pycode();
  const std::string text = "print('héllo wörld 你好 🙂 €')\n";
  const auto ids = tok.encode(text).ids;
  auto stream = tok.stream_decoder();
  std::string all;
  for (int32_t id : ids) {
    const std::string piece = stream.push(id);
    EXPECT_EQ(piece.find("\xEF\xBF\xBD"), std::string::npos);
    all += piece;
  }
  all += stream.flush();
  EXPECT_EQ(all, text);
}

TEST(TokenizerPycode, BatchEqualsSingle) {
  const auto& tok = pycode();
  std::vector<std::string> texts = {"import os", "", "  x = [1, 2, 3]\n", "<|endoftext|>", "ñ"};
  const auto batch = tok.encode_batch(texts);
  ASSERT_EQ(batch.size(), texts.size());
  for (size_t i = 0; i < texts.size(); ++i) EXPECT_EQ(batch[i].ids, tok.encode(texts[i]).ids) << i;
  EXPECT_TRUE(tok.encode("").ids.empty());
}

TEST(TokenizerPycode, InvalidUtf8IsAnError) {
  const auto& tok = pycode();
  try {
    tok.encode("ok \xC3(");
    FAIL() << "expected tessera::Error";
  } catch (const tessera::Error& e) {
    EXPECT_NE(std::string(e.what()).find("offset 3"), std::string::npos) << e.what();
  }
  // decode of bytes that are not UTF-8 replaces them, as Hugging Face does.
  const auto a = tok.token_to_id("\xC3\x83");  // the byte-level character for byte 0xC3
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(tok.decode({*a}), "\xEF\xBF\xBD");
}

TEST(TokenizerErrors, MalformedJsonNamesFileAndField) {
  const auto expect_error = [](const std::string& j, const std::string& needle) {
    try {
      tessera::Tokenizer::from_json(j, "bad.json");
      ADD_FAILURE() << "expected an error for " << j;
    } catch (const tessera::Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("bad.json"), std::string::npos) << what;
      EXPECT_NE(what.find(needle), std::string::npos) << what;
    }
  };
  expect_error("{", "not valid JSON");
  expect_error("{}", "model");
  expect_error(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}})", "model.merges[0]");
  expect_error(R"({"model": {"type": "BPE", "vocab": {"a": "x"}, "merges": []}})", "model.vocab");
  expect_error(R"({"model": {"type": "BPE", "vocab": {}, "merges": []}, "pre_tokenizer": {"type": "Nope"}})",
               "pre_tokenizer.type");
  expect_error(R"({"model": {"type": "BPE", "vocab": {}, "merges": []}, "added_tokens": [{"id": 1}]})",
               "added_tokens[0].content");
}

// A tokenizer with only `pre_tokenizer` (and `normalizer`) over a vocabulary of [UNK]: every
// pre-token is one token, so the code point offsets show where the pipeline split.
std::vector<std::pair<size_t, size_t>> pieces(const json& pre, std::string_view text, const json& normalizer = nullptr) {
  const json j = {{"normalizer", normalizer},
                  {"pre_tokenizer", pre},
                  {"model", {{"type", "WordLevel"}, {"vocab", {{"[UNK]", 0}}}, {"unk_token", "[UNK]"}}}};
  const auto tok = tessera::Tokenizer::from_json(j.dump(), "pieces.json");
  return tok.encode(text, false, tessera::OffsetType::kChar).offsets;
}
using Spans = std::vector<std::pair<size_t, size_t>>;
json split(const std::string& regex) {
  return {{"type", "Split"}, {"pattern", {{"Regex", regex}}}, {"behavior", "Isolated"}, {"invert", false}};
}

// Expected values below are what tokenizers (npm 0.23.2) gives.
TEST(TokenizerUnicodeScripts, SplitsWhereTheScriptChanges) {
  const json pre = {{"type", "UnicodeScripts"}};
  // Hiragana, Katakana and U+30FC count as Han; the ideographic full stop is Common.
  EXPECT_EQ(pieces(pre, "どこで生れ。Yes"), (Spans{{0, 5}, {5, 6}, {6, 9}}));
  // A space belongs to the piece it is in.
  EXPECT_EQ(pieces(pre, "Apples are りんご 林檎"), (Spans{{0, 11}, {11, 17}}));
  EXPECT_EQ(pieces(pre, "aーbカな漢 x1"), (Spans{{0, 1}, {1, 2}, {2, 3}, {3, 7}, {7, 8}, {8, 9}}));
  // Spaces before the first character with a script are dropped, as tokenizers does.
  EXPECT_EQ(pieces(pre, "  abc"), (Spans{{2, 5}}));
  EXPECT_TRUE(pieces(pre, "   ").empty());
}

// Each component follows the Unicode version of the crate tokenizers takes it from.
TEST(TokenizerUnicodeVersions, RegexClassesAreOnigurumasUnicode16) {
  // U+1CCF5, U+1CCF6: OUTLINED DIGIT FIVE, SIX (Nd since Unicode 16; PCRE2 has 14).
  EXPECT_EQ(pieces(split("\\p{N}+"), "x\U0001CCF5\U0001CCF6y"), (Spans{{0, 1}, {1, 3}, {3, 4}}));
  // Oniguruma's \w counts ² but not U+200C (ZWNJ); the regex crate's (Whitespace) the reverse.
  EXPECT_EQ(pieces(split("\\w+"), "a²b\u200Cc"), (Spans{{0, 3}, {3, 4}, {4, 5}}));
  EXPECT_EQ(pieces({{"type", "Whitespace"}}, "a²b\u200Cc"), (Spans{{0, 1}, {1, 2}, {2, 5}}));
  // POSIX brackets: [:punct:] is P | S, [:alpha:] Alphabetic (U+0345 is an Mn).
  EXPECT_EQ(pieces(split("[[:punct:]]+"), "a$€!b"), (Spans{{0, 1}, {1, 4}, {4, 5}}));
  EXPECT_EQ(pieces(split("[[:alpha:]]+"), "aͅb1"), (Spans{{0, 3}, {3, 4}}));
  // \p{Han} is the Script property: 々 is Han, 、 is Common (Han only by Script_Extensions).
  EXPECT_EQ(pieces(split("\\p{Han}+"), "a\u3005\u3001漢b"), (Spans{{0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 5}}));
}

TEST(TokenizerUnicodeVersions, StdCharMethodsAreUnicode17AndCategoriesUnicode8) {
  // U+11DE0: a Unicode 17 digit, numeric for Rust's std.
  EXPECT_EQ(pieces({{"type", "Digits"}, {"individual_digits", true}}, "a\U00011DE0b"), (Spans{{0, 1}, {1, 2}, {2, 3}}));
  // Unicode 17 lowercase (U+A7CE -> U+A7CF), İ -> i̇, no final sigma: 4 code points.
  const json lower = {{"type", "Lowercase"}};
  const auto tok = tessera::Tokenizer::from_json(
      json({{"normalizer", lower},
            {"pre_tokenizer", split(".")},
            {"model", {{"type", "WordLevel"}, {"vocab", {{"[UNK]", 0}, {"\uA7CF", 1}, {"i", 2}, {"\u0307", 3}, {"σ", 4}}}, {"unk_token", "[UNK]"}}}})
          .dump(),
      "lower.json");
  EXPECT_EQ(tok.encode("\uA7CEİΣ", false).ids, (std::vector<int32_t>{1, 2, 3, 4}));
  // BertNormalizer's strip_accents drops Mn of Unicode 8: U+1885 was Lo then (Mn since 9).
  const json bert = {{"type", "BertNormalizer"}, {"clean_text", true}, {"handle_chinese_chars", false},
                     {"strip_accents", true}, {"lowercase", false}};
  EXPECT_EQ(pieces(split("."), "a\u1885\u0301b", bert).size(), 3u);
}

TEST(TokenizerUnicodeVersions, UnknownRegexPropertyNamesTheRegex) {
  try {
    pieces(split("\\p{NoSuchProperty}"), "x");
    FAIL() << "expected tessera::Error";
  } catch (const tessera::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("NoSuchProperty"), std::string::npos) << what;
    EXPECT_NE(what.find("cannot compile"), std::string::npos) << what;
  }
}

}  // namespace
