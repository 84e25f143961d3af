// tessera-generate --chat: each stdin line is a user turn rendered through the chat template;
// each reply must be exactly what tessera-generate -p gives for the hand-written rendering
// of the conversation so far.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <string>

namespace {

const std::string kGenerate = std::string(TESSERA_BIN_DIR) + "/tessera-generate";
const std::string kModel = std::string(TESSERA_MODELS_DIR) + "/pycode-6m";

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string run(const std::string& cmd, int* status = nullptr) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int rc = pclose(p);
  if (status) *status = rc;
  return out;
}

// What tessera-generate -p PROMPT generates after the echoed prompt (without the final newline).
std::string reply_to(const std::string& prompt) {
  const std::string out = run(kGenerate + " " + kModel + " --greedy -n 8 --no-stats -p " + quote(prompt));
  EXPECT_EQ(out.substr(0, prompt.size()), prompt);
  EXPECT_FALSE(out.empty());
  return out.substr(prompt.size(), out.size() - prompt.size() - 1);
}

}  // namespace

TEST(GenerateChat, TurnsGoThroughTheTemplate) {
  const std::string tpl = testing::TempDir() + "/tessera_chat_template.jinja";
  std::ofstream(tpl) << "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}"
                        "{% if add_generation_prompt %}assistant:{% endif %}";
  int status = -1;
  const std::string out = run("printf 'def add(a, b):\\nimport os\\n' | " + kGenerate + " " + kModel +
                                  " --chat --chat-template " + tpl + " --greedy -n 8 --no-stats",
                              &status);
  ASSERT_EQ(status, 0) << out;
  const std::string p1 = "user: def add(a, b):\nassistant:";
  const std::string r1 = reply_to(p1);
  const std::string p2 = "user: def add(a, b):\nassistant: " + r1 + "\nuser: import os\nassistant:";
  const std::string r2 = reply_to(p2);
  EXPECT_EQ(out, r1 + "\n" + r2 + "\n");
}

TEST(GenerateChat, NoTemplateIsAnError) {
  int status = 0;
  const std::string out = run("echo hi | " + kGenerate + " " + kModel + " --chat 2>&1", &status);
  EXPECT_NE(status, 0);
  EXPECT_NE(out.find("no chat template"), std::string::npos) << out;
}
