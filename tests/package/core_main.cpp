// Links tessera::core alone (no tokenizer, image or audio code, so none of PCRE2, ICU, libpng,
// libjpeg, soxr): loads pycode-6m, continues its reference prompt by token ids greedily, and
// checks the tokens against Hugging Face's greedy continuation stored beside the model.
#include <tessera/generation/generate.hpp>
#include <tessera/io/safetensors.hpp>
#include <tessera/models/load.hpp>

#include <cstdio>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: core_app MODEL_DIR\n");
    return 2;
  }
  try {
    const std::string dir = argv[1];
    const auto reference = tessera::SafetensorsFile::open(dir + "/reference.safetensors");
    const std::vector<int64_t> prompt64 = reference.get("prompt_ids").to_i64();
    const std::vector<int64_t> want = reference.get("generated_ids").to_i64();  // prompt + continuation
    const std::vector<int32_t> prompt(prompt64.begin(), prompt64.end());
    auto model = tessera::load(dir);
    auto session = model->new_session();
    tessera::GenerationOptions options;
    options.max_new_tokens = 16;
    options.min_new_tokens = 16;
    const auto result = tessera::generate(*model, *session, prompt, options);
    const std::vector<int32_t> expected(want.begin() + int64_t(prompt.size()),
                                        want.begin() + int64_t(prompt.size()) + options.max_new_tokens);
    if (result.tokens != expected) {
      std::fprintf(stderr, "core_app: the greedy continuation differs from Hugging Face's\n");
      return 1;
    }
    std::printf("core_app: %zu tokens as Hugging Face\n", result.tokens.size());
    return 0;
  } catch (const tessera::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
