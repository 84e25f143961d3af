// tessera's gemm_packed (Y = X·Wᵀ, W in f32, f16 or bf16) beside Eigen and OpenBLAS sgemm on the
// shapes transformers run: decode (M = 1, 8) to prefill (M = 1024), 1 and 2 threads.
// Counters: FLOP/s (2·M·N·K per call) and bytes/s (W + X + Y, each touched once per call).
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <cstdint>
#include <map>
#include <random>
#include <tuple>
#include <string>
#include <vector>

#include "tessera/core/half.hpp"
#include "tessera/core/parallel.hpp"
#include "tessera/kernels/kernels.hpp"

#ifdef TESSERA_BENCH_OPENBLAS
#include <cblas.h>
extern "C" void openblas_set_num_threads(int);
extern "C" char* openblas_get_config(void);
extern "C" char* openblas_get_corename(void);
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

namespace {

using tessera::DType;

struct Data {
  std::vector<float> x, w, y;
  std::vector<uint16_t> w16;
};

// Google Benchmark calls each function several times while it sizes the run; generating
// 64 MiB of random weights each time would dominate the wall clock, so inputs are cached.
Data& make(int64_t m, int64_t k, int64_t n, DType t) {
  static std::map<std::tuple<int64_t, int64_t, int64_t, DType>, Data> cache;
  auto key = std::make_tuple(m, k, n, t);
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  if (cache.size() > 4) cache.clear();  // bounded memory: runs are ordered by shape anyway
  Data& d = cache[key];
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  d.x.resize(size_t(m * k));
  d.w.resize(size_t(n * k));
  d.y.resize(size_t(m * n));
  for (float& v : d.x) v = u(rng);
  for (float& v : d.w) v = u(rng);
  if (t != DType::F32) {
    d.w16.resize(d.w.size());
    for (size_t i = 0; i < d.w.size(); ++i)
      d.w16[i] = t == DType::F16 ? tessera::f32_to_f16(d.w[i]) : tessera::f32_to_bf16(d.w[i]);
    d.w = {};
  }
  return d;
}

void counters(benchmark::State& s, int64_t m, int64_t k, int64_t n, size_t wbytes) {
  const double it = double(s.iterations());
  s.counters["FLOP/s"] = benchmark::Counter(it * 2.0 * double(m) * double(n) * double(k), benchmark::Counter::kIsRate);
  s.counters["bytes/s"] = benchmark::Counter(
      it * double(n * k * int64_t(wbytes) + m * k * 4 + m * n * 4), benchmark::Counter::kIsRate);
}

// tessera's one GEMM engine: the weights pre-packed once (kernels::PackedWeight, as Linear
// holds them); packing is outside the timed loop, as it happens once at model load.
void BM_packed(benchmark::State& s, DType t) {
  const int64_t m = s.range(0), k = s.range(1), n = s.range(2);
  tessera::set_num_threads(int(s.range(3)));
  Data& d = make(m, k, n, t);
  const void* w = t == DType::F32 ? static_cast<const void*>(d.w.data()) : d.w16.data();
  const auto pw = tessera::kernels::PackedWeight::pack(w, t, n, k);
  for (auto _ : s) {
    tessera::kernels::gemm_packed(d.x.data(), m, k, pw, d.y.data(), n);
    benchmark::DoNotOptimize(d.y.data());
    benchmark::ClobberMemory();
  }
  counters(s, m, k, n, tessera::dtype_size(t));
  s.SetLabel(std::string(tessera::kernels::isa_name(tessera::kernels::active_isa())));
}

void BM_eigen(benchmark::State& s) {
  const int64_t m = s.range(0), k = s.range(1), n = s.range(2);
  Eigen::setNbThreads(int(s.range(3)));
  Data& d = make(m, k, n, DType::F32);
  using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Eigen::Map<const RowMat> x(d.x.data(), m, k), w(d.w.data(), n, k);
  Eigen::Map<RowMat> y(d.y.data(), m, n);
  for (auto _ : s) {
    y.noalias() = x * w.transpose();
    benchmark::DoNotOptimize(d.y.data());
    benchmark::ClobberMemory();
  }
  counters(s, m, k, n, 4);
  s.SetLabel("threads=" + std::to_string(Eigen::nbThreads()));
}

#ifdef TESSERA_BENCH_OPENBLAS
void BM_openblas(benchmark::State& s) {
  const int64_t m = s.range(0), k = s.range(1), n = s.range(2);
  openblas_set_num_threads(int(s.range(3)));
  Data& d = make(m, k, n, DType::F32);
  for (auto _ : s) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(m), int(n), int(k), 1.0f, d.x.data(), int(k),
                d.w.data(), int(k), 0.0f, d.y.data(), int(n));
    benchmark::DoNotOptimize(d.y.data());
    benchmark::ClobberMemory();
  }
  counters(s, m, k, n, 4);
  s.SetLabel(openblas_get_corename());
}
#endif

// One thread is timed in CPU time: this machine's 2 cores are shared with other builds, and
// CPU time does not count the time another process held the core. Two threads need wall time
// (the pool's workers are not in the caller's CPU time), so those rows are noisier.
void shapes(benchmark::internal::Benchmark* b, int64_t threads) {
  b->ArgNames({"M", "K", "N", "thr"});
  for (int64_t m : {1, 8, 64, 256, 1024})
    for (auto [k, n] : {std::pair<int64_t, int64_t>{768, 768}, {768, 3072}, {3072, 768}, {4096, 4096}})
      b->Args({m, k, n, threads});
  b->Unit(benchmark::kMicrosecond);
  if (threads > 1) b->UseRealTime();
}
void one_thread(benchmark::internal::Benchmark* b) { shapes(b, 1); }
void two_threads(benchmark::internal::Benchmark* b) { shapes(b, 2); }

BENCHMARK_CAPTURE(BM_packed, f32, DType::F32)->Apply(one_thread);
BENCHMARK_CAPTURE(BM_packed, f16, DType::F16)->Apply(one_thread);
BENCHMARK_CAPTURE(BM_packed, bf16, DType::BF16)->Apply(one_thread);
BENCHMARK(BM_eigen)->Apply(one_thread);
#ifdef TESSERA_BENCH_OPENBLAS
BENCHMARK(BM_openblas)->Apply(one_thread);
#endif
BENCHMARK_CAPTURE(BM_packed, f32, DType::F32)->Apply(two_threads);
BENCHMARK_CAPTURE(BM_packed, f16, DType::F16)->Apply(two_threads);
BENCHMARK_CAPTURE(BM_packed, bf16, DType::BF16)->Apply(two_threads);
BENCHMARK(BM_eigen)->Apply(two_threads);
#ifdef TESSERA_BENCH_OPENBLAS
BENCHMARK(BM_openblas)->Apply(two_threads);

// Which OpenBLAS kernel runs, for the record (also: OPENBLAS_VERBOSE=2).
const bool reported = [] {
  benchmark::AddCustomContext("openblas", std::string(openblas_get_config()) + " core " + openblas_get_corename());
  return true;
}();
#endif

}  // namespace
