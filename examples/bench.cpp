// tessera-bench: whole-model prompt processing (pp) and token generation (tg) speed, in the
// spirit of llama-bench: median tokens/s over repetitions, fresh session per repetition.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>
#include <time.h>

#include "command_line.hpp"
#include "tessera/kernels/cpu.hpp"
#include "tessera/models/load.hpp"
#include "model_options.hpp"
#include "tessera/tessera.hpp"
#include "version_flag.hpp"

using namespace tessera;

namespace {

struct Result {
  std::string test;
  int threads;
  int64_t tokens;  // tokens timed per repetition (the test's label says the same)
  std::vector<double> tps;  // tokens/s of each repetition
  std::vector<double> cpu_tps;  // tokens per second of process CPU time (see cpu_seconds)
  double median() const { return median_of(tps); }
  static double median_of(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : (v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]));
  }
  double stddev() const {
    if (tps.size() < 2) return 0;
    double m = std::accumulate(tps.begin(), tps.end(), 0.0) / double(tps.size()), s = 0;
    for (double x : tps) s += (x - m) * (x - m);
    return std::sqrt(s / double(tps.size() - 1));
  }
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// CPU time of the whole process (all threads). On a machine shared with other work, one
// thread's tokens per CPU-second is the figure other processes do not distort; with more
// threads it also counts the pool's waiting, so it is only printed for 1 thread.
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Measure whole-model speed: prompt processing (pp: N tokens in one forward pass) and generation\n"
               "(tg: N tokens one at a time), median tokens/s over repetitions. With -d D both start after D tokens\n"
               "of context (filled by an untimed prefill; rows 'pp N @ dD', 'tg N @ dD', as llama-bench).\n\n"
               "Examples:\n"
               "  tessera-bench models/pycode-6m -p 512 -n 128 -t 1,2\n"
               "  tessera-bench model-Q4_K_M.gguf -p 512 -n 128 -t 1 --json\n"
               "  tessera-bench models/pycode-6m -p 32 -n 8 -d 0,256 --kv-type q8_0\n"
               "  tessera-bench --random llama:hidden=768,layers=12,heads=12,ffn=3072,vocab=32000,dtype=f16",
               "tessera-bench"};
  tools::ModelOptions mo;
  std::string& dir = mo.path;
  std::string random_spec;
  int64_t pp = 512, tg = 128;
  int reps = 5;
  std::vector<int> threads_list;
  std::vector<int64_t> depths;
  bool json = false;
  int64_t batch = 8, seq = 128;
  tools::add_model_options(app, mo, "the model (or use --random)", false);
  tools::add_kv_type_option(app, mo);
  app.add_option("--random", random_spec, "random-weight model FAMILY:key=value,... (see tessera/models/load.hpp)");
  app.add_option("-p,--n-prompt", pp, "prompt tokens for the pp test (0: skip)")->check(CLI::NonNegativeNumber);
  app.add_option("-n,--n-gen", tg, "generated tokens for the tg test (0: skip)")->check(CLI::NonNegativeNumber);
  tools::one_value_per_flag(
      app.add_option("-t,--threads", threads_list, "thread counts to test, e.g. -t 1,2 or -t 1 -t 2 (default: all cores)")
          ->delimiter(',')
          ->check(CLI::Range(1, 1024)));
  tools::one_value_per_flag(
      app.add_option("-d,--n-depth", depths, "tokens of context before each pp/tg test, e.g. -d 0,4096 (default 0)")
          ->delimiter(',')
          ->check(CLI::NonNegativeNumber));
  app.add_option("-r,--repetitions", reps, "repetitions per test (median reported)")->check(CLI::PositiveNumber);
  app.add_flag("--json", json, "print results as JSON");
  app.add_option("--batch", batch, "encoders: sequences per batch (-p and -n apply to decoders only)")->check(CLI::PositiveNumber);
  app.add_option("--seq", seq, "encoders: tokens per sequence")->check(CLI::PositiveNumber);
  tessera::tools::add_version_flag(app, "tessera-bench");
  TESSERA_PARSE_COMMAND_LINE(app, argc, argv);
  if (dir.empty() == random_spec.empty()) {
    fmt::print(stderr, "tessera-bench: give either MODEL or --random SPEC (see --help)\n");
    return 2;
  }
  try {
    if (!threads_list.empty()) set_num_threads(threads_list.front());  // loading runs on the threads asked for
    std::shared_ptr<const Model> model;
    size_t bytes = 0;
    int64_t params = 0;
    std::string weight_dtype;
    if (!random_spec.empty()) {
      auto r = load_random(random_spec);
      model = r.model;
      bytes = r.weight_bytes;
      params = r.parameters;
      weight_dtype = r.weight_dtype;
    } else {
      model = tools::load_model(mo);
      bytes = model->info().weight_bytes;
      params = model->info().parameters;
      weight_dtype = model->info().weight_dtype;
    }
    const ModelInfo& info = model->info();
    if (info.kind == ModelKind::EncoderDecoder) fail("tessera-bench measures decoders and encoders; {} is neither", info.family);
    if (threads_list.empty()) threads_list.push_back(num_threads());
    if (depths.empty()) depths.push_back(0);
    SessionOptions session_options = mo.session_options();
    std::string kv_name(dtype_name(session_options.kv_type));  // as typed in any case: "f16", "q8_0"
    for (char& c : kv_name) c = char(std::tolower(static_cast<unsigned char>(c)));
    const std::string name = random_spec.empty() ? dir : random_spec;
    // Random token ids: the pp test's prompt (-p of them), the tg test's inputs (-n), an
    // encoder row (--seq). Each is sized by its own option, so -p 16 times 16 tokens.
    std::mt19937 rng(1234);
    std::uniform_int_distribution<int32_t> tok(0, int32_t(info.vocab_size - 1));
    auto random_ids = [&](int64_t n) {
      std::vector<int32_t> ids(static_cast<size_t>(n));
      for (auto& t : ids) t = tok(rng);
      return ids;
    };
    const std::vector<int32_t> prompt = random_ids(pp), gen_inputs = random_ids(tg), enc_row = random_ids(seq);

    std::vector<int32_t> context(static_cast<size_t>(*std::max_element(depths.begin(), depths.end())));
    for (auto& t : context) t = tok(rng);

    std::vector<Result> results;
    for (int threads : threads_list) {
      set_num_threads(threads);
      Tensor logits;
      if (info.kind == ModelKind::Encoder) {
        // latency of one batch of `batch` × `seq` tokens, reported as tokens/s
        const std::vector<std::vector<int32_t>> input(static_cast<size_t>(batch), enc_row);
        Result r{fmt::format("enc{}x{}", batch, seq), threads, batch * seq, {}, {}};
        for (int rep = -1; rep < reps; ++rep) {
          auto t0 = std::chrono::steady_clock::now();
          const double c0 = cpu_seconds();
          model->encode(input);
          if (rep >= 0) {
            r.tps.push_back(double(r.tokens) / seconds_since(t0));
            r.cpu_tps.push_back(double(r.tokens) / (cpu_seconds() - c0));
          }
        }
        results.push_back(r);
        continue;
      }
      for (int64_t depth : depths) {
        // One session per test, with room for `depth` tokens of context and `n` more (a test
        // that exactly fills the model's positions runs), emptied and refilled with the context
        // before each repetition (not timed). Its storage (KV cache, scratch) is kept between
        // repetitions, as llama-bench keeps its context's: the warm-up repetition pays the
        // first touch of those pages, the timed ones measure the model.
        std::unique_ptr<Session> held;
        auto session_at_depth = [&](int64_t n) -> Session& {
          if (!held || held->capacity() != depth + n) {
            session_options.max_context = depth + n;
            held = model->new_session(session_options);
          }
          held->reset();
          if (depth > 0) model->decode(*held, std::span<const int32_t>(context.data(), size_t(depth)), logits, false);
          return *held;
        };
        const std::string at = depth > 0 ? fmt::format(" @ d{}", depth) : "";
        if (pp > 0) {
          Result r{fmt::format("pp{}{}", pp, at), threads, pp, {}, {}};
          for (int rep = -1; rep < reps; ++rep) {  // rep -1 warms up
            Session& s = session_at_depth(pp);
            auto t0 = std::chrono::steady_clock::now();
            const double c0 = cpu_seconds();
            model->decode(s, prompt, logits, false);
            if (rep >= 0) {
              r.tps.push_back(double(r.tokens) / seconds_since(t0));
              r.cpu_tps.push_back(double(r.tokens) / (cpu_seconds() - c0));
            }
          }
          results.push_back(r);
        }
        if (tg > 0) {
          Result r{fmt::format("tg{}{}", tg, at), threads, tg, {}, {}};
          for (int rep = -1; rep < reps; ++rep) {
            Session& s = session_at_depth(tg);
            auto t0 = std::chrono::steady_clock::now();
            const double c0 = cpu_seconds();
            for (const int32_t& t : gen_inputs) model->decode(s, std::span<const int32_t>(&t, 1), logits, false);
            if (rep >= 0) {
              r.tps.push_back(double(r.tokens) / seconds_since(t0));
              r.cpu_tps.push_back(double(r.tokens) / (cpu_seconds() - c0));
            }
          }
          results.push_back(r);
        }
      }
    }
    if (json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& r : results)
        out.push_back({{"model", name}, {"family", info.family}, {"weight_dtype", weight_dtype}, {"weight_bytes", bytes},
                       {"parameters", params}, {"kv_type", kv_name},
                       {"kv_bytes_per_position", model->kv_cache_bytes_per_position(session_options.kv_type)},
                       {"threads", r.threads}, {"test", r.test}, {"n_tokens", r.tokens}, {"tokens_per_second", r.median()},
                       {"stddev", r.stddev()}, {"samples", r.tps},
                       {"cpu_tokens_per_second", Result::median_of(r.cpu_tps)}});
      fmt::print("{}\n", out.dump(2));
    } else {
      fmt::print("model: {} ({}, {:.1f} MiB, {:.1f} M parameters), ISA {}, KV cache {} ({} bytes a position)\n\n", name,
                 info.family, double(bytes) / (1 << 20), double(params) / 1e6, kernels::isa_name(kernels::active_isa()),
                 kv_name, model->kv_cache_bytes_per_position(session_options.kv_type));
      fmt::print("| threads | test   |          t/s | t/CPU-s |\n|--------:|:-------|-------------:|--------:|\n");
      for (const auto& r : results) {
        fmt::print("| {:7} | {:6} | {:7.2f} ± {:4.2f} |", r.threads, r.test, r.median(), r.stddev());
        if (r.threads == 1) fmt::print(" {:7.2f} |", Result::median_of(r.cpu_tps));
        else fmt::print("       - |");
        if (r.test.rfind("enc", 0) == 0) fmt::print(" {:.1f} ms per batch", 1e3 * double(batch * seq) / r.median());
        fmt::print("\n");
      }
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "tessera-bench: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
