// AVX2 GEMM tiles over pre-packed weights (PackedWeight panels [K][32] in W's dtype; the
// driver is gemm_packed in kernels.cpp): a 6x32 register tile for prefill and a streaming
// decode tile. Every output element is one fixed chain of operations whatever block or thread
// it falls in, so results never depend on the thread count.
#include <cstdint>
#include <utility>

#include "avx2_vec.hpp"

namespace tessera::kernels::avx2 {
namespace {

// ---- pre-packed W (PackedWeight): panels [K][32] in W's dtype, A packed per call ----

constexpr int64_t kPackedMr = 6;
constexpr bool kTilePrefetch = false;  // the decode tile (below) streams W for M <= 4
#include "../packed_tile_impl.inc"

// Decode (M <= 4, whole K per call), the AVX2 counterpart of the AVX-512 decode tile: one
// sequential stream per thread over consecutive panels, software-prefetched 8 KiB ahead
// (without it the AVX2 decode ran at half the DRAM rate through packed_tile's K blocks).
// One row keeps even and odd k in separate accumulators (8 chains); 2-3 rows have 8-12.
// Four rows run as two passes of two (16 accumulators would not fit 16 ymm registers).
// y = (accumulate ? y : 0) + (even + odd) + bias.
constexpr int64_t kPfBytes = 8192;
template <DType T, int R>
void pgemv(int64_t k, const float* ap, const void* bp, float* c, int64_t ldc, bool accumulate, const float* bias) {
  constexpr int S = R == 1 ? 2 : 1;  // accumulator sets over k (even / odd)
  constexpr int64_t kStepBytes = 32 * int64_t(T == DType::F32 ? 4 : 2);  // one k of a panel
  __m256 acc[S][R][4];
#pragma GCC unroll 8
  for (int s = 0; s < S; ++s)
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
      for (int v = 0; v < 4; ++v) acc[s][r][v] = _mm256_setzero_ps();
  const char* bb = static_cast<const char*>(bp);
  int64_t p = 0;
  for (; p + S <= k; p += S) {
#pragma GCC unroll 4
    for (int64_t l = 0; l < S * kStepBytes; l += 64) _mm_prefetch(bb + p * kStepBytes + kPfBytes + l, _MM_HINT_T0);
#pragma GCC unroll 2
    for (int s = 0; s < S; ++s) {
      __m256 a[R];
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) a[r] = _mm256_broadcast_ss(ap + (p + s) * kPackedMr + r);
#pragma GCC unroll 4
      for (int v = 0; v < 4; ++v) {
        const __m256 b = v_load_w<T>(bp, (p + s) * 32 + v * 8);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) acc[s][r][v] = _mm256_fmadd_ps(a[r], b, acc[s][r][v]);
      }
    }
  }
  if (p < k) {  // S = 2 and k odd: the last k goes to the even set
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v) {
      const __m256 b = v_load_w<T>(bp, p * 32 + v * 8);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc[0][r][v] = _mm256_fmadd_ps(_mm256_broadcast_ss(ap + p * kPackedMr + r), b, acc[0][r][v]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v) {
      __m256 y = S == 2 ? _mm256_add_ps(acc[0][r][v], acc[S - 1][r][v]) : acc[0][r][v];
      if (accumulate) y = _mm256_add_ps(_mm256_loadu_ps(c + r * ldc + v * 8), y);
      if (bias) y = _mm256_add_ps(y, _mm256_loadu_ps(bias + v * 8));
      _mm256_storeu_ps(c + r * ldc + v * 8, y);
    }
}

template <DType T>
void packed_gemv_t(int64_t rows, int64_t k, const float* ap, const void* bp, float* c, int64_t ldc, bool accumulate,
                   const float* bias) {
  switch (rows) {
    case 1: return pgemv<T, 1>(k, ap, bp, c, ldc, accumulate, bias);
    case 2: return pgemv<T, 2>(k, ap, bp, c, ldc, accumulate, bias);
    case 3: return pgemv<T, 3>(k, ap, bp, c, ldc, accumulate, bias);
    default:
      pgemv<T, 2>(k, ap, bp, c, ldc, accumulate, bias);
      return pgemv<T, 2>(k, ap + 2, bp, c + 2 * ldc, ldc, accumulate, bias);
  }
}

void packed_gemv(int64_t rows, int64_t k, const float* ap, const void* bp, DType wt, float* c, int64_t ldc,
                 bool accumulate, const float* bias) {
  with_weight_type(wt, [&](auto t) { packed_gemv_t<decltype(t)::value>(rows, k, ap, bp, c, ldc, accumulate, bias); });
}

}  // namespace

void fill_gemm(KernelTable& t) {
  t.packed_tile = packed_tile;
  t.packed_gemv = packed_gemv;
  t.packed_mr = kPackedMr;
  t.packed_kc = 256;
}

}  // namespace tessera::kernels::avx2
