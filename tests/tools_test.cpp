// The tessera-* tools as a user runs them: option order, exit codes, stop strings,
// --temperature 0, a full context, tokenize --decode on bad ids, TESSERA_THREADS, the
// loading line on a terminal, tessera-bench's sizes and labels. Expected text comes from
// Hugging Face (pycode-6m's meta.json greedy continuation, tokenizer_reference.json).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fixture_util.hpp"
#include "tessera/io/json.hpp"
#include "tessera/io/mmap.hpp"

using tessera::testing::bin;
using tessera::testing::data_dir;

namespace {

namespace fs = std::filesystem;

const std::string kModel = std::string(TESSERA_MODELS_DIR) + "/pycode-6m";
const std::string kPrompt = "def fibonacci(n):\n";

struct ToolRun {
  int rc = -1;
  std::string out, err;
};

// Runs `command` under /bin/sh with `input` on stdin; exit code, stdout and stderr apart.
ToolRun run(const std::string& command, const std::string& input = "") {
  const std::string dir = ::testing::TempDir() + "/tools_test_" + std::to_string(::getpid());
  fs::create_directories(dir);
  std::ofstream(dir + "/in") << input;
  const int status = std::system(("(" + command + ") < " + dir + "/in > " + dir + "/out 2> " + dir + "/err").c_str());
  ToolRun r;
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = tessera::read_text_file(dir + "/out");
  r.err = tessera::read_text_file(dir + "/err");
  return r;
}

std::string hf_continuation() {
  const auto g = tessera::load_json_file(kModel + "/meta.json").at("generation");
  EXPECT_EQ(g.at("prompt").get<std::string>(), kPrompt);
  EXPECT_EQ(g.at("max_new_tokens").get<int>(), 64);
  return g.at("continuation").get<std::string>();
}

// The shell text of tessera-generate on pycode-6m's reference prompt; `before` goes ahead of
// MODEL, `after` behind it.
std::string generate_cmd(const std::string& before, const std::string& after, const std::string& model = kModel) {
  return bin("generate") + " " + before + " " + model + " -p '" + kPrompt + "' --no-stats " + after;
}

nlohmann::json bench_json(const std::string& args) {
  ToolRun r = run(bin("bench") + " " + args + " -r 1 --json");
  EXPECT_EQ(r.rc, 0) << args << "\n" << r.err;
  return r.rc == 0 ? nlohmann::json::parse(r.out) : nlohmann::json::array();
}

}  // namespace

TEST(ToolsGenerate, TemperatureZeroIsHuggingFaceGreedy) {
  const std::string want = kPrompt + hf_continuation() + "\n";
  // Sampling options beside it change nothing: temperature 0 is the argmax.
  for (const std::string opts : {"--temperature 0", "--temperature 0 --top-k 5 --seed 7"}) {
    ToolRun r = run(generate_cmd("", "-n 64 --ignore-eos " + opts));
    EXPECT_EQ(r.rc, 0) << r.err;
    EXPECT_EQ(r.out, want) << opts;
  }
  ToolRun neg = run(generate_cmd("", "-n 4 --temperature -1"));
  EXPECT_EQ(neg.rc, 2) << neg.err;
  EXPECT_NE(neg.err.find("--temperature: expected a number >= 0 (0: greedy), found -1"), std::string::npos) << neg.err;
}

TEST(ToolsGenerate, StopStringsBeforeTheModelAreLeftOutOfTheOutput) {
  const std::string hf = hf_continuation();
  const size_t at = hf.find("\"\"\"");
  ASSERT_NE(at, std::string::npos) << hf;
  // Two --stop flags ahead of MODEL: each takes one value, MODEL stays the model.
  ToolRun r = run(generate_cmd("--stop 'no such text' --stop '\"\"\"'", "-n 64 --temperature 0 --ignore-eos"));
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, kPrompt + hf.substr(0, at) + "\n");
  // After the model too.
  ToolRun after = run(generate_cmd("", "-n 64 --temperature 0 --ignore-eos --stop '\"\"\"'"));
  EXPECT_EQ(after.out, r.out) << after.err;
}

TEST(ToolsGenerate, FullContextSaysSoOnStderr) {
  // pycode-6m with room for 16 positions: the prompt takes some, generation stops early.
  const std::string dir = ::testing::TempDir() + "/pycode_ctx16";
  fs::create_directories(dir);
  auto cfg = tessera::load_json_file(kModel + "/config.json");
  cfg["max_position_embeddings"] = 16;
  std::ofstream(dir + "/config.json") << cfg.dump();
  for (const char* f : {"model.safetensors", "tokenizer.json", "tokenizer_config.json", "generation_config.json"}) {
    fs::remove(dir + "/" + f);
    fs::create_symlink(fs::absolute(kModel + "/" + f), dir + "/" + f);
  }
  ToolRun full = run(generate_cmd("", "-n 64 --temperature 0 --ignore-eos", dir));
  EXPECT_EQ(full.rc, 0) << full.err;
  EXPECT_NE(full.err.find("the context is full (16 positions"), std::string::npos) << full.err;
  // What it did print is Hugging Face's continuation, cut short.
  const std::string whole = kPrompt + hf_continuation();
  ASSERT_GT(full.out.size(), kPrompt.size() + 1);
  EXPECT_LT(full.out.size(), whole.size());
  EXPECT_EQ(full.out, whole.substr(0, full.out.size() - 1) + "\n");

  ToolRun room = run(generate_cmd("", "-n 2 --temperature 0 --ignore-eos", dir));
  EXPECT_EQ(room.rc, 0) << room.err;
  EXPECT_EQ(room.err.find("context"), std::string::npos) << room.err;
}

TEST(ToolsTokenize, DecodeGivesHuggingFaceText) {
  const auto c = tessera::load_json_file(kModel + "/tokenizer_reference.json").at("cases").at(0);
  std::string line;
  for (int64_t id : c.at("ids")) line += std::to_string(id) + " ";
  ToolRun r = run(bin("tokenize") + " " + kModel + " --decode", line + "\n");
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, c.at("decoded").get<std::string>() + "\n");
}

TEST(ToolsTokenize, DecodeRefusesIdsOutsideTheVocabularyAndNonNumbers) {
  struct Case {
    std::string input, message;
  };
  // pycode-6m's vocabulary has 4096 ids (meta.json: vocab_size).
  for (const Case& c : std::vector<Case>{{"1 2 4096\n", "token id 4096 is outside the vocabulary [0, 4096)"},
                                         {"-1\n", "token id -1 is outside the vocabulary [0, 4096)"},
                                         {"99999999999999999999\n", "token id 99999999999999999999 is outside"},
                                         {"1 x 2\n", "'x' is not a token id"},
                                         {"12abc\n", "'12abc' is not a token id"},
                                         {"3.5\n", "'3.5' is not a token id"}}) {
    ToolRun r = run(bin("tokenize") + " " + kModel + " --decode", c.input);
    EXPECT_EQ(r.rc, 1) << c.input;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.input << " -> " << r.err;
    EXPECT_NE(r.err.find("line 1"), std::string::npos) << r.err;
  }
  for (const Case& c : std::vector<Case>{{"[[1, 4096]]", "[0]: token id 4096 is outside the vocabulary [0, 4096)"},
                                         {"[[1], [1.5]]", "[1]: 1.5 is not a token id"},
                                         {"[[\"7\"]]", "[0]: \"7\" is not a token id"},
                                         {"[3]", "[0]: expected an array of token ids"}}) {
    ToolRun r = run(bin("tokenize") + " " + kModel + " --decode --json", c.input);
    EXPECT_EQ(r.rc, 1) << c.input;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.input << " -> " << r.err;
  }
}

TEST(ToolsThreads, BadTesseraThreadsIsAnErrorNamingIt) {
  for (const std::string v : {"abc", "0", "-2", "4x", "1.5", "99999999999", "1025"}) {
    ToolRun r = run("TESSERA_THREADS='" + v + "' " + generate_cmd("", "-n 1"));
    EXPECT_EQ(r.rc, 1) << v;
    EXPECT_NE(r.err.find("TESSERA_THREADS is '" + v + "'"), std::string::npos) << v << ": " << r.err;
  }
  for (const std::string v : {"1", "2", ""}) {
    ToolRun r = run("TESSERA_THREADS='" + v + "' " + generate_cmd("", "-n 1"));
    EXPECT_EQ(r.rc, 0) << v << ": " << r.err;
  }
}

TEST(ToolsLoading, ProgressLineOnlyOnATerminal) {
  if (std::system("command -v script > /dev/null 2>&1") != 0) GTEST_SKIP() << "no script(1) to give the tool a terminal";
  // script(1) runs the tool on a pseudo-terminal; its transcript is what the terminal showed.
  const std::string log = ::testing::TempDir() + "/tools_test_tty.log";
  ToolRun tty = run("script -qec \"" + generate_cmd("", "-n 1") + "\" " + log);
  EXPECT_EQ(tty.rc, 0) << tty.out << tty.err;
  const std::string shown = tessera::read_text_file(log);
  const uintmax_t mb = (fs::file_size(kModel + "/model.safetensors") + 999'999) / 1'000'000;
  EXPECT_NE(shown.find("loading " + kModel + " (" + std::to_string(mb) + " MB)... loaded in "), std::string::npos) << shown;

  ToolRun pipe = run(generate_cmd("", "-n 1"));
  EXPECT_EQ(pipe.rc, 0) << pipe.err;
  EXPECT_EQ(pipe.err.find("loading"), std::string::npos) << pipe.err;
}

TEST(ToolsExitCodes, HelpUsageAndErrorsAreZeroTwoAndOne) {
  const std::string missing = ::testing::TempDir() + "/no_such_model";
  // tool, arguments that fail at run time (exit 1)
  const std::vector<std::pair<std::string, std::string>> tools = {
      {"bench", missing},
      {"classify", missing + " x.png"},
      {"embed", missing},
      {"forward", missing + " in.safetensors out.safetensors"},
      {"generate", missing},
      {"inspect", missing},
      {"quantize", missing + " out.gguf q8_0"},
      {"tokenize", missing},
      {"translate", missing + " --text hi"},
  };
  for (const auto& [tool, failing] : tools) {
    ToolRun help = run(bin(tool) + " --help");
    EXPECT_EQ(help.rc, 0) << tool;
    EXPECT_NE(help.out.find("Exit status: 0 success, 1 error"), std::string::npos) << tool << ": " << help.out;
    EXPECT_EQ(run(bin(tool) + " --no-such-option " + failing).rc, 2) << tool;
    EXPECT_EQ(run(bin(tool)).rc, 2) << tool << " without arguments";
    ToolRun err = run(bin(tool) + " " + failing);
    EXPECT_EQ(err.rc, 1) << tool << ": " << err.err;
    EXPECT_NE(err.err.find(missing), std::string::npos) << tool << ": " << err.err;
  }
}

TEST(ToolsBench, PromptAndGenerationSizedByTheirOwnOptions) {
  // The GPT-2 fixture has 64 learned positions: pp64 and tg64 each fit exactly.
  const std::string gpt2 = data_dir() + "/hf/gpt2";
  auto j = bench_json(gpt2 + " -p 64 -n 64 -t 1");
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["test"], "pp64");
  EXPECT_EQ(j[0]["n_tokens"], 64);
  EXPECT_EQ(j[1]["test"], "tg64");
  EXPECT_EQ(j[1]["n_tokens"], 64);
  // Below the encoder's --seq default (128): 16 tokens, labelled pp16; no tg test.
  j = bench_json("-t 1 " + gpt2 + " -p 16 -n 0");
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["test"], "pp16");
  EXPECT_EQ(j[0]["n_tokens"], 16);
  EXPECT_EQ(j[0]["threads"], 1);
}

TEST(ToolsBench, ThreadsBeforeTheModelTakeOneValueEach) {
  auto j = bench_json("-t 1 -t 2 " + kModel + " -p 4 -n 0");
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["threads"], 1);
  EXPECT_EQ(j[1]["threads"], 2);
  EXPECT_EQ(j[0]["model"], kModel);
  j = bench_json("-t 1,2 " + kModel + " -p 4 -n 0");
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[1]["threads"], 2);
}

TEST(ToolsBench, JsonNamesTheWeightDtype) {
  // pycode-6m's config.json says "dtype": "bfloat16" and every tensor is BF16 (meta.json).
  auto j = bench_json(kModel + " -p 4 -n 0");
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["weight_dtype"], "BF16");
  j = bench_json(kModel + " --quantize q8_0 -p 4 -n 0");
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["weight_dtype"], "Q8_0 (quantized at load from BF16)");
  // Random weights: matrices in the spec's dtype, norms in F32.
  j = bench_json("--random llama:hidden=64,layers=1,heads=2,ffn=128,vocab=100,dtype=f16 -p 4 -n 0");
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["weight_dtype"], "F16+F32");
}
