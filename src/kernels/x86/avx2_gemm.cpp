// AVX2 GEMM, Y = X·Wᵀ: a dot-product path that streams W for decode (small M), and a
// BLIS-style path for larger M (packed panels, a 6x16 register-blocked micro-kernel, cache
// blocking over K, M and N). Every output element is one fixed chain of operations whatever
// block or thread it falls in, so results never depend on the thread count.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "../dispatch.hpp"

namespace tessera::kernels::avx2 {
namespace {

constexpr int64_t kMr = 6, kNr = 16;                // micro-tile: 6 rows of X x 16 rows of W
constexpr int64_t kKc = 256, kMc = 144, kNc = 512;  // cache blocks (K panel, A block, B block)

int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

__m256i tail_mask(int64_t r) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(r < 0 ? 0 : r > 8 ? 8 : r)), idx);
}

float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

template <DType T>
__m256 cvt8(const uint16_t* p) {
  const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  if constexpr (T == DType::F16) return _mm256_cvtph_ps(h);
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

template <DType T>
__m256 load_w(const void* w, int64_t i) {
  if constexpr (T == DType::F32) return _mm256_loadu_ps(static_cast<const float*>(w) + i);
  else return cvt8<T>(static_cast<const uint16_t*>(w) + i);
}

// The first r (< 8) values, zero beyond; never reads past them.
template <DType T>
__m256 load_w_tail(const void* w, int64_t i, int64_t r) {
  if constexpr (T == DType::F32) {
    return _mm256_maskload_ps(static_cast<const float*>(w) + i, tail_mask(r));
  } else {
    uint16_t buf[8] = {};
    std::memcpy(buf, static_cast<const uint16_t*>(w) + i, size_t(r) * 2);
    return cvt8<T>(buf);
  }
}

// ---- small M: dot products along K, R rows of X against C rows of W at a time ----

// R rows of X against W rows j0..j0+C over K in [k0, k1): vector partial sums along K,
// reduced per element and added to Y. Per element: y = (accumulate ? y : 0), then + the
// sum of each K chunk in order, then + bias; the chunks depend only on R, never on threads.
template <DType T, int R, int C>
void dot_tile(const GemmArgs& a, int64_t m0, int64_t j0, int64_t k0, int64_t k1) {
  __m256 acc[R][C];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
  const int64_t k = a.k;
  int64_t p = k0;
  for (; p + 8 <= k1; p += 8) {
    __m256 wv[C];
    for (int c = 0; c < C; ++c) wv[c] = load_w<T>(a.w, (j0 + c) * k + p);
    for (int r = 0; r < R; ++r) {
      const __m256 xv = _mm256_loadu_ps(a.x + (m0 + r) * a.ldx + p);
      for (int c = 0; c < C; ++c) acc[r][c] = _mm256_fmadd_ps(xv, wv[c], acc[r][c]);
    }
  }
  if (p < k1) {
    __m256 wv[C];
    for (int c = 0; c < C; ++c) wv[c] = load_w_tail<T>(a.w, (j0 + c) * k + p, k1 - p);
    for (int r = 0; r < R; ++r) {
      const __m256 xv = _mm256_maskload_ps(a.x + (m0 + r) * a.ldx + p, tail_mask(k1 - p));
      for (int c = 0; c < C; ++c) acc[r][c] = _mm256_fmadd_ps(xv, wv[c], acc[r][c]);
    }
  }
  const bool first = k0 == 0, last = k1 == k;
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) {
      float* out = a.y + (m0 + r) * a.ldy + j0 + c;
      float v = first ? (a.accumulate ? *out : 0.0f) : *out;
      v += hsum(acc[r][c]);
      if (last && a.bias) v += a.bias[j0 + c];
      *out = v;
    }
}

// C columns per tile for R rows: as many as the 16 registers allow (R*C accumulators).
// Whole rows of K in one pass: chunking K (to keep X in L1) broke W's streaming in the
// AVX-512 measurements unless paired with software prefetch; see docs/PERFORMANCE.md.
template <DType T, int R>
void dot_rows(const GemmArgs& a, int64_t m0, int64_t n0, int64_t n1) {
  constexpr int C = R <= 2 ? 4 : R == 3 ? 3 : 2;
  constexpr int64_t kChunk = int64_t(1) << 40;
  for (int64_t k0 = 0; k0 < a.k; k0 += kChunk) {
    const int64_t k1 = min64(a.k, k0 + kChunk);
    int64_t j = n0;
    for (; j + C <= n1; j += C) dot_tile<T, R, C>(a, m0, j, k0, k1);
    for (; j < n1; ++j) dot_tile<T, R, 1>(a, m0, j, k0, k1);
  }
}

template <DType T>
void gemv_t(const GemmArgs& a, int64_t n0, int64_t n1) {
  for (int64_t m0 = 0; m0 < a.m; m0 += 4) {
    switch (min64(4, a.m - m0)) {
      case 1: dot_rows<T, 1>(a, m0, n0, n1); break;
      case 2: dot_rows<T, 2>(a, m0, n0, n1); break;
      case 3: dot_rows<T, 3>(a, m0, n0, n1); break;
      default: dot_rows<T, 4>(a, m0, n0, n1); break;
    }
  }
}

void gemv(const GemmArgs& a, int64_t n0, int64_t n1) {
  with_weight_type(a.wtype, [&](auto t) { gemv_t<decltype(t)::value>(a, n0, n1); });
}

// ---- larger M: packed panels and a register-blocked micro-kernel ----

// Bp[panel][k][16] <- W[jc + panel*16 + j][pc + k], converted to f32, zero past nc.
template <DType T>
void pack_b(const GemmArgs& a, int64_t jc, int64_t nc, int64_t pc, int64_t kc, float* bp) {
  for (int64_t jp = 0; jp < nc; jp += kNr) {
    float* dst = bp + jp * kc;
    const int64_t cols = min64(kNr, nc - jp);
    for (int64_t j = 0; j < kNr; ++j) {
      if (j >= cols) {
        for (int64_t p = 0; p < kc; ++p) dst[p * kNr + j] = 0.0f;
        continue;
      }
      const int64_t row = (jc + jp + j) * a.k + pc;
      alignas(32) float tmp[8];
      for (int64_t p = 0; p < kc; p += 8) {
        const int64_t e = min64(8, kc - p);
        _mm256_store_ps(tmp, e == 8 ? load_w<T>(a.w, row + p) : load_w_tail<T>(a.w, row + p, e));
        for (int64_t q = 0; q < e; ++q) dst[(p + q) * kNr + j] = tmp[q];
      }
    }
  }
}

// Ap[panel][k][6] <- X[ic + panel*6 + r][pc + k]; rows past mc are never read.
void pack_a(const GemmArgs& a, int64_t ic, int64_t mc, int64_t pc, int64_t kc, float* ap) {
  for (int64_t ip = 0; ip < mc; ip += kMr) {
    float* dst = ap + ip * kc;
    const int64_t rows = min64(kMr, mc - ip);
    for (int64_t r = 0; r < rows; ++r) {
      const float* src = a.x + (ic + ip + r) * a.ldx + pc;
      for (int64_t p = 0; p < kc; ++p) dst[p * kMr + r] = src[p];
    }
  }
}

// R x 16 tile: C (+)= Ap·Bp over kc, then + bias when given. Each element is one FMA chain
// in K order started from 0 or from C, so splitting K into kc panels changes nothing.
// The r loops are unrolled by pragma for the reason given at ptile_half.
template <int R>
void micro(int64_t kc, const float* ap, const float* bp, float* c, int64_t ldc, int64_t cols,
           bool load_c, const float* bias) {
  const __m256i m0 = tail_mask(cols), m1 = tail_mask(cols - 8);
  __m256 c0[R], c1[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    if (load_c) {
      c0[r] = _mm256_maskload_ps(c + r * ldc, m0);
      c1[r] = _mm256_maskload_ps(c + r * ldc + 8, m1);
    } else {
      c0[r] = _mm256_setzero_ps();
      c1[r] = _mm256_setzero_ps();
    }
  }
  for (int64_t p = 0; p < kc; ++p) {
    const __m256 b0 = _mm256_load_ps(bp + p * kNr), b1 = _mm256_load_ps(bp + p * kNr + 8);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m256 av = _mm256_broadcast_ss(ap + p * kMr + r);
      c0[r] = _mm256_fmadd_ps(av, b0, c0[r]);
      c1[r] = _mm256_fmadd_ps(av, b1, c1[r]);
    }
  }
  if (bias) {
    const __m256 bb0 = _mm256_maskload_ps(bias, m0), bb1 = _mm256_maskload_ps(bias + 8, m1);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      c0[r] = _mm256_add_ps(c0[r], bb0);
      c1[r] = _mm256_add_ps(c1[r], bb1);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    _mm256_maskstore_ps(c + r * ldc, m0, c0[r]);
    _mm256_maskstore_ps(c + r * ldc + 8, m1, c1[r]);
  }
}

using MicroFn = void (*)(int64_t, const float*, const float*, float*, int64_t, int64_t, bool,
                         const float*);
constexpr MicroFn kMicro[kMr + 1] = {nullptr, micro<1>, micro<2>, micro<3>,
                                     micro<4>, micro<5>, micro<6>};

template <DType T>
void gemm_block_t(const GemmArgs& a, int64_t m0, int64_t m1, int64_t n0, int64_t n1,
                  float* scratch) {
  float* ap = scratch;
  float* bp = scratch + kMc * kKc;
  for (int64_t jc = n0; jc < n1; jc += kNc) {
    const int64_t nc = min64(kNc, n1 - jc);
    for (int64_t pc = 0; pc < a.k; pc += kKc) {
      const int64_t kc = min64(kKc, a.k - pc);
      const bool load_c = pc > 0 || a.accumulate;
      const bool last = pc + kc == a.k;
      pack_b<T>(a, jc, nc, pc, kc, bp);
      for (int64_t ic = m0; ic < m1; ic += kMc) {
        const int64_t mc = min64(kMc, m1 - ic);
        pack_a(a, ic, mc, pc, kc, ap);
        for (int64_t jr = 0; jr < nc; jr += kNr) {
          const float* bias = last && a.bias ? a.bias + jc + jr : nullptr;
          for (int64_t ir = 0; ir < mc; ir += kMr) {
            const int64_t rows = min64(kMr, mc - ir);
            kMicro[rows](kc, ap + ir * kc, bp + jr * kc, a.y + (ic + ir) * a.ldy + jc + jr, a.ldy,
                         min64(kNr, nc - jr), load_c, bias);
          }
        }
      }
    }
  }
}

void gemm_block(const GemmArgs& a, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float* scratch) {
  with_weight_type(a.wtype, [&](auto t) { gemm_block_t<decltype(t)::value>(a, m0, m1, n0, n1, scratch); });
}

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
    const __m256 b0 = load_w<T>(bp, p * 32 + off), b1 = load_w<T>(bp, p * 32 + off + 8);
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
        const __m256 b = load_w<T>(bp, (p + s) * 32 + v * 8);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) acc[s][r][v] = _mm256_fmadd_ps(a[r], b, acc[s][r][v]);
      }
    }
  }
  if (p < k) {  // S = 2 and k odd: the last k goes to the even set
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v) {
      const __m256 b = load_w<T>(bp, p * 32 + v * 8);
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
  t.gemv = gemv;
  t.gemm_block = gemm_block;
  t.gemm_scratch_floats = size_t(kMc * kKc + kNc * kKc);
  t.gemv_max_m = 8;
}

}  // namespace tessera::kernels::avx2
