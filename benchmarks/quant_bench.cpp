// gemm_quant at the shapes of a 162M Llama (h768, ffn3072, vocab 32000): decode (M=1),
// reported as GB/s of weight bytes read, to set beside ceiling_bench's DRAM read bandwidth;
// and prefill (M=512), reported as GFLOP/s (2·M·N·K per call). Decode cycles through copies
// of W filling >= 64 MiB, so W comes from DRAM as it does in a real token (a model's
// weights do not fit in cache), not from L2/L3.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "tessera/core/parallel.hpp"
#include "tessera/kernels/quant.hpp"

namespace {

using tessera::DType;
using namespace tessera::kernels;

const DType kTypes[] = {DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::Q6_K, DType::Q4_1,
                        DType::Q5_0, DType::Q5_1, DType::Q2_K, DType::Q3_K, DType::Q5_K};

// n x k weights of type t: 64 distinct rows quantized by ggml's reference quantizer (the
// K-quants' search is slow), repeated.
std::vector<unsigned char> make_weights(DType t, int64_t n, int64_t k) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  const size_t rb = dtype_bytes(t, k);
  const int64_t distinct = n < 64 ? n : 64;
  std::vector<float> row(static_cast<size_t>(k));
  std::vector<unsigned char> w(rb * size_t(n));
  for (int64_t r = 0; r < distinct; ++r) {
    for (float& v : row) v = u(rng);
    quantize_row(t, row.data(), w.data() + size_t(r) * rb, k);
  }
  for (int64_t r = distinct; r < n; ++r) std::memcpy(w.data() + size_t(r) * rb, w.data() + size_t(r % distinct) * rb, rb);
  return w;
}

// Args: type index, N, K, M, threads.
void BM_gemm_quant(benchmark::State& s) {
  const DType t = kTypes[s.range(0)];
  const int64_t n = s.range(1), k = s.range(2), m = s.range(3);
  tessera::set_num_threads(int(s.range(4)));
  const std::vector<unsigned char> one = make_weights(t, n, k);
  const size_t bytes = one.size();
  // QUANT_BENCH_HOT=1: one copy (W from cache), to see the compute rate alone.
  const size_t copies = m == 1 && !std::getenv("QUANT_BENCH_HOT") ? (size_t(64) << 20) / bytes + 1 : 1;
  std::vector<unsigned char> all(bytes * copies);
  for (size_t c = 0; c < copies; ++c) std::memcpy(all.data() + c * bytes, one.data(), bytes);
  std::vector<QuantWeight> ws;
  for (size_t c = 0; c < copies; ++c) ws.emplace_back(all.data() + c * bytes, t, n, k, nullptr);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> x(size_t(m * k)), y(size_t(m * n));
  for (float& v : x) v = u(rng);
  size_t c = 0;
  for (auto _ : s) {
    gemm_quant(x.data(), m, k, ws[c], y.data(), n);
    c = c + 1 == copies ? 0 : c + 1;
    benchmark::ClobberMemory();
  }
  s.SetLabel(std::string(tessera::dtype_name(t)));
  const double it = double(s.iterations());
  if (m == 1)
    s.counters["GB/s"] = benchmark::Counter(double(bytes) * it / 1e9, benchmark::Counter::kIsRate);
  else
    s.counters["GFLOP/s"] = benchmark::Counter(2.0 * double(m * n * k) * it / 1e9, benchmark::Counter::kIsRate);
  tessera::set_num_threads(1);
}

// One thread is timed in CPU time (the cores are shared with other people's builds: CPU time
// leaves out the time another process held the core), two threads in wall time.
template <int Threads>
void shapes(benchmark::internal::Benchmark* b) {
  const int64_t nk[][2] = {{768, 768}, {3072, 768}, {768, 3072}, {32000, 768}};
  for (int64_t ti = 0; ti < int64_t(std::size(kTypes)); ++ti)
    for (int64_t m : {1, 512})
      for (const auto& s : nk) {
        if (m == 512 && s[0] == 32000) continue;  // the output projection runs on the last row only
        b->Args({ti, s[0], s[1], m, Threads});
      }
  b->ArgNames({"type", "N", "K", "M", "threads"})->Unit(benchmark::kMicrosecond);
  if (Threads > 1) b->UseRealTime();
}

BENCHMARK(BM_gemm_quant)->Apply(shapes<1>);
BENCHMARK(BM_gemm_quant)->Apply(shapes<2>);

}  // namespace
