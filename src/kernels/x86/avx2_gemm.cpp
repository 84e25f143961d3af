// AVX2 GEMM tiles over pre-packed weights (PackedWeight panels [K][32] in W's dtype; the
// driver is gemm_packed in kernels.cpp): a 6x32 register tile for prefill and a streaming
// decode tile. Every output element is one fixed chain of operations whatever block or thread
// it falls in, so results never depend on the thread count.
#include <cstdint>

#include "avx2_vec.hpp"

namespace tessera::kernels::avx2 {
namespace {

// ---- pre-packed W (PackedWeight): panels [K][32] in W's dtype, A packed per call ----

// R x 16 (one half of a 32-wide panel): 2R accumulators + 2 B + 1 broadcast <= 15 ymm.
// Every loop over r is unrolled by pragma: at -O3 GCC 12 otherwise keeps c0/c1 on the stack
// and stores all 12 accumulators every k step (objdump), which held this tile to 47% of the
// AVX2 peak.
template <DType T, int R>
void ptile_half(int64_t kc, const float* ap, const void* bp, int64_t off, float* c, int64_t ldc, bool load_c,
                const float* bias) {
  constexpr int64_t kMrP = 6;
  __m256 c0[R], c1[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    c0[r] = load_c ? _mm256_loadu_ps(c + r * ldc + off) : _mm256_setzero_ps();
    c1[r] = load_c ? _mm256_loadu_ps(c + r * ldc + off + 8) : _mm256_setzero_ps();
  }
  for (int64_t p = 0; p < kc; ++p) {
    const __m256 b0 = v_load_w<T>(bp, p * 32 + off), b1 = v_load_w<T>(bp, p * 32 + off + 8);
    const float* a = ap + p * kMrP;
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m256 av = _mm256_broadcast_ss(a + r);
      c0[r] = _mm256_fmadd_ps(av, b0, c0[r]);
      c1[r] = _mm256_fmadd_ps(av, b1, c1[r]);
    }
  }
  if (bias) {
    const __m256 bb0 = _mm256_loadu_ps(bias + off), bb1 = _mm256_loadu_ps(bias + off + 8);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      c0[r] = _mm256_add_ps(c0[r], bb0);
      c1[r] = _mm256_add_ps(c1[r], bb1);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    _mm256_storeu_ps(c + r * ldc + off, c0[r]);
    _mm256_storeu_ps(c + r * ldc + off + 8, c1[r]);
  }
}

template <DType T, int R>
void ptile(int64_t kc, const float* ap, const void* bp, float* c, int64_t ldc, bool load_c, const float* bias) {
  ptile_half<T, R>(kc, ap, bp, 0, c, ldc, load_c, bias);
  ptile_half<T, R>(kc, ap, bp, 16, c, ldc, load_c, bias);
}

template <DType T>
void packed_tile_t(int64_t rows, int64_t kc, const float* ap, const void* bp, float* c, int64_t ldc, bool load_c,
                   const float* bias) {
  switch (rows) {
    case 1: return ptile<T, 1>(kc, ap, bp, c, ldc, load_c, bias);
    case 2: return ptile<T, 2>(kc, ap, bp, c, ldc, load_c, bias);
    case 3: return ptile<T, 3>(kc, ap, bp, c, ldc, load_c, bias);
    case 4: return ptile<T, 4>(kc, ap, bp, c, ldc, load_c, bias);
    case 5: return ptile<T, 5>(kc, ap, bp, c, ldc, load_c, bias);
    default: return ptile<T, 6>(kc, ap, bp, c, ldc, load_c, bias);
  }
}

void packed_tile(int64_t rows, int64_t kc, const float* ap, const void* bp, DType wt, float* c, int64_t ldc,
                 bool load_c, const float* bias) {
  with_weight_type(wt, [&](auto t) { packed_tile_t<decltype(t)::value>(rows, kc, ap, bp, c, ldc, load_c, bias); });
}

// Decode (M <= 4, whole K per call), the AVX2 counterpart of the AVX-512 decode tile: one
// sequential stream per thread over consecutive panels, software-prefetched 8 KiB ahead
// (without it the AVX2 decode ran at half the DRAM rate through packed_tile's K blocks).
// One row keeps even and odd k in separate accumulators (8 chains); 2-3 rows have 8-12.
// Four rows run as two passes of two (16 accumulators would not fit 16 ymm registers).
// y = (accumulate ? y : 0) + (even + odd) + bias.
constexpr int64_t kPfBytes = 8192;
template <DType T, int R>
void pgemv(int64_t k, const float* ap, const void* bp, float* c, int64_t ldc, bool accumulate, const float* bias) {
  constexpr int64_t kMrP = 6;
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
      for (int r = 0; r < R; ++r) a[r] = _mm256_broadcast_ss(ap + (p + s) * kMrP + r);
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
      for (int r = 0; r < R; ++r) acc[0][r][v] = _mm256_fmadd_ps(_mm256_broadcast_ss(ap + p * kMrP + r), b, acc[0][r][v]);
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
  t.packed_mr = 6;
  t.packed_kc = 256;
}

}  // namespace tessera::kernels::avx2
