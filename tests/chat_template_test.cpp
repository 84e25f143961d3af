// Chat templates against Python's jinja2 (Debian python3-jinja2 with transformers' settings):
// the real templates of tests/data/chat_templates on several conversations, small engine
// templates, hostile templates, and the tokenizer-level helper.
#include <gtest/gtest.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tessera/core/error.hpp"
#include "tessera/io/json.hpp"
#include "tessera/text/chat_template.hpp"
#include "tessera/text/tokenizer.hpp"

using namespace tessera;
using ojson = nlohmann::ordered_json;

namespace {

const std::string kDir = std::string(TESSERA_TEST_DATA) + "/chat_templates/";

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  EXPECT_TRUE(f.good()) << path;
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

const ojson& expected() {
  static const ojson j = parse_ordered_json(read_file(kDir + "expected.json"), "expected.json", 256);
  return j;
}

// The message jinja2 gave a TemplateError (raise_exception), which ours must quote verbatim.
std::string raised_message(const std::string& error) {
  const std::string prefix = "TemplateError: ";
  return error.rfind(prefix, 0) == 0 ? error.substr(prefix.size()) : "";
}

}  // namespace

TEST(ChatTemplate, RealTemplatesMatchJinja2) {
  const ojson& templates = expected().at("templates");
  ASSERT_GE(templates.size(), 13u);
  size_t cases = 0;
  for (auto it = templates.begin(); it != templates.end(); ++it) {
    const std::string source = read_file(kDir + it.key() + ".jinja");
    const ChatTemplate tpl(source, it.key() + ".jinja");
    for (const ojson& row : it.value()) {
      SCOPED_TRACE(it.key() + " / " + row.at("case").get<std::string>());
      const ojson ctx = chat_template_context(row.at("messages"), row.at("add_generation_prompt").get<bool>(), row.at("extra"));
      ++cases;
      if (row.contains("output")) {
        EXPECT_EQ(tpl.render(ctx), row.at("output").get<std::string>());
      } else {
        const std::string message = raised_message(row.at("error").get<std::string>());
        ASSERT_FALSE(message.empty()) << "jinja2 failed without raise_exception: " << row.at("error");
        try {
          tpl.render(ctx);
          ADD_FAILURE() << "rendered, but jinja2 raised: " << message;
        } catch (const Error& e) {
          EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
          EXPECT_NE(std::string(e.what()).find(it.key() + ".jinja"), std::string::npos) << e.what();
        }
      }
    }
  }
  EXPECT_GE(cases, 60u);
}

TEST(ChatTemplate, EngineMatchesJinja2) {
  for (const ojson& row : expected().at("engine")) {
    const std::string source = row.at("template").get<std::string>();
    SCOPED_TRACE(source);
    if (row.contains("output")) {
      try {
        EXPECT_EQ(ChatTemplate(source, "engine").render(row.at("context")), row.at("output").get<std::string>());
      } catch (const Error& e) {
        ADD_FAILURE() << "threw " << e.what();
      }
    } else {
      EXPECT_THROW(ChatTemplate(source, "engine").render(row.at("context")), Error) << "jinja2: " << row.at("error");
    }
  }
}

TEST(ChatTemplate, SyntaxErrorsNameLineAndColumn) {
  try {
    ChatTemplate("line one\n{% if x %}\n  {{ 1 + }}\n{% endif %}", "t.jinja");
    FAIL() << "parsed";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("t.jinja:3:"), std::string::npos) << e.what();
  }
  try {
    ChatTemplate("{% for x in y %}\nno end", "t.jinja");
    FAIL() << "parsed";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("endfor"), std::string::npos) << e.what();
  }
}

TEST(ChatTemplate, StrftimeNowIsLocalTime) {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char year[16];
  std::strftime(year, sizeof year, "%Y", &tm);
  EXPECT_EQ(ChatTemplate("{{ strftime_now('%Y') }}").render(ojson::object()), year);
}

TEST(ChatTemplate, RenderFromJsonText) {
  EXPECT_EQ(render_chat_template("{% for m in messages %}{{ m.role }}={{ m.content }};{% endfor %}{{ add_generation_prompt }}"
                                 "{{ tools }}{{ x }}",
                                 R"([{"role": "user", "content": "hi"}])", true, R"({"x": 7})"),
            "user=hi;TrueNone7");
  EXPECT_THROW(render_chat_template("{{ 1 }}", "{\"not\": \"a list\"}", false), Error);
  EXPECT_THROW(render_chat_template("{{ 1 }}", "[", false), Error);
  EXPECT_THROW(render_chat_template("{{ 1 }}", "[]", false, "[1]"), Error);
}

TEST(ChatTemplate, TokenizerTemplateAndSpecialTokens) {
  // tokenizer_config.json: bos_token null, eos "<|im_end|>", the ChatML-style template.
  const Tokenizer qwen = Tokenizer::from_file(std::string(TESSERA_TEST_DATA) + "/gguf/qwen2-style");
  EXPECT_EQ(apply_chat_template(qwen, R"([{"role": "system", "content": "S"}, {"role": "user", "content": "U"}])", true),
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n");
  const Tokenizer llama = Tokenizer::from_file(std::string(TESSERA_TEST_DATA) + "/gguf/llama3-style");
  EXPECT_EQ(apply_chat_template(llama, R"([{"role": "user", "content": "U"}])", false),
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nU<|eot_id|>");
  // extra context wins over the tokenizer's tokens
  EXPECT_EQ(apply_chat_template(llama, R"([])", false, R"({"bos_token": "B"})"), "B");
}

TEST(ChatTemplate, WhereTheTokenizerFindsItsTemplate) {
  const std::string src = std::string(TESSERA_TEST_DATA) + "/gguf/qwen2-style";
  const std::string tokenizer_json = read_file(src + "/tokenizer.json");
  // A list of named templates: transformers takes "default".
  const Tokenizer named = Tokenizer::from_json(
      tokenizer_json, "tokenizer.json",
      R"({"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]})");
  ASSERT_TRUE(named.chat_template().has_value());
  EXPECT_EQ(*named.chat_template(), "D");
  // chat_template.jinja next to tokenizer.json wins over tokenizer_config.json.
  const std::string dir = testing::TempDir() + "/tessera_chat_template_dir";
  std::filesystem::remove_all(dir);  // a previous run left chat_template.jinja there
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/tokenizer.json") << tokenizer_json;
  std::ofstream(dir + "/tokenizer_config.json") << R"({"chat_template": "from config"})";
  EXPECT_EQ(*Tokenizer::from_file(dir).chat_template(), "from config");
  std::ofstream(dir + "/chat_template.jinja") << "from file {{ 1 }}";
  EXPECT_EQ(*Tokenizer::from_file(dir).chat_template(), "from file {{ 1 }}");
  EXPECT_EQ(apply_chat_template(Tokenizer::from_file(dir), "[]", false), "from file 1");
}

// Each ends in an Error from a limit (nesting, steps, depth, bytes), not by running out of time:
// a hang would be caught by ctest's TIMEOUT, and no wall-clock bound is asserted (the test
// runs under sanitizers and on loaded machines).
TEST(ChatTemplate, HostileTemplatesEndInErrors) {
  const std::string deep_parens = std::string(100000, '(') + "1" + std::string(100000, ')');
  const std::string deep_lists = "{{ " + std::string(100000, '[') + std::string(100000, ']') + " }}";
  std::string deep_ifs;
  for (int i = 0; i < 5000; ++i) deep_ifs += "{% if true %}";
  const std::string deep_nots = "{{ " + [] { std::string s; for (int i = 0; i < 100000; ++i) s += "not "; return s; }() + "1 }}";
  for (const std::string& src : {"{{ " + deep_parens + " }}", deep_lists, deep_ifs, deep_nots,
                                 std::string("{{ ") + std::string(100000, '-') + "1 }}"}) {
    EXPECT_THROW(ChatTemplate{src}, Error);
  }
  const char* runaway[] = {
      "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",                                         // infinite recursion
      "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",        // 10^10 iterations
      "{{ 'x' * 1000000000 }}",                                                                  // huge string
      "{% set ns = namespace(s='xx') %}{% for i in range(100) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",  // doubling
      "{% for i in range(100000) %}{{ 'y' * 1000 }}{% endfor %}",                                // huge output
      "{{ range(1000000000) }}",
      "{{ [1] * 1000000000 }}",
      "{{ 9223372036854775807 + 1 }}",
      "{{ 2 ** 100 }}",
      "{{ 'ab' | indent(1000000000) }}",
      "{{ 'x'.center(100000000000) }}",
  };
  for (const char* src : runaway) {
    SCOPED_TRACE(src);
    EXPECT_THROW(ChatTemplate(src).render(ojson::object()), Error);
  }
}

TEST(ChatTemplate, LimitsAreConfigurable) {
  ChatTemplateLimits small;
  small.max_output_bytes = 10;
  EXPECT_THROW(ChatTemplate("{{ 'x' * 11 }}", "t", small).render(ojson::object()), Error);
  EXPECT_EQ(ChatTemplate("{{ 'x' * 10 }}", "t", small).render(ojson::object()), "xxxxxxxxxx");
  small.max_call_depth = 3;
  const char* rec = "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(N) }}";
  EXPECT_NO_THROW(ChatTemplate(rec, "t", small).render(ojson{{"N", 2}}));
  EXPECT_THROW(ChatTemplate(rec, "t", small).render(ojson{{"N", 3}}), Error);
}
