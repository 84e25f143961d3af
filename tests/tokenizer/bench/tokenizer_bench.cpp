// tessera_tokenizer_bench: encode throughput (MB/s of UTF-8 input) of a tokenizer on a corpus
// of documents, single-threaded encode() and encode_batch() at 1 and 2 threads.
// Usage: tessera_tokenizer_bench TOKENIZER_DIR_OR_JSON CORPUS [REPETITIONS [ROWS]]
// ROWS picks rows for profiling: any of "encode", "batch1", "batch2" (default: all three).
// CORPUS holds the documents separated by NUL bytes (run.sh writes it). Prints one RESULT
// line per row with the median over the repetitions of
//   cpu_mbps   MB per CPU-second of the process (all threads): for the 1-thread rows the
//              figure that the load of a shared machine disturbs least;
//   wall_mbps  MB per wall-clock second: what the 2-thread rows must be read in.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "tessera/core/parallel.hpp"
#include "tessera/text/tokenizer.hpp"

namespace {

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s TOKENIZER CORPUS [REPETITIONS]\n", argv[0]);
    return 2;
  }
  const int reps = argc > 3 ? std::max(1, std::stoi(argv[3])) : 3;
  const std::string rows = argc > 4 ? argv[4] : "encode,batch1,batch2";
  const auto tok = tessera::Tokenizer::from_file(argv[1]);
  std::ifstream f(argv[2], std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string all = ss.str();
  std::vector<std::string> docs;
  size_t bytes = 0;
  for (size_t b = 0; b < all.size();) {
    size_t e = all.find('\0', b);
    if (e == std::string::npos) e = all.size();
    if (e > b) {
      docs.emplace_back(all.substr(b, e - b));
      bytes += e - b;
    }
    b = e + 1;
  }
  const double mb = static_cast<double>(bytes) / 1e6;
  std::printf("%s: %.2f MB in %zu documents, %d repetitions (+1 warm-up)\n", argv[1], mb, docs.size(), reps);

  // Each row: one warm-up pass (fills the BPE cache, as a long-running tokenizer would have
  // it), then `reps` timed passes over the whole corpus. Rows given together are timed in
  // turn, pass by pass (1 thread, 2 threads, 1 thread, ...), so that on a shared machine
  // they see the same load rather than whatever load each had in its own ten seconds.
  struct Row {
    const char* name;
    int threads;
    std::function<size_t()> pass;
    std::vector<double> cpu, wall;
    size_t tokens = 0;
  };
  const auto run_rows = [&](std::vector<Row> rows_in_turn) {
    for (auto& r : rows_in_turn) {
      tessera::set_num_threads(r.threads);
      r.tokens = r.pass();
    }
    for (int rep = 0; rep < reps; ++rep) {
      for (auto& r : rows_in_turn) {
        tessera::set_num_threads(r.threads);
        const double c0 = cpu_seconds();
        const auto w0 = std::chrono::steady_clock::now();
        r.tokens = r.pass();
        r.wall.push_back(mb / std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count());
        r.cpu.push_back(mb / (cpu_seconds() - c0));
      }
    }
    for (const auto& r : rows_in_turn) {
      std::printf("RESULT impl=tessera row=%s threads=%d cpu_mbps=%.2f wall_mbps=%.2f tokens=%zu\n", r.name, r.threads,
                  median(r.cpu), median(r.wall), r.tokens);
    }
    std::fflush(stdout);
  };
  const auto one_at_a_time = [&] {
    size_t n = 0;
    for (const auto& d : docs) n += tok.encode(d, false).size();
    return n;
  };
  const auto batch = [&] {
    size_t n = 0;
    for (const auto& e : tok.encode_batch(docs, false)) n += e.size();
    return n;
  };
  if (rows.find("encode") != std::string::npos) run_rows({Row{"encode", 1, one_at_a_time, {}, {}}});
  std::vector<Row> batch_rows;
  if (rows.find("batch1") != std::string::npos) batch_rows.push_back(Row{"encode_batch", 1, batch, {}, {}});
  if (rows.find("batch2") != std::string::npos) batch_rows.push_back(Row{"encode_batch", 2, batch, {}, {}});
  if (!batch_rows.empty()) run_rows(std::move(batch_rows));
  return 0;
}
