// AVX-512 GEMM, Y = X·Wᵀ: a dot-product path that streams W for decode (small M), and a
// BLIS-style path for larger M (packed panels, an 8x32 register-blocked micro-kernel, cache
// blocking over K, M and N). Every output element is one fixed chain of operations whatever
// block or thread it falls in, so results never depend on the thread count.
// GCC 12's AVX-512 headers trip -W(maybe-)uninitialized on their own _mm512_undefined_ps
// (GCC PR 105593, fixed in 13); the warning is about the header, not this code.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstdint>

#include "../dispatch.hpp"

#ifndef PF_BYTES
#define PF_BYTES 8192
#endif

namespace tessera::kernels::avx512 {
namespace {

constexpr int64_t kMr = 8, kNr = 32;          // micro-tile: 8 rows of X x 32 rows of W
constexpr int64_t kKc = 256, kMc = 192, kNc = 512;  // cache blocks (K panel, A block, B block)

int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
__mmask16 tail_mask(int64_t r) { return r >= 16 ? __mmask16(0xffff) : r <= 0 ? __mmask16(0) : __mmask16((1u << r) - 1u); }

template <DType T>
__m512 load_w(const void* w, int64_t i) {
  if constexpr (T == DType::F32) {
    return _mm512_loadu_ps(static_cast<const float*>(w) + i);
  } else {
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(w) + i));
    if constexpr (T == DType::F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
}

template <DType T>
__m512 load_w_masked(const void* w, int64_t i, __mmask16 m) {
  if constexpr (T == DType::F32) {
    return _mm512_maskz_loadu_ps(m, static_cast<const float*>(w) + i);
  } else {
    const __m256i h = _mm256_maskz_loadu_epi16(m, static_cast<const uint16_t*>(w) + i);
    if constexpr (T == DType::F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
}

template <DType T>
constexpr int64_t wsize() { return T == DType::F32 ? 4 : 2; }

// ---- small M: dot products along K, R rows of X against C rows of W at a time ----

// R rows of X against W rows j0..j0+C over K in [k0, k1): vector partial sums along K,
// reduced per element and added to Y. Per element: y = (accumulate ? y : 0), then + the
// sum of each K chunk in order, then + bias; the chunks depend only on R, never on threads.
template <DType T, int R, int C>
void dot_tile(const GemmArgs& a, int64_t m0, int64_t j0, int64_t k0, int64_t k1) {
  __m512 acc[R][C];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
  const int64_t k = a.k;
  // W streams from DRAM and the hardware prefetcher alone leaves bandwidth unused. Whole
  // rows: prefetch 1 KiB further along the row. K chunks: the same chunk two tiles ahead.
  const int64_t pf = k1 - k0 == k ? 1024 : 2 * C * k * wsize<T>();
  int64_t p = k0;
  for (; p + 16 <= k1; p += 16) {
    __m512 wv[C];
    for (int c = 0; c < C; ++c) wv[c] = load_w<T>(a.w, (j0 + c) * k + p);
    for (int c = 0; c < C; ++c)
      _mm_prefetch(static_cast<const char*>(a.w) + ((j0 + c) * k + p) * wsize<T>() + pf, _MM_HINT_T0);
    for (int r = 0; r < R; ++r) {
      const __m512 xv = _mm512_loadu_ps(a.x + (m0 + r) * a.ldx + p);
      for (int c = 0; c < C; ++c) acc[r][c] = _mm512_fmadd_ps(xv, wv[c], acc[r][c]);
    }
  }
  if (p < k1) {
    const __mmask16 m = tail_mask(k1 - p);
    __m512 wv[C];
    for (int c = 0; c < C; ++c) wv[c] = load_w_masked<T>(a.w, (j0 + c) * k + p, m);
    for (int r = 0; r < R; ++r) {
      const __m512 xv = _mm512_maskz_loadu_ps(m, a.x + (m0 + r) * a.ldx + p);
      for (int c = 0; c < C; ++c) acc[r][c] = _mm512_fmadd_ps(xv, wv[c], acc[r][c]);
    }
  }
  const bool first = k0 == 0, last = k1 == k;
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) {
      float* out = a.y + (m0 + r) * a.ldy + j0 + c;
      float v = first ? (a.accumulate ? *out : 0.0f) : *out;
      v += _mm512_reduce_add_ps(acc[r][c]);
      if (last && a.bias) v += a.bias[j0 + c];
      *out = v;
    }
}

// C columns per tile for R rows: as many as the 32 registers allow (R*C accumulators).
// For R > 2, K is cut into chunks that keep the R rows of X in L1 (R x chunk x 4 bytes =
// 16 KiB), so X loads do not all come from L2; with the chunk-ahead prefetch in dot_tile
// this took M = 8 from 43 to 54 GFLOP/s (f32, 4096x4096; docs/PERFORMANCE.md).
template <DType T, int R>
void dot_rows(const GemmArgs& a, int64_t m0, int64_t n0, int64_t n1) {
  constexpr int C = R <= 2 ? 8 : R <= 4 ? 4 : 2;
  constexpr int64_t kChunk = R <= 2 ? int64_t(1) << 40 : 4096 / R / 16 * 16;
  for (int64_t k0 = 0; k0 < a.k; k0 += kChunk) {
    const int64_t k1 = min64(a.k, k0 + kChunk);
    int64_t j = n0;
    for (; j + C <= n1; j += C) dot_tile<T, R, C>(a, m0, j, k0, k1);
    for (; j < n1; ++j) dot_tile<T, R, 1>(a, m0, j, k0, k1);
  }
}

template <DType T>
void gemv_t(const GemmArgs& a, int64_t n0, int64_t n1) {
  for (int64_t m0 = 0; m0 < a.m; m0 += 8) {
    switch (min64(8, a.m - m0)) {
      case 1: dot_rows<T, 1>(a, m0, n0, n1); break;
      case 2: dot_rows<T, 2>(a, m0, n0, n1); break;
      case 3: dot_rows<T, 3>(a, m0, n0, n1); break;
      case 4: dot_rows<T, 4>(a, m0, n0, n1); break;
      case 5: dot_rows<T, 5>(a, m0, n0, n1); break;
      case 6: dot_rows<T, 6>(a, m0, n0, n1); break;
      case 7: dot_rows<T, 7>(a, m0, n0, n1); break;
      default: dot_rows<T, 8>(a, m0, n0, n1); break;
    }
  }
}

void gemv(const GemmArgs& a, int64_t n0, int64_t n1) {
  with_weight_type(a.wtype, [&](auto t) { gemv_t<decltype(t)::value>(a, n0, n1); });
}

// ---- larger M: packed panels and a register-blocked micro-kernel ----

// In-register 16x16 transpose: r[i] holds row i on entry and column i on exit.
void transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int g = 0; g < 4; ++g) {
    const __m512d a = _mm512_castps_pd(t[4 * g]), b = _mm512_castps_pd(t[4 * g + 1]),
                  c = _mm512_castps_pd(t[4 * g + 2]), d = _mm512_castps_pd(t[4 * g + 3]);
    r[4 * g] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    r[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    r[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    r[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
  // Now lane l of r[4g + q] holds rows 4g..4g+3 of column 4l + q: gather the lanes.
  for (int q = 0; q < 4; ++q) {
    const __m512 u0 = _mm512_shuffle_f32x4(r[q], r[4 + q], 0x88), u1 = _mm512_shuffle_f32x4(r[q], r[4 + q], 0xdd);
    const __m512 v0 = _mm512_shuffle_f32x4(r[8 + q], r[12 + q], 0x88),
                 v1 = _mm512_shuffle_f32x4(r[8 + q], r[12 + q], 0xdd);
    t[q] = _mm512_shuffle_f32x4(u0, v0, 0x88);
    t[8 + q] = _mm512_shuffle_f32x4(u0, v0, 0xdd);
    t[4 + q] = _mm512_shuffle_f32x4(u1, v1, 0x88);
    t[12 + q] = _mm512_shuffle_f32x4(u1, v1, 0xdd);
  }
  for (int i = 0; i < 16; ++i) r[i] = t[i];
}

// Bp[panel][k][32] <- W[jc + panel*32 + j][pc + k], converted to f32, zero past nc. W rows
// are contiguous along k, so 16x16 blocks are loaded row-wise and transposed in registers;
// element-wise strided stores made packing a third of the time at M = 64.
template <DType T>
void pack_b(const GemmArgs& a, int64_t jc, int64_t nc, int64_t pc, int64_t kc, float* bp) {
  for (int64_t jp = 0; jp < nc; jp += kNr) {
    float* dst = bp + jp * kc;
    for (int64_t h = 0; h < 2; ++h) {
      const int64_t rows = nc - jp - 16 * h;  // valid W rows in this half (may be <= 0)
      for (int64_t p = 0; p < kc; p += 16) {
        const int64_t kl = min64(16, kc - p);
        const __mmask16 m = tail_mask(kl);
        __m512 r[16];
        for (int64_t i = 0; i < 16; ++i)
          r[i] = i < rows ? load_w_masked<T>(a.w, (jc + jp + 16 * h + i) * a.k + pc + p, m)
                          : _mm512_setzero_ps();
        transpose16(r);
        for (int64_t i = 0; i < kl; ++i) _mm512_store_ps(dst + (p + i) * kNr + 16 * h, r[i]);
      }
    }
  }
}

// Ap[panel][k][8] <- X[ic + panel*8 + r][pc + k]; rows past mc are never read.
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

// R x 32 tile: C (+)= Ap·Bp over kc, then + bias when given. Each element is one FMA chain
// in K order started from 0 or from C, so splitting K into kc panels changes nothing.
template <int R>
void micro(int64_t kc, const float* ap, const float* bp, float* c, int64_t ldc, int64_t cols,
           bool load_c, const float* bias) {
  const __mmask16 m0 = tail_mask(cols), m1 = tail_mask(cols - 16);
  __m512 c0[R], c1[R];
  for (int r = 0; r < R; ++r) {
    if (load_c) {
      c0[r] = _mm512_maskz_loadu_ps(m0, c + r * ldc);
      c1[r] = _mm512_maskz_loadu_ps(m1, c + r * ldc + 16);
    } else {
      c0[r] = _mm512_setzero_ps();
      c1[r] = _mm512_setzero_ps();
    }
  }
  for (int64_t p = 0; p < kc; ++p) {
    const __m512 b0 = _mm512_load_ps(bp + p * kNr), b1 = _mm512_load_ps(bp + p * kNr + 16);
    for (int r = 0; r < R; ++r) {
      const __m512 av = _mm512_set1_ps(ap[p * kMr + r]);
      c0[r] = _mm512_fmadd_ps(av, b0, c0[r]);
      c1[r] = _mm512_fmadd_ps(av, b1, c1[r]);
    }
  }
  if (bias) {
    const __m512 bb0 = _mm512_maskz_loadu_ps(m0, bias), bb1 = _mm512_maskz_loadu_ps(m1, bias + 16);
    for (int r = 0; r < R; ++r) {
      c0[r] = _mm512_add_ps(c0[r], bb0);
      c1[r] = _mm512_add_ps(c1[r], bb1);
    }
  }
  for (int r = 0; r < R; ++r) {
    _mm512_mask_storeu_ps(c + r * ldc, m0, c0[r]);
    _mm512_mask_storeu_ps(c + r * ldc + 16, m1, c1[r]);
  }
}

using MicroFn = void (*)(int64_t, const float*, const float*, float*, int64_t, int64_t, bool,
                         const float*);
constexpr MicroFn kMicro[kMr + 1] = {nullptr,  micro<1>, micro<2>, micro<3>, micro<4>,
                                     micro<5>, micro<6>, micro<7>, micro<8>};

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

// R x 32 register tile over a pre-packed panel slice: 2R accumulators, 2 B vectors per k
// (converted from f16/bf16 in registers), A broadcast from memory. R <= 14 keeps
// 2R + 2 <= 30 of the 32 zmm registers busy. No masks in the loop: the caller hands in a
// full tile (edge tiles go through a local buffer).
template <DType T, int R>
void ptile(int64_t kc, const float* ap, const void* bp, float* c, int64_t ldc, bool load_c, const float* bias) {
  constexpr int64_t kMrP = 14;
  __m512 c0[R], c1[R];
  for (int r = 0; r < R; ++r) {
    if (load_c) {
      c0[r] = _mm512_loadu_ps(c + r * ldc);
      c1[r] = _mm512_loadu_ps(c + r * ldc + 16);
    } else {
      c0[r] = _mm512_setzero_ps();
      c1[r] = _mm512_setzero_ps();
    }
  }
  const char* bb = static_cast<const char*>(bp);
  for (int64_t p = 0; p < kc; ++p) {
    // Few rows: W streams from DRAM (decode); fetch ~2 KiB ahead, every line of the panel.
    if constexpr (R <= 4) {
      _mm_prefetch(bb + (p * 32 + 512) * wsize<T>(), _MM_HINT_T0);
      if constexpr (wsize<T>() == 4) _mm_prefetch(bb + (p * 32 + 512) * 4 + 64, _MM_HINT_T0);
    }
    const __m512 b0 = load_w<T>(bp, p * 32), b1 = load_w<T>(bp, p * 32 + 16);
    const float* a = ap + p * kMrP;
    for (int r = 0; r < R; ++r) {
      const __m512 av = _mm512_set1_ps(a[r]);
      c0[r] = _mm512_fmadd_ps(av, b0, c0[r]);
      c1[r] = _mm512_fmadd_ps(av, b1, c1[r]);
    }
  }
  if (bias) {
    const __m512 bb0 = _mm512_loadu_ps(bias), bb1 = _mm512_loadu_ps(bias + 16);
    for (int r = 0; r < R; ++r) {
      c0[r] = _mm512_add_ps(c0[r], bb0);
      c1[r] = _mm512_add_ps(c1[r], bb1);
    }
  }
  for (int r = 0; r < R; ++r) {
    _mm512_storeu_ps(c + r * ldc, c0[r]);
    _mm512_storeu_ps(c + r * ldc + 16, c1[r]);
  }
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
    case 6: return ptile<T, 6>(kc, ap, bp, c, ldc, load_c, bias);
    case 7: return ptile<T, 7>(kc, ap, bp, c, ldc, load_c, bias);
    case 8: return ptile<T, 8>(kc, ap, bp, c, ldc, load_c, bias);
    case 9: return ptile<T, 9>(kc, ap, bp, c, ldc, load_c, bias);
    case 10: return ptile<T, 10>(kc, ap, bp, c, ldc, load_c, bias);
    case 11: return ptile<T, 11>(kc, ap, bp, c, ldc, load_c, bias);
    case 12: return ptile<T, 12>(kc, ap, bp, c, ldc, load_c, bias);
    case 13: return ptile<T, 13>(kc, ap, bp, c, ldc, load_c, bias);
    default: return ptile<T, 14>(kc, ap, bp, c, ldc, load_c, bias);
  }
}

void packed_tile(int64_t rows, int64_t kc, const float* ap, const void* bp, DType wt, float* c, int64_t ldc,
                 bool load_c, const float* bias) {
  with_weight_type(wt, [&](auto t) { packed_tile_t<decltype(t)::value>(rows, kc, ap, bp, c, ldc, load_c, bias); });
}

// Decode (M <= 4, whole K per call): two interleaved accumulator sets (even / odd k) so that
// one or two rows still have 4-8 independent FMA chains, and one sequential stream per
// thread over consecutive panels (each panel is 32*K contiguous values), prefetched ~2 KiB
// ahead. y = (accumulate ? y : 0) + (even + odd) + bias.
constexpr int64_t kPfBytes = PF_BYTES;
template <DType T, int R>
void pgemv(int64_t k, const float* ap, const void* bp, float* c, int64_t ldc, bool accumulate, const float* bias) {
  constexpr int64_t kMrP = 14;
  __m512 e0[R], e1[R], o0[R], o1[R];
  for (int r = 0; r < R; ++r) e0[r] = e1[r] = o0[r] = o1[r] = _mm512_setzero_ps();
  const char* bb = static_cast<const char*>(bp);
  int64_t p = 0;
  for (; p + 2 <= k; p += 2) {
    const char* pf = bb + p * 32 * wsize<T>() + kPfBytes;
    _mm_prefetch(pf, _MM_HINT_T0);
    _mm_prefetch(pf + 64, _MM_HINT_T0);
    if constexpr (wsize<T>() == 4) {
      _mm_prefetch(pf + 128, _MM_HINT_T0);
      _mm_prefetch(pf + 192, _MM_HINT_T0);
    }
    const __m512 b0 = load_w<T>(bp, p * 32), b1 = load_w<T>(bp, p * 32 + 16);
    const __m512 d0 = load_w<T>(bp, p * 32 + 32), d1 = load_w<T>(bp, p * 32 + 48);
    for (int r = 0; r < R; ++r) {
      const __m512 av = _mm512_set1_ps(ap[p * kMrP + r]), aw = _mm512_set1_ps(ap[(p + 1) * kMrP + r]);
      e0[r] = _mm512_fmadd_ps(av, b0, e0[r]);
      e1[r] = _mm512_fmadd_ps(av, b1, e1[r]);
      o0[r] = _mm512_fmadd_ps(aw, d0, o0[r]);
      o1[r] = _mm512_fmadd_ps(aw, d1, o1[r]);
    }
  }
  if (p < k) {
    const __m512 b0 = load_w<T>(bp, p * 32), b1 = load_w<T>(bp, p * 32 + 16);
    for (int r = 0; r < R; ++r) {
      const __m512 av = _mm512_set1_ps(ap[p * kMrP + r]);
      e0[r] = _mm512_fmadd_ps(av, b0, e0[r]);
      e1[r] = _mm512_fmadd_ps(av, b1, e1[r]);
    }
  }
  for (int r = 0; r < R; ++r) {
    __m512 v0 = _mm512_add_ps(e0[r], o0[r]), v1 = _mm512_add_ps(e1[r], o1[r]);
    if (accumulate) {
      v0 = _mm512_add_ps(_mm512_loadu_ps(c + r * ldc), v0);
      v1 = _mm512_add_ps(_mm512_loadu_ps(c + r * ldc + 16), v1);
    }
    if (bias) {
      v0 = _mm512_add_ps(v0, _mm512_loadu_ps(bias));
      v1 = _mm512_add_ps(v1, _mm512_loadu_ps(bias + 16));
    }
    _mm512_storeu_ps(c + r * ldc, v0);
    _mm512_storeu_ps(c + r * ldc + 16, v1);
  }
}

template <DType T>
void packed_gemv_t(int64_t rows, int64_t k, const float* ap, const void* bp, float* c, int64_t ldc, bool accumulate,
                   const float* bias) {
  switch (rows) {
    case 1: return pgemv<T, 1>(k, ap, bp, c, ldc, accumulate, bias);
    case 2: return pgemv<T, 2>(k, ap, bp, c, ldc, accumulate, bias);
    case 3: return pgemv<T, 3>(k, ap, bp, c, ldc, accumulate, bias);
    default: return pgemv<T, 4>(k, ap, bp, c, ldc, accumulate, bias);
  }
}

void packed_gemv(int64_t rows, int64_t k, const float* ap, const void* bp, DType wt, float* c, int64_t ldc,
                 bool accumulate, const float* bias) {
  with_weight_type(wt, [&](auto t) { packed_gemv_t<decltype(t)::value>(rows, k, ap, bp, c, ldc, accumulate, bias); });
}

// A micro-panel (14 rows) by in-register 16x16 transposes: 16 row loads, the transpose, 16
// masked 14-wide stores per 16 k; the scalar strided copy cost ~6 cycles a value (10% of an
// encoder forward pass).
void pack_a14(const float* x, int64_t ldx, int64_t rows, int64_t kc, float* dst) {
  constexpr int64_t kMrP = 14;
  const __mmask16 store_mask = __mmask16((1u << kMrP) - 1u);
  for (int64_t p = 0; p < kc; p += 16) {
    const int64_t kl = min64(16, kc - p);
    const __mmask16 m = tail_mask(kl);
    __m512 r[16];
    for (int64_t i = 0; i < 16; ++i) r[i] = i < rows ? _mm512_maskz_loadu_ps(m, x + i * ldx + p) : _mm512_setzero_ps();
    transpose16(r);
    for (int64_t i = 0; i < kl; ++i) _mm512_mask_storeu_ps(dst + (p + i) * kMrP, store_mask, r[i]);
  }
}

}  // namespace

void fill_gemm(KernelTable& t) {
  t.pack_a = pack_a14;
  t.packed_gemv = packed_gemv;
  t.packed_tile = packed_tile;
  t.packed_mr = 14;
  t.packed_kc = 256;
  t.gemv = gemv;
  t.gemm_block = gemm_block;
  t.gemm_scratch_floats = size_t(kMc * kKc + kNc * kKc);
  t.gemv_max_m = 8;
}

}  // namespace tessera::kernels::avx512
