// AVX-512 GEMM tiles over pre-packed weights (PackedWeight panels [K][32] in W's dtype; the
// driver is gemm_packed in kernels.cpp): a 14x32 register tile for prefill, a streaming decode
// tile, and the A micro-panel packer. Every output element is one fixed chain of operations
// whatever block or thread it falls in, so results never depend on the thread count.
// GCC 12's AVX-512 headers trip -W(maybe-)uninitialized on their own _mm512_undefined_ps
// (GCC PR 105593, fixed in 13); the warning is about the header, not this code.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <cstdint>
#include <utility>

#include "avx512_vec.hpp"

#ifndef PF_BYTES
#define PF_BYTES 8192
#endif

namespace tessera::kernels::avx512 {
namespace {

int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

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

// ---- pre-packed W (PackedWeight): panels [K][32] in W's dtype, A packed per call ----

constexpr int64_t kPackedMr = 14;
constexpr bool kTilePrefetch = true;
#include "../packed_tile_impl.inc"

// Decode (M <= 4, whole K per call): two interleaved accumulator sets (even / odd k) so that
// one or two rows still have 4-8 independent FMA chains, and one sequential stream per
// thread over consecutive panels (each panel is 32*K contiguous values), prefetched ~2 KiB
// ahead. y = (accumulate ? y : 0) + (even + odd) + bias.
constexpr int64_t kPfBytes = PF_BYTES;
template <DType T, int R>
void pgemv(int64_t k, const float* ap, const void* bp, float* c, int64_t ldc, bool accumulate, const float* bias) {
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
    const __m512 b0 = v_load_w<T>(bp, p * 32), b1 = v_load_w<T>(bp, p * 32 + 16);
    const __m512 d0 = v_load_w<T>(bp, p * 32 + 32), d1 = v_load_w<T>(bp, p * 32 + 48);
    for (int r = 0; r < R; ++r) {
      const __m512 av = _mm512_set1_ps(ap[p * kPackedMr + r]), aw = _mm512_set1_ps(ap[(p + 1) * kPackedMr + r]);
      e0[r] = _mm512_fmadd_ps(av, b0, e0[r]);
      e1[r] = _mm512_fmadd_ps(av, b1, e1[r]);
      o0[r] = _mm512_fmadd_ps(aw, d0, o0[r]);
      o1[r] = _mm512_fmadd_ps(aw, d1, o1[r]);
    }
  }
  if (p < k) {
    const __m512 b0 = v_load_w<T>(bp, p * 32), b1 = v_load_w<T>(bp, p * 32 + 16);
    for (int r = 0; r < R; ++r) {
      const __m512 av = _mm512_set1_ps(ap[p * kPackedMr + r]);
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
  const __mmask16 store_mask = __mmask16((1u << kPackedMr) - 1u);
  for (int64_t p = 0; p < kc; p += 16) {
    const int64_t kl = min64(16, kc - p);
    const __mmask16 m = tail_mask(kl);
    __m512 r[16];
    for (int64_t i = 0; i < 16; ++i) r[i] = i < rows ? _mm512_maskz_loadu_ps(m, x + i * ldx + p) : _mm512_setzero_ps();
    transpose16(r);
    for (int64_t i = 0; i < kl; ++i) _mm512_mask_storeu_ps(dst + (p + i) * kPackedMr, store_mask, r[i]);
  }
}

}  // namespace

void fill_gemm(KernelTable& t) {
  t.pack_a = pack_a14;
  t.packed_gemv = packed_gemv;
  t.packed_tile = packed_tile;
  t.packed_mr = kPackedMr;
  t.packed_kc = 256;
}

}  // namespace tessera::kernels::avx512
