// This machine's ceilings: peak f32 FMA throughput (AVX2 and AVX-512, register-resident
// independent chains) and read bandwidth from each cache level and DRAM, 1 and 2 threads.
// Kernel results elsewhere are quoted as fractions of these numbers.
#include <benchmark/benchmark.h>
#include <immintrin.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "tessera/kernels/cpu.hpp"

namespace {

using tessera::kernels::Isa;

// The loops below are pure functions of their arguments: without the clobber the compiler
// may call them once and time an empty loop.
template <typename F>
void run(benchmark::State& s, F&& f) {
  for (auto _ : s) {
    benchmark::ClobberMemory();
    benchmark::DoNotOptimize(f());
  }
}

// Work per iteration as a rate over wall time. Each thread adds its own share (counters
// are summed over threads), so this is the machine's total with Threads(2).
void rate(benchmark::State& s, const char* name, double per_iteration) {
  s.counters[name] = benchmark::Counter(per_iteration * double(s.iterations()), benchmark::Counter::kIsRate);
}

// 16 independent accumulators: more than latency x throughput (4 cycles x 2 pipes) needs.
__attribute__((target("avx512f"), noinline)) float fma_loop_512(const volatile int64_t& iters_in) {
  __m512 a[16];
  for (int i = 0; i < 16; ++i) a[i] = _mm512_set1_ps(float(i));
  const int64_t iters = iters_in;
  const __m512 b = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
  for (int64_t it = 0; it < iters; ++it)
    for (int i = 0; i < 16; ++i) a[i] = _mm512_fmadd_ps(a[i], b, c);
  __m512 s = a[0];
  for (int i = 1; i < 16; ++i) s = _mm512_add_ps(s, a[i]);
  return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma"), noinline)) float fma_loop_256(const volatile int64_t& iters_in) {
  __m256 a[12];
  for (int i = 0; i < 12; ++i) a[i] = _mm256_set1_ps(float(i));
  const int64_t iters = iters_in;
  const __m256 b = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
  for (int64_t it = 0; it < iters; ++it)
    for (int i = 0; i < 12; ++i) a[i] = _mm256_fmadd_ps(a[i], b, c);
  __m256 s = a[0];
  for (int i = 1; i < 12; ++i) s = _mm256_add_ps(s, a[i]);
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0];
}

void BM_peak_fma_avx512(benchmark::State& s) {
  if (tessera::kernels::detected_isa() < Isa::Avx512) return s.SkipWithError("no AVX-512");
  const int64_t iters = 1 << 16;
  run(s, [&] { return fma_loop_512(iters); });
  rate(s, "FLOP/s", 2.0 * 16 * 16 * double(iters));
}

void BM_peak_fma_avx2(benchmark::State& s) {
  if (tessera::kernels::detected_isa() < Isa::Avx2) return s.SkipWithError("no AVX2");
  const int64_t iters = 1 << 16;
  run(s, [&] { return fma_loop_256(iters); });
  rate(s, "FLOP/s", 2.0 * 12 * 8 * double(iters));
}

__attribute__((target("avx512f"), noinline)) float read_sum_512(const float* p, const volatile int64_t& n_in) {
  const int64_t n = n_in;
  __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  for (int64_t i = 0; i < n; i += 64) {
    s0 = _mm512_add_ps(s0, _mm512_load_ps(p + i));
    s1 = _mm512_add_ps(s1, _mm512_load_ps(p + i + 16));
    s2 = _mm512_add_ps(s2, _mm512_load_ps(p + i + 32));
    s3 = _mm512_add_ps(s3, _mm512_load_ps(p + i + 48));
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

// The same with 256-bit loads, for CPUs without AVX-512 (the read rate is the memory's, not
// the vector width's, once the buffer is past the caches).
__attribute__((target("avx2"), noinline)) float read_sum_256(const float* p, const volatile int64_t& n_in) {
  const int64_t n = n_in;
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  for (int64_t i = 0; i < n; i += 32) {
    s0 = _mm256_add_ps(s0, _mm256_load_ps(p + i));
    s1 = _mm256_add_ps(s1, _mm256_load_ps(p + i + 8));
    s2 = _mm256_add_ps(s2, _mm256_load_ps(p + i + 16));
    s3 = _mm256_add_ps(s3, _mm256_load_ps(p + i + 24));
  }
  alignas(32) float t[8];
  _mm256_store_ps(t, _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
  return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}

// Each thread reads its own buffer of range(0) KiB, over and over (AVX-512 loads where the
// CPU has them, AVX2 otherwise).
void BM_read_bandwidth(benchmark::State& s) {
  if (tessera::kernels::detected_isa() < Isa::Avx2) return s.SkipWithError("no AVX2");
  const int64_t bytes = s.range(0) * 1024, n = bytes / 4;
  float* p = static_cast<float*>(std::aligned_alloc(64, size_t(bytes)));
  for (int64_t i = 0; i < n; ++i) p[i] = 1.0f;
  if (tessera::kernels::detected_isa() >= Isa::Avx512) run(s, [&] { return read_sum_512(p, n); });
  else run(s, [&] { return read_sum_256(p, n); });
  rate(s, "bytes/s", double(bytes));
  std::free(p);
}

// One thread in CPU time (the cores are shared with other builds; CPU time leaves out the
// time another process held the core), two threads in wall time, which such sharing inflates.
BENCHMARK(BM_peak_fma_avx512);
BENCHMARK(BM_peak_fma_avx512)->Threads(2)->UseRealTime();
BENCHMARK(BM_peak_fma_avx2);
BENCHMARK(BM_peak_fma_avx2)->Threads(2)->UseRealTime();
// 32 KiB (L1), 512 KiB (L2), 8 MiB (L3), 512 MiB (DRAM).
void sizes(benchmark::internal::Benchmark* b) {
  b->ArgName("KiB")->Arg(32)->Arg(512)->Arg(8 << 10)->Arg(512 << 10);
}
BENCHMARK(BM_read_bandwidth)->Apply(sizes);
BENCHMARK(BM_read_bandwidth)->Apply(sizes)->Threads(2)->UseRealTime();

}  // namespace
