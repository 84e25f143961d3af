// Tokenizers rebuilt from GGUF tokenizer metadata (tessera::tokenizer_from_gguf_metadata)
// against independent references, on tests/data/gguf/corpus.json (the hostile tokenizer
// corpus plus chat, code and Unicode strings):
//  - pycode-6m: the metadata of the real pycode-6m-f32.gguf (read by llama.cpp's gguf-py) must
//    give the ids of the same model's tokenizer.json (itself checked against Hugging Face);
//  - llama3-style / qwen2-style: real cl100k merges in Llama 3's and Qwen2's pipelines, turned
//    into GGUF metadata as convert_hf_to_gguf.py does, against Hugging Face tokenizers' ids;
//  - spm-llama: a SentencePiece BPE model with byte fallback ("llama" GGUF), against
//    SentencePiece's own ids.
// tools/gguf/make_tokenizer_test_data.sh regenerates the data. Then bad metadata: every
// error names the key.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tessera/core/error.hpp"
#include "tessera/text/gguf_tokenizer.hpp"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const fs::path kDir = fs::path(TESSERA_TEST_DATA) / "gguf";

json load(const fs::path& p) {
  std::ifstream f(p);
  if (!f) throw std::runtime_error("cannot open " + p.string());
  return json::parse(f);
}

std::string read_text(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

const std::vector<std::string>& corpus() {
  static const std::vector<std::string> c = load(kDir / "corpus.json").get<std::vector<std::string>>();
  return c;
}

TEST(GgufTokenizer, PycodeMatchesItsTokenizerJson) {
  const json meta = load(kDir / "pycode-6m-tokenizer-meta.json");
  ASSERT_EQ(meta["tokenizer.ggml.model"], "gpt2");
  ASSERT_EQ(meta["tokenizer.ggml.pre"], "gpt-2");
  const auto gguf = tessera::tokenizer_from_gguf_metadata(meta, "pycode-6m-f32.gguf");
  const auto hf = tessera::Tokenizer::from_file(std::string(TESSERA_MODELS_DIR) + "/pycode-6m");
  EXPECT_EQ(gguf.vocab_size(), hf.vocab_size());
  EXPECT_EQ(gguf.bos_id(), hf.bos_id());
  EXPECT_EQ(gguf.eos_id(), hf.eos_id());
  std::vector<std::string> texts = corpus();
  // Python source, the model's own domain: the generators of this data.
  for (const char* f : {"dump_tokenizer_meta.py", "hf_to_gguf_tokenizer_meta.py", "make_test_vocabs.py"})
    texts.push_back(read_text(fs::path(TESSERA_TEST_DATA) / ".." / ".." / "tools" / "gguf" / f));
  ASSERT_GT(texts.back().size(), 1000u);
  size_t tokens = 0;
  for (const std::string& text : texts) {
    const auto want = hf.encode(text, true).ids;
    const auto got = gguf.encode(text, true).ids;
    ASSERT_EQ(got, want) << json(text).dump();
    EXPECT_EQ(gguf.decode(got), text) << json(text).dump();
    tokens += got.size();
  }
  EXPECT_GT(tokens, 20000u);
}

// Checks a tokenizer rebuilt from DIR/gguf-meta.json against DIR/reference.json.
void check_against_reference(const std::string& name, std::optional<int32_t> want_bos) {
  const fs::path dir = kDir / name;
  const json meta = load(dir / "gguf-meta.json");
  const json ref = load(dir / "reference.json");
  const auto tok = tessera::tokenizer_from_gguf_metadata(meta, name + ".gguf");
  const auto& texts = corpus();
  const json& plain = ref["ids_no_special"];
  ASSERT_EQ(plain.size(), texts.size());
  size_t checked = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    if (plain[i].is_null()) continue;
    const auto want = plain[i].get<std::vector<int32_t>>();
    ASSERT_EQ(tok.encode(texts[i], false).ids, want) << i << ": " << json(texts[i]).dump();
    const std::string key = std::to_string(i);
    const std::string decoded = ref["decoded"].contains(key) ? ref["decoded"][key].get<std::string>() : texts[i];
    EXPECT_EQ(tok.decode(want), decoded) << i << ": " << json(texts[i]).dump();
    // With special tokens: Hugging Face's own ids where stored, else BOS (if any) then the rest.
    std::vector<int32_t> with = want;
    if (ref.contains("ids") && i < ref["ids"].size()) {
      with = ref["ids"][i].get<std::vector<int32_t>>();
    } else if (want_bos) {
      with.insert(with.begin(), *want_bos);
    }
    EXPECT_EQ(tok.encode(texts[i], true).ids, with) << i << ": " << json(texts[i]).dump();
    ++checked;
  }
  EXPECT_GT(checked, texts.size() * 9 / 10);
  EXPECT_EQ(tok.bos_id(), want_bos);
  ASSERT_TRUE(tok.chat_template().has_value());
  EXPECT_EQ(*tok.chat_template(), meta["tokenizer.chat_template"].get<std::string>());
}

TEST(GgufTokenizer, Llama3MatchesHuggingFace) {
  check_against_reference("llama3-style", 3001);
  // The tokenizer.json the metadata came from agrees with the same reference.
  const auto hf = tessera::Tokenizer::from_file((kDir / "llama3-style").string());
  const json ref = load(kDir / "llama3-style" / "reference.json");
  for (size_t i = 0; i < ref["ids"].size(); ++i)
    EXPECT_EQ(hf.encode(corpus()[i], true).ids, ref["ids"][i].get<std::vector<int32_t>>()) << i;
  const auto tok = tessera::tokenizer_from_gguf_metadata(load(kDir / "llama3-style" / "gguf-meta.json"), "x.gguf");
  EXPECT_EQ(tok.eos_id(), 3002);
  EXPECT_EQ(tok.id_to_token(3000), "[PAD3000]");  // the hole in the ids, UNUSED in GGUF
}

TEST(GgufTokenizer, Qwen2MatchesHuggingFace) {
  check_against_reference("qwen2-style", std::nullopt);
  const auto tok = tessera::tokenizer_from_gguf_metadata(load(kDir / "qwen2-style" / "gguf-meta.json"), "x.gguf");
  EXPECT_EQ(tok.eos_id(), 3002);
  EXPECT_EQ(tok.pad_id(), 3000);
  // NFC as Qwen2's tokenizer.json: e + combining acute encodes as é.
  EXPECT_EQ(tok.encode("caf\x65\xcc\x81", false).ids, tok.encode("caf\xc3\xa9", false).ids);
}

TEST(GgufTokenizer, SentencePieceMatchesSentencePiece) {
  check_against_reference("spm-llama", 1);
  const auto tok = tessera::tokenizer_from_gguf_metadata(load(kDir / "spm-llama" / "gguf-meta.json"), "x.gguf");
  EXPECT_EQ(tok.eos_id(), 2);
  // Control tokens written in the text are matched (as llama.cpp does with parse_special).
  const auto ids = tok.encode("<s>a</s>", false).ids;
  EXPECT_EQ(ids.front(), 1);
  EXPECT_EQ(ids.back(), 2);
  // Without add_space_prefix no "▁" is prepended.
  json meta = load(kDir / "spm-llama" / "gguf-meta.json");
  meta["tokenizer.ggml.add_space_prefix"] = false;
  const auto bare = tessera::tokenizer_from_gguf_metadata(meta, "x.gguf");
  EXPECT_NE(bare.encode("hello", false).ids, tok.encode("hello", false).ids);
  EXPECT_EQ(bare.encode(" hello", false).ids, tok.encode("hello", false).ids);  // both "▁hello"
  EXPECT_EQ(bare.decode(bare.encode(" hello", false).ids), " hello");
  EXPECT_EQ(tok.decode(tok.encode("hello", false).ids), "hello");
}

// "default" (llama.cpp's fallback): its four regexes in turn. "Hello, world 12345!" splits into
// "Hello" "," " world" " " "123" "45" "!" (punctuation runs, then GPT-2-like words, then digit
// runs, then groups of three digits), where gpt-2 gives "Hello" "," " world" " 12345" "!".
TEST(GgufTokenizer, DefaultPreTokenizerSplitsAsLlamaCpp) {
  json meta = load(kDir / "pycode-6m-tokenizer-meta.json");
  const auto gpt2 = tessera::tokenizer_from_gguf_metadata(meta, "pycode.gguf");
  meta["tokenizer.ggml.pre"] = "default";
  const auto def = tessera::tokenizer_from_gguf_metadata(meta, "pycode.gguf");
  std::vector<int32_t> want;
  for (const char* piece : {"Hello", ",", " world", " ", "123", "45", "!"})
    for (int32_t id : gpt2.encode(piece, false).ids) want.push_back(id);
  EXPECT_EQ(def.encode("Hello, world 12345!", false).ids, want);
  EXPECT_NE(gpt2.encode("Hello, world 12345!", false).ids, want);
  meta.erase("tokenizer.ggml.pre");  // absent means default, as in llama.cpp
  EXPECT_EQ(tessera::tokenizer_from_gguf_metadata(meta, "pycode.gguf").encode("Hello, world 12345!", false).ids, want);
}

TEST(GgufTokenizer, AddBosAndEosFromMetadata) {
  json meta = load(kDir / "pycode-6m-tokenizer-meta.json");
  meta["tokenizer.ggml.add_bos_token"] = true;
  meta["tokenizer.ggml.add_eos_token"] = true;
  const auto tok = tessera::tokenizer_from_gguf_metadata(meta, "pycode.gguf");
  const auto ids = tok.encode("x = 1", true).ids;
  ASSERT_GE(ids.size(), 3u);
  EXPECT_EQ(ids.front(), 0);
  EXPECT_EQ(ids.back(), 0);
  EXPECT_EQ(tok.encode("x = 1", false).ids, std::vector<int32_t>(ids.begin() + 1, ids.end() - 1));
}

void expect_error(const json& meta, std::initializer_list<const char*> parts) {
  try {
    (void)tessera::tokenizer_from_gguf_metadata(meta, "bad.gguf");
    ADD_FAILURE() << "no error; expected one naming " << *parts.begin();
  } catch (const tessera::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("bad.gguf"), std::string::npos) << msg;
    for (const char* p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "missing '" << p << "' in: " << msg;
  }
}

TEST(GgufTokenizer, HostileMetadataNamesTheKey) {
  const json bpe = load(kDir / "pycode-6m-tokenizer-meta.json");
  const json spm = load(kDir / "spm-llama" / "gguf-meta.json");
  json m;

  m = bpe;
  m.erase("tokenizer.ggml.tokens");
  expect_error(m, {"tokenizer.ggml.tokens", "missing"});
  m = bpe;
  m["tokenizer.ggml.tokens"] = "abc";
  expect_error(m, {"tokenizer.ggml.tokens", "array"});
  m = bpe;
  m["tokenizer.ggml.tokens"][5] = 7;
  expect_error(m, {"tokenizer.ggml.tokens", "[5]"});
  m = bpe;
  m["tokenizer.ggml.tokens"][6] = m["tokenizer.ggml.tokens"][5];
  expect_error(m, {"tokenizer.ggml.tokens", "twice"});

  m = spm;
  m["tokenizer.ggml.scores"].erase(m["tokenizer.ggml.scores"].size() - 1);
  expect_error(m, {"tokenizer.ggml.scores", "2999", "3000"});
  m = spm;
  m.erase("tokenizer.ggml.scores");
  expect_error(m, {"tokenizer.ggml.scores", "missing"});
  m = bpe;
  m["tokenizer.ggml.token_type"].push_back(1);
  expect_error(m, {"tokenizer.ggml.token_type", "4097"});
  m = bpe;
  m["tokenizer.ggml.token_type"][10] = 7;
  expect_error(m, {"tokenizer.ggml.token_type", "[10]", "7"});
  m = bpe;
  m["tokenizer.ggml.token_type"][10] = -1;
  expect_error(m, {"tokenizer.ggml.token_type", "[10]"});

  m = bpe;
  m["tokenizer.ggml.merges"][3] = "Ġ nosuchtoken";
  expect_error(m, {"tokenizer.ggml.merges", "[3]", "nosuchtoken"});
  m = bpe;
  m["tokenizer.ggml.merges"][3] = "q z";  // both known, "qz" not in the vocabulary
  expect_error(m, {"tokenizer.ggml.merges", "[3]", "\"qz\""});
  m = bpe;
  m["tokenizer.ggml.merges"][3] = "nospace";
  expect_error(m, {"tokenizer.ggml.merges", "[3]"});
  m = bpe;
  m.erase("tokenizer.ggml.merges");
  expect_error(m, {"tokenizer.ggml.merges", "missing"});

  m = bpe;
  m["tokenizer.ggml.bos_token_id"] = 4096;
  expect_error(m, {"tokenizer.ggml.bos_token_id", "4096"});
  m = bpe;
  m["tokenizer.ggml.eos_token_id"] = -1;
  expect_error(m, {"tokenizer.ggml.eos_token_id"});
  m = spm;
  m["tokenizer.ggml.padding_token_id"] = "1";
  expect_error(m, {"tokenizer.ggml.padding_token_id"});
  m = bpe;
  m["tokenizer.ggml.add_bos_token"] = 1;
  expect_error(m, {"tokenizer.ggml.add_bos_token"});

  m = bpe;
  m["tokenizer.ggml.model"] = "bert";
  expect_error(m, {"tokenizer.ggml.model", "bert", "gpt2", "llama"});
  m = bpe;
  m.erase("tokenizer.ggml.model");
  expect_error(m, {"tokenizer.ggml.model", "missing"});
  m = bpe;
  m["tokenizer.ggml.pre"] = "tekken";
  expect_error(m, {"tokenizer.ggml.pre", "tekken", "llama-bpe", "qwen2"});
  m = spm;
  m["tokenizer.ggml.remove_extra_whitespaces"] = true;
  expect_error(m, {"tokenizer.ggml.remove_extra_whitespaces"});
  expect_error(json::array(), {"object"});
}

}  // namespace
