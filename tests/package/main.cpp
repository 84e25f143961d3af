// Loads a model through the installed headers and library and generates a few tokens.
#include <tessera/tessera.hpp>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: app MODEL_DIR\n");
    return 2;
  }
  try {
    auto model = tessera::load(argv[1]);
    auto tokenizer = tessera::Tokenizer::from_file(argv[1]);
    auto session = model->new_session();
    tessera::GenerationOptions options;
    options.max_new_tokens = 8;
    auto prompt = tokenizer.encode("def add(a, b):", false).ids;
    auto result = tessera::generate(*model, *session, prompt, options);
    std::printf("%s\n", tokenizer.decode(result.tokens).c_str());
    return result.tokens.empty() ? 1 : 0;
  } catch (const tessera::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
