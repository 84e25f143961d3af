// tessera_tokenizer_bench: encode throughput (MB/s of UTF-8 input) of a tokenizer on a text
// file, one line per input, single-threaded encode() and threaded encode_batch().
// Usage: tessera_tokenizer_bench TOKENIZER_DIR_OR_JSON TEXT_FILE [SECONDS]
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "tessera/core/parallel.hpp"
#include "tessera/text/tokenizer.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s TOKENIZER TEXT_FILE [SECONDS]\n", argv[0]);
    return 2;
  }
  const double seconds = argc > 3 ? std::stod(argv[3]) : 3.0;
  const auto tok = tessera::Tokenizer::from_file(argv[1]);
  std::ifstream f(argv[2]);
  std::vector<std::string> lines;
  size_t bytes = 0;
  for (std::string line; std::getline(f, line);) {
    bytes += line.size() + 1;
    lines.push_back(line + "\n");
  }
  using clock = std::chrono::steady_clock;
  const auto run = [&](auto&& body) {
    size_t rounds = 0, tokens = 0;
    const auto t0 = clock::now();
    double elapsed = 0;
    do {
      tokens += body();
      ++rounds;
      elapsed = std::chrono::duration<double>(clock::now() - t0).count();
    } while (elapsed < seconds);
    return std::make_pair(static_cast<double>(bytes) * static_cast<double>(rounds) / elapsed / 1e6,
                          static_cast<double>(tokens) / elapsed / 1e6);
  };
  const auto [mb1, mt1] = run([&] {
    size_t n = 0;
    for (const auto& l : lines) n += tok.encode(l, false).size();
    return n;
  });
  const auto [mbn, mtn] = run([&] {
    size_t n = 0;
    for (const auto& e : tok.encode_batch(lines, false)) n += e.size();
    return n;
  });
  std::printf("%s: %.2f MB of text, %zu lines\n", argv[1], static_cast<double>(bytes) / 1e6, lines.size());
  std::printf("  encode, 1 thread:           %8.2f MB/s  %6.2f M tokens/s\n", mb1, mt1);
  std::printf("  encode_batch, %2d threads:   %8.2f MB/s  %6.2f M tokens/s\n", tessera::num_threads(), mbn, mtn);
  return 0;
}
